//! Best-effort piece deletion after metadata is gone: signs DELETE limits
//! and calls `Piecestore.Delete` on the holders in background tasks.
//! Failures are only logged; garbage collection (a later issue) reclaims
//! whatever is left.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use satstore_common::orders::PieceAction;
use satstore_common::signing::SigningKeyPair;
use satstore_common::time::now_unix;
use satstore_common::{NodeId, NodeUrl, SignedMessage};
use satstore_proto::piecestore::DeleteRequest;
use satstore_proto::piecestore::piecestore_client::PiecestoreClient;
use satstore_transport::Dialer;
use tokio::task::JoinSet;

use crate::orders::{LimitBatch, LimitSpec, OrderSigner};
use crate::store::PieceRef;
use crate::store::Store;

/// Spawns and tracks piece-deletion tasks.
#[derive(Clone)]
pub struct PieceDeleter {
    store: Store,
    signer: Arc<OrderSigner>,
    dialer: Dialer,
    timeout: Duration,
    tasks: Arc<Mutex<JoinSet<()>>>,
}

impl PieceDeleter {
    /// A deleter signing with `signer`, dialing with `dialer` and giving
    /// each node `timeout`.
    pub fn new(store: Store, signer: Arc<OrderSigner>, dialer: Dialer, timeout: Duration) -> Self {
        PieceDeleter {
            store,
            signer,
            dialer,
            timeout,
            tasks: Arc::new(Mutex::new(JoinSet::new())),
        }
    }

    /// Deletes these pieces in the background (no-op when empty).
    pub fn delete_later(&self, pieces: Vec<PieceRef>, project_id: [u8; 16], bucket: String) {
        if pieces.is_empty() {
            return;
        }
        let this = self.clone();
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move { this.run(pieces, project_id, bucket).await });
    }

    async fn run(&self, pieces: Vec<PieceRef>, project_id: [u8; 16], bucket: String) {
        let mut by_node: HashMap<NodeId, Vec<PieceRef>> = HashMap::new();
        for p in pieces {
            by_node.entry(p.node_id).or_default().push(p);
        }
        let ids: Vec<NodeId> = by_node.keys().copied().collect();
        let nodes = match self.store.nodes_by_ids(&ids).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "look up nodes for piece deletion");
                return;
            }
        };
        let now = now_unix();
        let serial = self.signer.new_serial(now);
        let batch = LimitBatch {
            action: PieceAction::Delete,
            limit: 0,
            piece_expiration: 0,
            uplink_public_key: SigningKeyPair::generate().public_key(),
            project_id: &project_id,
            bucket: &bucket,
        };
        let mut calls = JoinSet::new();
        for node in nodes {
            let Some(pieces) = by_node.remove(&node.id) else {
                continue;
            };
            let specs: Vec<LimitSpec> = pieces
                .iter()
                .map(|p| LimitSpec {
                    node: node.id,
                    piece_id: p.piece_id,
                })
                .collect();
            let limits = self.signer.sign_limits(serial, now, &batch, &specs);
            let timeout = self.timeout;
            let dialer = self.dialer.clone();
            calls.spawn(async move {
                let url = NodeUrl {
                    id: node.id,
                    address: node.address.clone(),
                };
                let r = tokio::time::timeout(timeout, delete_on_node(&dialer, &url, limits)).await;
                match r {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::debug!(node_id = %node.id, error = %e, "piece deletion failed")
                    }
                    Err(_) => tracing::debug!(node_id = %node.id, "piece deletion timed out"),
                }
            });
        }
        while calls.join_next().await.is_some() {}
    }

    /// Waits (at most `limit`) for running deletions to finish.
    pub async fn drain(&self, limit: Duration) {
        let mut set = {
            let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut *tasks)
        };
        let all = async { while set.join_next().await.is_some() {} };
        if tokio::time::timeout(limit, all).await.is_err() {
            tracing::debug!("abandoning unfinished piece deletions at shutdown");
        }
    }
}

/// Connection timeout of a node's shared channel (the whole call is
/// bounded by the deleter's timeout too).
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);

