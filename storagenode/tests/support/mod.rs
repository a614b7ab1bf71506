//! Test harness: a node on 127.0.0.1:0 in a temp dir, a fake satellite
//! identity that signs limits, and uplink-side helpers.

#![allow(dead_code)]

use std::path::Path;

use satstore_common::config::ByteSize;
use satstore_common::piece::{ChunkHasher, HASH_CHUNK_SIZE};
use satstore_common::signing::SigningKeyPair;
use satstore_common::time::now_unix;
use satstore_common::{
    Identity, NodeId, Order, OrderLimit, PieceAction, PieceHash, PieceId, SerialNumber,
    SignedMessage,
};
use satstore_proto::common::Signed;
use satstore_proto::piecestore::piecestore_client::PiecestoreClient;
use satstore_proto::piecestore::{
    Chunk, DownloadRequest, DownloadResponse, UploadRequest, UploadResponse,
};
use storagenode::{StorageNodeConfig, StorageNodeHandle, StorageNodeListeners};
use tonic::transport::Channel;
use tonic::{Code, Status};

pub const CHUNK: usize = HASH_CHUNK_SIZE as usize;

pub fn to_proto(m: SignedMessage) -> Signed {
    Signed {
        payload: m.payload,
        signature: m.signature,
        signer: m.signer,
    }
}

pub fn from_proto(s: Signed) -> SignedMessage {
    SignedMessage {
        payload: s.payload,
        signature: s.signature,
        signer: s.signer,
    }
}

/// Starts a node trusting `sat` (check-ins go to an unreachable address
/// unless `sat_addr` is given).
pub async fn start_node(
    dir: &Path,
    sat: &Identity,
    allocated: u64,
    sat_addr: Option<String>,
) -> StorageNodeHandle {
    start_node_with(node_config(dir, sat, allocated, sat_addr)).await
}

/// The config [`start_node`] uses, for tests that change a field.
pub fn node_config(
    dir: &Path,
    sat: &Identity,
    allocated: u64,
    sat_addr: Option<String>,
) -> StorageNodeConfig {
    StorageNodeConfig {
        data_dir: dir.to_path_buf(),
        satellites: vec![format!(
            "{}@{}",
            sat.id(),
            sat_addr.unwrap_or_else(|| "127.0.0.1:1".into())
        )],
        allocated_space: ByteSize(allocated),
        ..Default::default()
    }
}

/// Starts a node with `config` on 127.0.0.1:0 listeners.
pub async fn start_node_with(config: StorageNodeConfig) -> StorageNodeHandle {
    let listeners = StorageNodeListeners {
        grpc: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        metrics: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    };
    storagenode::start(config, listeners).await.unwrap()
}

pub async fn client(node: &StorageNodeHandle) -> PiecestoreClient<Channel> {
    let channel = satstore_transport::Dialer::anonymous(satstore_transport::Security::Tls)
        .dial(&node.url())
        .await
        .unwrap();
    PiecestoreClient::new(channel)
}

/// An uplink's view of one transfer: the limit and the piece key.
pub struct Grant {
    pub limit: OrderLimit,
    pub piece_key: SigningKeyPair,
}

impl Grant {
    pub fn new(
        sat: &Identity,
        node: NodeId,
        piece: PieceId,
        action: PieceAction,
        bytes: u64,
    ) -> Self {
        let now = now_unix();
        let piece_key = SigningKeyPair::generate();
        Grant {
            limit: OrderLimit {
                serial_number: SerialNumber::new(now + 86400),
                satellite_id: sat.id(),
                storage_node_id: node,
                piece_id: piece,
                action,
                limit: bytes,
                piece_expiration: 0,
                order_creation: now,
                order_expiration: now + 86400,
                uplink_public_key: piece_key.public_key(),
                tenant: [0; 16],
                encrypted_metadata: vec![],
            },
            piece_key,
        }
    }

