//! The `Node` gRPC service: storage nodes check in with a signed
//! [`CheckInInfo`]; the satellite dials back `Contact.Ping` over TLS pinned
//! to the node's id and records the node online only if that node answers.
//!
//! What a check-in must be: signed under the check-in domain by the node's
//! key and decoded strictly; sent over a TLS connection authenticated with
//! that same key (unless insecure); timestamped within the clock skew and
//! later than the node's last accepted check-in (no replays); from a node
//! id with enough proof of work and, if configured, on the allowlist; and
//! within the per-address and per-node rates. Failures are answered with
//! generic messages (details go to the log), so the dial-back cannot be
//! used to probe other hosts' ports.
//!
//! `Settle` answers UNIMPLEMENTED until the accounting issue adds order
//! settlement.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use satstore_common::contact::{CheckInInfo, PING_CHALLENGE_LEN, PingProof};
use satstore_common::signing::SignatureError;
use satstore_common::time::{now_unix, now_unix_ms};
use satstore_common::{NodeId, NodeUrl, PublicKey, SignedMessage};
use satstore_proto::node::node_server::Node;
use satstore_proto::node::{CheckInRequest, CheckInResponse, SettleRequest, SettleResponse};
use satstore_proto::piecestore::PingRequest;
use satstore_proto::piecestore::contact_client::ContactClient;
use satstore_transport::{Dialer, PeerInfo, Security};
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument;

use crate::error::{SatelliteError, invalid};
use crate::metrics::SatelliteMetrics;
use crate::store::Store;
use crate::store::nodes::CheckIn;
use satstore_common::ratelimit::RateLimiter;

/// Largest accepted difference between a check-in timestamp and our clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 600;

/// What the caller of a failed dial-back is told; the reason is logged.
pub const PING_FAILED: &str = "the satellite could not verify the node at its announced address";

/// Who may check in, and how often.
#[derive(Clone, Debug)]
pub struct ContactPolicy {
    /// Timeout of the dial-back.
    pub dial_timeout: Duration,
    /// Nodes seen within this window count as online (for the gauges).
    pub online_window: Duration,
    /// Trailing zero bits a node id needs (proof of work).
    pub min_difficulty: u32,
    /// Only these node ids may join, if set.
    pub allowlist: Option<HashSet<NodeId>>,
    /// Check-ins per minute from one IP address.
    pub rate_per_ip: u32,
    /// Check-ins per minute from one node id.
    pub rate_per_node: u32,
}

/// Check-in handling shared by the gRPC service.
pub struct Contact {
    store: Store,
    metrics: SatelliteMetrics,
    dialer: Dialer,
    policy: ContactPolicy,
    per_ip: RateLimiter<IpAddr>,
    per_node: RateLimiter<NodeId>,
}

/// Result of a check-in whose envelope was valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckInOutcome {
    /// The node that checked in.
    pub node_id: NodeId,
    /// Why the dial-back failed, if it did (for the log, not the caller).
    pub ping_error: Option<String>,
}

fn unauthenticated(m: &str) -> SatelliteError {
    SatelliteError::Unauthenticated(m.to_string())
}

fn slow_down(what: &str, wait: Duration) -> SatelliteError {
    SatelliteError::RateLimited(format!(
        "too many check-ins from this {what}; retry in {} s",
        wait.as_secs().max(1)
    ))
}

impl Contact {
    /// Check-in handling over `store`, dialing back with `dialer`.
    pub fn new(
        store: Store,
        metrics: SatelliteMetrics,
        dialer: Dialer,
        policy: ContactPolicy,
    ) -> Self {
        let burst = |per_minute: u32| (per_minute / 6).max(5);
        Contact {
            per_ip: RateLimiter::new(policy.rate_per_ip, burst(policy.rate_per_ip)),
            per_node: RateLimiter::new(policy.rate_per_node, burst(policy.rate_per_node)),
            store,
            metrics,
            dialer,
            policy,
        }
    }

