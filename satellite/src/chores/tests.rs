//! Cleanup chores against a real satellite (gRPC on loopback, SQLite):
//! expired objects go without piece deletions, zombie pending objects go
//! with them, and the chore loop runs on its configured interval.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use satstore_common::orders::{OrderLimit, PieceAction};
use satstore_common::time::now_unix;
use satstore_common::{Identity, PieceId, SignedMessage};
use satstore_proto::metainfo as pb;
use satstore_proto::piecestore::piecestore_server::{Piecestore, PiecestoreServer};
use satstore_proto::piecestore::{
    DeleteRequest, DeleteResponse, DownloadRequest, DownloadResponse, UploadRequest, UploadResponse,
};
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, Response, Status, Streaming};

use super::*;
use crate::metainfo::testing::{
    TestSatellite, begin, begin_expiring, code, create_bucket, inline_object,
    inline_object_expiring,
};
use crate::store::nodes::CheckIn;
use crate::store::{SegmentPiece, SegmentPosition, SegmentRecord};

/// A storage node that records the DELETE limits it receives.
#[derive(Clone, Default)]
struct RecordingNode {
    deletes: Arc<Mutex<Vec<SignedMessage>>>,
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
        _r: Request<Streaming<DownloadRequest>>,
    ) -> Result<Response<Self::DownloadStream>, Status> {
        Err(Status::unimplemented("test node"))
    }
    async fn delete(&self, r: Request<DeleteRequest>) -> Result<Response<DeleteResponse>, Status> {
        let limit = r
            .into_inner()
            .limit
            .ok_or_else(|| Status::invalid_argument("no limit"))?;
        self.deletes
            .lock()
            .expect("test lock")
            .push(SignedMessage::from(limit));
        Ok(Response::new(DeleteResponse {}))
    }
}

/// Serves a [`RecordingNode`] and registers it (online) in the satellite.
async fn recording_node(sat: &TestSatellite, stop: CancellationToken) -> (Identity, RecordingNode) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let node = RecordingNode::default();
    let service = PiecestoreServer::new(node.clone());
    let ident = Identity::generate(0);
    let incoming = satstore_transport::incoming(
        listener,
        Some(satstore_transport::ServerTls::new(&ident).unwrap()),
        satstore_transport::AcceptLimits::default(),
    );
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(incoming, stop.cancelled_owned())
            .await;
    });
    let c = CheckIn {
        id: ident.id(),
        address: addr.to_string(),
        public_key: ident.public_key().0.to_vec(),
        free_disk: 1 << 40,
        version: "test".into(),
        check_in_ms: 0,
    };
    sat.handle
        .store()
        .record_check_in(&c, now_unix())
        .await
        .unwrap();
    (ident, node)
}

/// The stream id inside a stream token of `sat` (the test reads the
/// satellite identity from its data dir).
fn stream_id(sat: &TestSatellite, token: &[u8]) -> [u8; 16] {
    let identity = Identity::load_or_create(sat._dir.path()).unwrap();
    let p = crate::tokens::TokenSigner::new(identity)
        .verify_stream(token, now_unix())
        .unwrap();
    p.stream_id.try_into().unwrap()
}

/// Stores a remote segment 0 with one piece on `node` under `stream`.
async fn remote_segment(sat: &TestSatellite, stream: [u8; 16], node: &Identity) -> PieceId {
    let seg = SegmentRecord {
        stream_id: stream,
        position: SegmentPosition { part: 0, index: 0 },
        created_at: now_unix(),
        expires_at: 0,
        root_piece_id: PieceId::random(),
        encrypted_key: vec![1],
        encrypted_key_nonce: vec![2],
        encrypted_size: 1024,
        plain_offset: 0,
        plain_size: 1000,
        redundancy: crate::metainfo::testing::test_redundancy(),
        inline_data: None,
        pieces: vec![SegmentPiece {
            num: 0,
            node: node.id(),
        }],
    };
    sat.handle.store().put_segment(&seg).await.unwrap();
    seg.piece_id(&seg.pieces[0])
}

async fn get(sat: &mut TestSatellite, key: &[u8]) -> Result<pb::GetObjectResponse, Status> {
    sat.client
        .get_object(pb::GetObjectRequest {
            header: sat.header(),
            bucket: "bkt".into(),
            encrypted_key: key.to_vec(),
        })
        .await
        .map(|r| r.into_inner())
}

async fn commit(sat: &mut TestSatellite, token: Vec<u8>) -> Result<(), Status> {
    sat.client
        .commit_object(pb::CommitObjectRequest {
            header: sat.header(),
            stream_id: token,
            ..Default::default()
        })
        .await
        .map(|_| ())
}

async fn project_id(sat: &TestSatellite) -> [u8; 16] {
    sat.handle
        .store()
        .api_key_by_head(sat.key.head())
        .await
        .unwrap()
        .unwrap()
        .project_id
}

