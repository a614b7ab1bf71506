//! An in-memory Piecestore for unit tests of piece transfers over real
//! gRPC on loopback. It follows the protocol (limits, orders, hashes) but
//! checks only what the tests need.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use satstore_common::piece::{ChunkHasher, HASH_CHUNK_SIZE};
use satstore_common::signing::SigningKeyPair;
use satstore_common::{NodeId, NodeUrl, Order, OrderLimit, PieceHash, PieceId};
use satstore_proto::piecestore::piecestore_server::{Piecestore, PiecestoreServer};
use satstore_proto::piecestore::*;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

#[derive(Clone)]
pub(crate) struct Stored {
    pub data: Vec<u8>,
    hashes: Vec<u8>,
    original: Signed,
    uplink_hash: Signed,
}

type Signed = satstore_proto::common::Signed;

#[derive(Clone)]
pub(crate) struct TestNode {
    pub key: SigningKeyPair,
    identity: satstore_common::Identity,
    pub satellite: NodeId,
    pub pieces: Arc<Mutex<HashMap<PieceId, Stored>>>,
}

fn bad(m: impl std::fmt::Display) -> Status {
    Status::invalid_argument(m.to_string())
}

impl TestNode {
    /// Starts a node on 127.0.0.1:0 trusting `satellite`.
    pub(crate) async fn start(satellite: NodeId) -> (Self, NodeUrl) {
        let identity = satstore_common::Identity::generate(0);
        let node = TestNode {
            key: identity.keys().clone(),
            identity,
            satellite,
            pieces: Default::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = NodeUrl {
            id: node.key.public_key().node_id(),
            address: listener.local_addr().unwrap().to_string(),
        };
        let svc = PiecestoreServer::new(node.clone());
        let incoming = satstore_transport::incoming(
            listener,
            Some(satstore_transport::ServerTls::new(&node.identity).unwrap()),
            satstore_transport::AcceptLimits::default(),
        );
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(svc)
                .serve_with_incoming(incoming),
        );
        (node, url)
    }
}

fn order_amount(o: Option<Signed>, key: &satstore_common::PublicKey) -> Result<u64, Status> {
    match o {
        Some(o) => Ok(satstore_common::SignedMessage::from(o)
            .verify_with_key::<Order>(key)
            .map_err(bad)?
            .amount),
        None => Ok(0),
    }
}

#[tonic::async_trait]
impl Piecestore for TestNode {
    async fn upload(
        &self,
        req: Request<Streaming<UploadRequest>>,
    ) -> Result<Response<UploadResponse>, Status> {
        let mut s = req.into_inner();
        let first = s.message().await?.ok_or_else(|| bad("empty"))?;
        let original = first.limit.ok_or_else(|| bad("no limit"))?;
        let limit: OrderLimit = satstore_common::SignedMessage::from(original.clone())
            .verify(&self.satellite)
            .map_err(bad)?;
        let mut data = Vec::new();
        let mut max_order = 0;
        let mut hasher = ChunkHasher::new();
        loop {
            let m = s.message().await?.ok_or_else(|| bad("ended before done"))?;
            if let Some(o) = m.order {
                let o: Order = satstore_common::SignedMessage::from(o)
                    .verify_with_key(&limit.uplink_public_key)
                    .map_err(bad)?;
                max_order = max_order.max(o.amount);
            }
            if let Some(c) = m.chunk {
                if c.offset as usize != data.len() || data.len() + c.data.len() > max_order as usize
                {
                    return Err(bad("chunk not contiguous or not covered by orders"));
                }
                hasher.update(&c.data);
                data.extend_from_slice(&c.data);
            }
            if let Some(done) = m.done {
                let h: PieceHash = satstore_common::SignedMessage::from(done.clone())
                    .verify_with_key(&limit.uplink_public_key)
                    .map_err(bad)?;
                let (hashes, root) = hasher.finish();
                if h.hash != root || h.piece_size != data.len() as u64 {
                    return Err(bad("piece hash mismatch"));
                }
                let reply = PieceHash { timestamp: 1, ..h };
                self.pieces.lock().unwrap().insert(
                    limit.piece_id,
                    Stored {
                        data,
                        hashes,
                        original,
                        uplink_hash: done,
                    },
                );
                return Ok(Response::new(UploadResponse {
                    done: Some(satstore_proto::common::Signed::from(self.key.sign(&reply))),
                }));
            }
        }
    }

    type DownloadStream = ReceiverStream<Result<DownloadResponse, Status>>;

    async fn download(
        &self,
        req: Request<Streaming<DownloadRequest>>,
    ) -> Result<Response<Self::DownloadStream>, Status> {
        let mut s = req.into_inner();
        let first = s.message().await?.ok_or_else(|| bad("empty"))?;
        let limit: OrderLimit =
            satstore_common::SignedMessage::from(first.limit.ok_or_else(|| bad("no limit"))?)
                .verify(&self.satellite)
                .map_err(bad)?;
        let stored = self
            .pieces
            .lock()
            .unwrap()
            .get(&limit.piece_id)
            .cloned()
            .ok_or_else(|| Status::not_found("piece"))?;
        let (tx, rx) = mpsc::channel(4);
        let key = limit.uplink_public_key;
        let mut max_order = order_amount(first.order, &key)?;
        tokio::spawn(async move {
            let proof = PieceProof {
                original_limit: Some(stored.original.clone()),
                uplink_hash: Some(stored.uplink_hash.clone()),
                chunk_hashes: stored.hashes.clone(),
                piece_size: stored.data.len() as i64,
            };
            let _ = tx
                .send(Ok(DownloadResponse {
                    proof: Some(proof),
                    chunk: None,
                }))
                .await;
            let (mut pos, end) = (first.offset as usize, (first.offset + first.size) as usize);
            let mut sent = 0u64;
            while pos < end {
                let len = (HASH_CHUNK_SIZE as usize).min(end - pos);
                while sent + len as u64 > max_order {
                    match s.message().await {
                        Ok(Some(m)) => match order_amount(m.order, &key) {
                            Ok(a) => max_order = max_order.max(a),
                            Err(_) => return,
                        },
                        _ => return,
                    }
                }
                let chunk = Chunk {
                    offset: pos as i64,
                    data: stored.data[pos..pos + len].to_vec(),
                };
                if tx
                    .send(Ok(DownloadResponse {
                        proof: None,
                        chunk: Some(chunk),
                    }))
                    .await
                    .is_err()
                {
                    return;
                }
                pos += len;
                sent += len as u64;
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn delete(
        &self,
        _req: Request<DeleteRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        Ok(Response::new(DeleteResponse {}))
    }
}
