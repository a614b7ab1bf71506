//! The `Node` gRPC service: storage nodes check in with a signed info
//! message; the satellite dials back `Contact.Ping` with a random challenge
//! and records the node online only if the same node id answers.
//!
//! `Settle` answers UNIMPLEMENTED until the accounting issue adds order
//! settlement.

use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use satstore_common::time::now_unix;
use satstore_common::{NodeId, PublicKey, SignedMessage};
use satstore_proto::node::node_server::Node;
use satstore_proto::node::{
    CheckInInfo, CheckInRequest, CheckInResponse, SettleRequest, SettleResponse,
};
use satstore_proto::piecestore::PingRequest;
use satstore_proto::piecestore::contact_client::ContactClient;
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument;

use crate::error::{SatelliteError, invalid};
use crate::metrics::SatelliteMetrics;
use crate::store::Store;
use crate::store::nodes::CheckIn;

/// Largest accepted difference between a check-in timestamp and our clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 600;

/// Check-in handling shared by the gRPC service.
#[derive(Clone)]
pub struct Contact {
    store: Store,
    metrics: SatelliteMetrics,
    dial_timeout: Duration,
    online_window: Duration,
    min_difficulty: u32,
}

/// Result of a check-in whose envelope was valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckInOutcome {
    /// The node that checked in.
    pub node_id: NodeId,
    /// Why the dial-back failed, if it did.
    pub ping_error: Option<String>,
}

impl Contact {
    /// Check-in handling over `store`.
    pub fn new(
        store: Store,
        metrics: SatelliteMetrics,
        dial_timeout: Duration,
        online_window: Duration,
        min_difficulty: u32,
    ) -> Self {
        Contact {
            store,
            metrics,
            dial_timeout,
            online_window,
            min_difficulty,
        }
    }

    /// Verifies a signed check-in, dials the node back and records the result.
    pub async fn check_in(&self, info: SignedMessage) -> Result<CheckInOutcome, SatelliteError> {
        let key = PublicKey::from_slice(&info.signer)
            .map_err(|e| invalid(format!("check-in signer: {e}")))?;
        let node_id = key.node_id();
        let payload = info.verify_bytes_with_key(&key).map_err(|e| {
            SatelliteError::Unauthenticated(format!("check-in signature does not verify: {e}"))
        })?;
        let ci = CheckInInfo::decode(payload)
            .map_err(|e| invalid(format!("check-in info does not decode: {e}")))?;
        let now = now_unix();
        let skew = (now - ci.timestamp_unix).abs();
        if skew > MAX_CLOCK_SKEW_SECS {
            return Err(invalid(format!(
                "check-in timestamp is {skew} s away from the satellite clock (max {MAX_CLOCK_SKEW_SECS} s); fix the node's clock"
            )));
        }
        if node_id.difficulty() < self.min_difficulty {
            return Err(SatelliteError::PermissionDenied(format!(
                "node id difficulty {} is below the required {}",
                node_id.difficulty(),
                self.min_difficulty
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
        let free_disk = i64::try_from(ci.free_disk).unwrap_or(i64::MAX);
        let ping = tokio::time::timeout(self.dial_timeout, ping(&address, node_id))
            .await
            .unwrap_or_else(|_| Err(format!("dial-back to {address} timed out")));
        let ping_error = match ping {
            Ok(()) => {
                let c = CheckIn {
                    id: node_id,
                    address,
                    public_key: key.0.to_vec(),
                    free_disk,
                    version: ci.version,
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

    async fn update_gauges(&self) {
        match self.store.online_nodes(self.online_window).await {
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

/// Dials `Contact.Ping` at `address` and checks that `expected` signed the
/// challenge.
async fn ping(address: &str, expected: NodeId) -> Result<(), String> {
    let mut client = ContactClient::connect(format!("http://{address}"))
        .await
        .map_err(|e| format!("dial {address}: {e}"))?;
    let challenge: [u8; 32] = rand::random();
    let resp = client
        .ping(PingRequest {
            challenge: challenge.to_vec(),
        })
        .await
        .map_err(|e| format!("ping {address}: {}", e.message()))?
        .into_inner();
    let proof = resp.proof.ok_or("ping answer carries no proof")?;
    let payload = satstore_common::SignedMessage::from(proof)
        .verify_bytes(&expected)
        .map_err(|e| format!("ping proof: {e}"))?
        .to_vec();
    if payload != satstore_common::signing::ping_proof_payload(&challenge) {
        return Err("ping proof does not sign our challenge".into());
    }
    Ok(())
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
        let info = request
            .into_inner()
            .info
            .ok_or_else(|| Status::invalid_argument("check-in carries no signed info"))?;
        let info = satstore_common::SignedMessage::from(info);
        let node_id = PublicKey::from_slice(&info.signer)
            .map(|k| k.node_id().to_string())
            .unwrap_or_default();
        let span = tracing::info_span!("check_in", node_id = %node_id);
        let outcome = self.contact.check_in(info).instrument(span).await?;
        Ok(Response::new(CheckInResponse {
            ping_ok: outcome.ping_error.is_none(),
            ping_error: outcome.ping_error.unwrap_or_default(),
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