/// Polls `cond` every 20 ms for at most 20 s.
async fn eventually<F: Future<Output = bool>>(what: &str, mut cond: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn expired_objects_are_deleted_without_piece_deletions() {
    let mut sat = TestSatellite::start().await;
    create_bucket(&mut sat, "bkt").await;
    let stop = CancellationToken::new();
    let (node, recorder) = recording_node(&sat, stop.clone()).await;
    let expires = now_unix() + 3600;
    inline_object_expiring(&mut sat, b"old", b"data", expires).await;
    inline_object(&mut sat, b"forever", b"data").await;
    let b = begin_expiring(&mut sat, b"remote", expires).await;
    let remote = stream_id(&sat, &b.stream_id);
    remote_segment(&sat, remote, &node).await;
    commit(&mut sat, b.stream_id).await.unwrap();

    // Nothing is expired yet.
    assert_eq!(sat.handle.delete_expired_objects_now().await.unwrap(), 0);
    get(&mut sat, b"old").await.unwrap();
    get(&mut sat, b"remote").await.unwrap();

    // At the expiration time (the chore takes the time as an argument).
    let (metrics, registry) = SatelliteMetrics::new();
    let chore = ExpiredObjectsChore::new(sat.handle.store().clone(), metrics);
    assert_eq!(chore.run_once(expires).await.unwrap(), 2);
    assert_eq!(chore.run_once(expires).await.unwrap(), 0);
    assert_eq!(code(get(&mut sat, b"old").await).0, Code::NotFound);
    assert_eq!(code(get(&mut sat, b"remote").await).0, Code::NotFound);
    let store = sat.handle.store();
    assert!(store.object_by_stream(&remote).await.unwrap().is_none());
    assert!(store.list_segments(&remote).await.unwrap().is_empty());
    get(&mut sat, b"forever").await.unwrap();
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("satellite_chore_expired_objects_deleted_total 2"),
        "{text}"
    );

    // The nodes delete expired pieces themselves: nothing was sent.
    sat.handle.shutdown().await; // drains background piece deletions
    assert!(recorder.deletes.lock().unwrap().is_empty());
    stop.cancel();
}

#[tokio::test]
async fn zombie_pending_objects_are_deleted_with_their_pieces() {
    let mut sat = TestSatellite::start_with(|c| {
        c.pending_object_timeout = Duration::from_secs(3600);
    })
    .await;
    create_bucket(&mut sat, "bkt").await;
    let stop = CancellationToken::new();
    let (node, recorder) = recording_node(&sat, stop.clone()).await;
    inline_object(&mut sat, b"committed", b"data").await;
    let b = begin(&mut sat, b"zombie").await;
    let zombie = stream_id(&sat, &b.stream_id);
    let piece = remote_segment(&sat, zombie, &node).await;

    // Young pending objects stay.
    assert_eq!(sat.handle.delete_zombie_objects_now().await.unwrap(), 0);
    assert!(
        sat.handle
            .store()
            .object_by_stream(&zombie)
            .await
            .unwrap()
            .is_some()
    );

    // Past the timeout: the zombie goes, the committed object stays.
    let chore = ZombieObjectsChore::new(
        sat.handle.store().clone(),
        PieceDeleter::new(
            sat.handle.store().clone(),
            Arc::new(crate::orders::OrderSigner::new(
                Identity::load_or_create(sat._dir.path()).unwrap(),
                Duration::from_secs(3600),
            )),
            satstore_transport::Dialer::anonymous(satstore_transport::Security::Tls),
            Duration::from_secs(5),
        ),
        SatelliteMetrics::new().0,
        Duration::from_secs(3600),
    );
    assert_eq!(chore.run_once(now_unix() + 3599).await.unwrap(), 0);
    assert_eq!(chore.run_once(now_unix() + 3602).await.unwrap(), 1);
    let store = sat.handle.store();
    assert!(store.object_by_stream(&zombie).await.unwrap().is_none());
    assert!(store.list_segments(&zombie).await.unwrap().is_empty());
    get(&mut sat, b"committed").await.unwrap();
    let (c, m) = code(commit(&mut sat, b.stream_id).await);
    assert_eq!(c, Code::NotFound, "{m}");

    // Its piece is deleted on the node with a satellite-signed DELETE limit.
    eventually("the piece delete", || async {
        !recorder.deletes.lock().unwrap().is_empty()
    })
    .await;
    let limit: OrderLimit = recorder.deletes.lock().unwrap()[0]
        .verify(&sat.handle.id())
        .unwrap();
    assert_eq!(limit.action, PieceAction::Delete);
    assert_eq!((limit.storage_node_id, limit.piece_id), (node.id(), piece));
    stop.cancel();
    sat.handle.shutdown().await;
}

#[tokio::test]
async fn chore_loop_runs_on_the_configured_interval() {
    let mut sat = TestSatellite::start_with(|c| {
        c.expired_cleanup_interval = Duration::from_millis(100);
    })
    .await;
    create_bucket(&mut sat, "bkt").await;
    let project = project_id(&sat).await;
    inline_object_expiring(&mut sat, b"soon", b"data", now_unix() + 2).await;
    inline_object(&mut sat, b"forever", b"data").await;
    let store = sat.handle.store().clone();
    // `i64::MIN` as "now" finds the row whether it expired or not.
    let present = |key: &'static [u8]| {
        let store = store.clone();
        async move {
            store
                .latest_committed(&project, "bkt", key, i64::MIN)
                .await
                .unwrap()
                .is_some()
        }
    };
    assert!(present(b"soon").await);
    eventually("the expired object's deletion", || async {
        !present(b"soon").await
    })
    .await;
    assert!(present(b"forever").await);

    let addr = sat.handle.metrics_addr();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    conn.read_to_string(&mut body).await.unwrap();
    assert!(
        body.contains("satellite_chore_expired_objects_deleted_total 1"),
        "{body}"
    );
    sat.handle.shutdown().await;
}