    /// Verifies a signed check-in that arrived over the connection `peer`,
    /// dials the node back and records the result.
    pub async fn check_in(
        &self,
        info: SignedMessage,
        peer: Option<&PeerInfo>,
    ) -> Result<CheckInOutcome, SatelliteError> {
        if let Some(ip) = peer.and_then(|p| p.remote_addr).map(|a| a.ip()) {
            self.per_ip.check(ip).map_err(|w| slow_down("address", w))?;
        }
        let key = PublicKey::from_slice(&info.signer)
            .map_err(|e| invalid(format!("check-in signer: {e}")))?;
        let node_id = key.node_id();
        let ci: CheckInInfo = info.verify_with_key(&key).map_err(|e| match e {
            SignatureError::Decode(d) => invalid(format!("check-in does not decode: {d}")),
            _ => unauthenticated("check-in signature does not verify"),
        })?;
        if self.dialer.security() == Security::Tls && peer.and_then(|p| p.peer_id) != Some(node_id)
        {
            return Err(unauthenticated(
                "a check-in must come over a TLS connection authenticated with the node's own identity",
            ));
        }
        if node_id.difficulty() < self.policy.min_difficulty {
            return Err(SatelliteError::PermissionDenied(format!(
                "node id difficulty {} is below the required {}",
                node_id.difficulty(),
                self.policy.min_difficulty
            )));
        }
        if let Some(allow) = &self.policy.allowlist
            && !allow.contains(&node_id)
        {
            return Err(SatelliteError::PermissionDenied(
                "this node is not on the satellite's allowlist".into(),
            ));
        }
        self.per_node
            .check(node_id)
            .map_err(|w| slow_down("node", w))?;
        let now_ms = now_unix_ms();
        let skew = (now_ms - ci.timestamp_ms).abs() / 1000;
        if skew > MAX_CLOCK_SKEW_SECS {
            return Err(invalid(format!(
                "check-in timestamp is {skew} s away from the satellite clock (max {MAX_CLOCK_SKEW_SECS} s); fix the node's clock"
            )));
        }
        let address = ci.address.trim().to_string();
        match address.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {}
            _ => {
                return Err(invalid(format!(
                    "check-in address {address:?} is not host:port"
                )));
            }
        }
        if !self.store.claim_check_in(&node_id, ci.timestamp_ms).await? {
            return Err(invalid(
                "check-in is not newer than the node's last accepted one (a replay?)",
            ));
        }
        let url = NodeUrl {
            id: node_id,
            address: address.clone(),
        };
        let ping = tokio::time::timeout(self.policy.dial_timeout, self.ping(&url))
            .await
            .unwrap_or_else(|_| Err(format!("dial-back to {address} timed out")));
        let now = now_unix();
        let ping_error = match ping {
            Ok(()) => {
                let c = CheckIn {
                    id: node_id,
                    address,
                    public_key: key.0.to_vec(),
                    free_disk: i64::try_from(ci.free_disk).unwrap_or(i64::MAX),
                    version: ci.version,
                    check_in_ms: ci.timestamp_ms,
                };
                self.store.record_check_in(&c, now).await?;
                tracing::debug!(node_id = %node_id, "node checked in");
                None
            }
            Err(reason) => {
                self.store.record_contact_failure(&node_id, now).await?;
                tracing::info!(node_id = %node_id, reason = %reason, "check-in dial-back failed");
                Some(reason)
            }
        };
        self.update_gauges().await;
        Ok(CheckInOutcome {
            node_id,
            ping_error,
        })
    }

    /// Dials `Contact.Ping` at `url` (TLS pinned to its id) and checks that
    /// the node signed our random challenge.
    async fn ping(&self, url: &NodeUrl) -> Result<(), String> {
        let channel = self.dialer.dial(url).await.map_err(|e| e.to_string())?;
        let challenge: [u8; PING_CHALLENGE_LEN] = rand::random();
        let resp = ContactClient::new(channel)
            .ping(PingRequest {
                challenge: challenge.to_vec(),
            })
            .await
            .map_err(|e| format!("ping {}: {}", url.address, e.message()))?
            .into_inner();
        let proof = resp.proof.ok_or("ping answer carries no proof")?;
        let proof: PingProof = SignedMessage::from(proof)
            .verify(&url.id)
            .map_err(|e| format!("ping proof: {e}"))?;
        if proof.challenge != challenge {
            return Err("ping proof does not sign our challenge".into());
        }
        Ok(())
    }

    async fn update_gauges(&self) {
        match self.store.online_nodes(self.policy.online_window).await {
            Ok(n) => {
                self.metrics.nodes_online.set(n.len() as i64);
            }
            Err(e) => tracing::warn!(error = %e, "count online nodes"),
        }
        match self.store.node_count().await {
            Ok(n) => {
                self.metrics.nodes_total.set(n);
            }
            Err(e) => tracing::warn!(error = %e, "count nodes"),
        }
    }
}

/// The tonic service wrapping [`Contact`].
#[derive(Clone)]
pub struct NodeService {
    contact: Arc<Contact>,
}

impl NodeService {
    /// Serves check-ins with `contact`.
    pub fn new(contact: Arc<Contact>) -> Self {
        NodeService { contact }
    }
}

#[tonic::async_trait]
impl Node for NodeService {
    async fn check_in(
        &self,
        request: Request<CheckInRequest>,
    ) -> Result<Response<CheckInResponse>, Status> {
        let peer = PeerInfo::of(&request).cloned();
        let info = request
            .into_inner()
            .info
            .ok_or_else(|| invalid("check-in carries no signed info"))?;
        let info = SignedMessage::from(info);
        let node_id = PublicKey::from_slice(&info.signer)
            .map(|k| k.node_id().to_string())
            .unwrap_or_default();
        let span = tracing::info_span!("check_in", node_id = %node_id);
        let outcome = self
            .contact
            .check_in(info, peer.as_ref())
            .instrument(span)
            .await?;
        Ok(Response::new(CheckInResponse {
            ping_ok: outcome.ping_error.is_none(),
            ping_error: if outcome.ping_error.is_some() {
                PING_FAILED.to_string()
            } else {
                String::new()
            },
        }))
    }

    /// Order settlement arrives with the accounting issue.
    async fn settle(
        &self,
        _request: Request<Streaming<SettleRequest>>,
    ) -> Result<Response<SettleResponse>, Status> {
        Err(SatelliteError::Unimplemented(
            "order settlement arrives with the accounting issue".into(),
        )
        .into())
    }
}

#[cfg(test)]
mod tests;