    /// The limit signed by `signer`.
    pub fn signed_limit(&self, signer: &Identity) -> Signed {
        to_proto(signer.keys().sign(&self.limit))
    }

    pub fn order(&self, amount: u64) -> Signed {
        to_proto(self.piece_key.sign(&Order {
            serial_number: self.limit.serial_number,
            amount,
        }))
    }

    pub fn piece_hash(&self, data: &[u8]) -> Signed {
        let mut h = ChunkHasher::new();
        h.update(data);
        let (_, root) = h.finish();
        to_proto(self.piece_key.sign(&PieceHash {
            piece_id: self.limit.piece_id,
            hash: root,
            piece_size: data.len() as u64,
            timestamp: now_unix(),
        }))
    }
}

/// The messages of an upload: limit, one order for `order_amount`, chunks,
/// then the piece hash `done`.
pub fn upload_messages(
    limit: Signed,
    order: Signed,
    data: &[u8],
    done: Signed,
) -> Vec<UploadRequest> {
    let mut msgs = vec![UploadRequest {
        limit: Some(limit),
        order: Some(order),
        ..Default::default()
    }];
    for (i, part) in data.chunks(CHUNK).enumerate() {
        msgs.push(UploadRequest {
            chunk: Some(Chunk {
                offset: (i * CHUNK) as i64,
                data: part.to_vec(),
            }),
            ..Default::default()
        });
    }
    msgs.push(UploadRequest {
        done: Some(done),
        ..Default::default()
    });
    msgs
}

pub async fn upload(
    client: &mut PiecestoreClient<Channel>,
    msgs: Vec<UploadRequest>,
) -> Result<UploadResponse, Status> {
    client
        .upload(tokio_stream::iter(msgs))
        .await
        .map(|r| r.into_inner())
}

/// Uploads `data` under a fresh PUT grant; returns the grant.
pub async fn put_piece(
    client: &mut PiecestoreClient<Channel>,
    sat: &Identity,
    node: NodeId,
    data: &[u8],
) -> Grant {
    let g = Grant::new(
        sat,
        node,
        PieceId::random(),
        PieceAction::Put,
        data.len() as u64,
    );
    let msgs = upload_messages(
        g.signed_limit(sat),
        g.order(data.len() as u64),
        data,
        g.piece_hash(data),
    );
    upload(client, msgs).await.unwrap();
    g
}

/// Downloads `[offset, offset+size)` with one order covering it all.
pub async fn download(
    client: &mut PiecestoreClient<Channel>,
    g: &Grant,
    sat: &Identity,
    offset: i64,
    size: i64,
) -> Result<Vec<DownloadResponse>, Status> {
    let first = DownloadRequest {
        limit: Some(g.signed_limit(sat)),
        offset,
        size,
        order: Some(g.order(size.max(0) as u64)),
    };
    let mut stream = client
        .download(tokio_stream::iter(vec![first]))
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(m) = stream.message().await? {
        out.push(m);
    }
    Ok(out)
}

pub fn data(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
        .collect()
}

#[track_caller]
pub fn assert_status<T: std::fmt::Debug>(r: Result<T, Status>, code: Code, text: &str) {
    match r {
        Ok(v) => panic!("expected {code:?} ({text}), got Ok({v:?})"),
        Err(s) => {
            assert_eq!(s.code(), code, "message: {}", s.message());
            assert!(
                s.message().contains(text),
                "expected {text:?} in {:?}",
                s.message()
            );
        }
    }
}

/// The node's `/metrics` text.
pub async fn metrics_text(node: &StorageNodeHandle) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(node.metrics_addr())
        .await
        .unwrap();
    conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    conn.read_to_string(&mut body).await.unwrap();
    body
}

/// Polls `/metrics` until it contains `line` (at most 10 s).
pub async fn wait_for_metric(node: &StorageNodeHandle, line: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if metrics_text(node).await.contains(line) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "metric {line:?} never appeared"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