async fn delete_on_node(
    dialer: &Dialer,
    url: &NodeUrl,
    limits: Vec<SignedMessage>,
) -> Result<(), String> {
    let channel = dialer
        .shared(url, DIAL_TIMEOUT)
        .map_err(|e| e.to_string())?;
    let mut client = PiecestoreClient::new(channel);
    for limit in limits {
        client
            .delete(DeleteRequest {
                limit: Some(satstore_proto::common::Signed::from(limit)),
            })
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use satstore_common::orders::OrderLimit;
    use satstore_common::{Identity, PieceId};
    use satstore_proto::piecestore::piecestore_server::{Piecestore, PiecestoreServer};
    use satstore_proto::piecestore::{
        DeleteResponse, DownloadResponse, UploadRequest, UploadResponse,
    };
    use tonic::{Request, Response, Status, Streaming};

    use crate::store::nodes::CheckIn;

    /// Records the DELETE limits it receives.
    #[derive(Clone, Default)]
    struct RecordingNode {
        limits: Arc<Mutex<Vec<SignedMessage>>>,
    }

    #[tonic::async_trait]
    impl Piecestore for RecordingNode {
        async fn upload(
            &self,
            _r: Request<Streaming<UploadRequest>>,
        ) -> Result<Response<UploadResponse>, Status> {
            Err(Status::unimplemented("test node"))
        }
        type DownloadStream = futures::stream::Empty<Result<DownloadResponse, Status>>;
        async fn download(
            &self,
            _r: Request<Streaming<satstore_proto::piecestore::DownloadRequest>>,
        ) -> Result<Response<Self::DownloadStream>, Status> {
            Err(Status::unimplemented("test node"))
        }
        async fn delete(
            &self,
            r: Request<DeleteRequest>,
        ) -> Result<Response<DeleteResponse>, Status> {
            let limit = r
                .into_inner()
                .limit
                .ok_or_else(|| Status::invalid_argument("no limit"))?;
            self.limits
                .lock()
                .expect("test lock")
                .push(SignedMessage::from(limit));
            Ok(Response::new(DeleteResponse {}))
        }
    }

    #[tokio::test]
    async fn sends_signed_delete_limits_to_holders_and_ignores_unreachable_ones() {
        let (store, _dir) = crate::store::testing::sqlite_store().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let node = RecordingNode::default();
        let node_identity = Identity::generate(0);
        let stop = tokio_util::sync::CancellationToken::new();
        let incoming = satstore_transport::incoming(
            listener,
            Some(satstore_transport::ServerTls::new(&node_identity).unwrap()),
            satstore_transport::AcceptLimits::default(),
        );
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(PiecestoreServer::new(node.clone()))
                .serve_with_incoming_shutdown(incoming, stop.clone().cancelled_owned()),
        );
        let live = node_identity.id();
        let dead = NodeId::from_public_key(&[2; 32]);
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        for (id, address) in [(live, addr.to_string()), (dead, closed.to_string())] {
            let c = CheckIn {
                id,
                address,
                public_key: vec![0; 32],
                free_disk: 1,
                version: "t".into(),
                check_in_ms: 0,
            };
            store.record_check_in(&c, now_unix()).await.unwrap();
        }
        let sat = Identity::generate(0);
        let signer = Arc::new(OrderSigner::new(sat.clone(), Duration::from_secs(3600)));
        let dialer = Dialer::with_identity(satstore_transport::Security::Tls, &sat).unwrap();
        let deleter = PieceDeleter::new(store, signer, dialer, Duration::from_secs(5));
        let pieces = vec![
            PieceRef {
                node_id: live,
                piece_id: PieceId::random(),
            },
            PieceRef {
                node_id: live,
                piece_id: PieceId::random(),
            },
            PieceRef {
                node_id: dead,
                piece_id: PieceId::random(),
            },
        ];
        deleter.delete_later(pieces.clone(), [3; 16], "bkt".into());
        deleter.drain(Duration::from_secs(10)).await;

        let got = node.limits.lock().unwrap().clone();
        assert_eq!(got.len(), 2);
        for (signed, piece) in got.iter().zip(&pieces[..2]) {
            let l: OrderLimit = signed.verify(&sat.id()).unwrap();
            assert_eq!(l.action, PieceAction::Delete);
            assert_eq!((l.storage_node_id, l.piece_id), (live, piece.piece_id));
        }
        stop.cancel();
        server.await.unwrap().unwrap();
    }
}
