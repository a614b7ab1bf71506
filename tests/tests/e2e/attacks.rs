//! Attacks on the control plane and on node resources, each reproduced
//! against a real network: a node's Ping proof replayed as its check-in, a
//! retried CommitSegment, idle uploads holding node space.

use std::time::Duration;

use satstore_common::orders::{Order, OrderLimit, PieceHash};
use satstore_common::piece::ChunkHasher;
use satstore_common::signing::{SignedMessage, SigningKeyPair};
use satstore_common::time::now_unix;
use satstore_proto::common::{RequestHeader, Signed};
use satstore_proto::metainfo as pb;
use satstore_proto::node::CheckInRequest;
use satstore_proto::piecestore::{Chunk, PingRequest, UploadRequest};
use satstore_tests::TestNet;

/// Protobuf varint, for hand-made attack payloads.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The protobuf bytes of a check-in info naming `address` (fields 1, 2, 3, 4
/// of the check-in message as a node would send them).
fn protobuf_check_in(address: &str, timestamp: i64) -> Vec<u8> {
    let mut b = Vec::new();
    b.push(0x0A);
    varint(address.len() as u64, &mut b);
    b.extend_from_slice(address.as_bytes());
    b.push(0x10);
    varint(1 << 30, &mut b);
    b.push(0x1A);
    b.push(5);
    b.extend_from_slice(b"0.1.0");
    b.push(0x20);
    varint(timestamp as u64, &mut b);
    b
}

/// Outsider: asks a node to sign `0x00 || check-in` with Ping and submits
/// the proof as that node's check-in for an address of its choosing. The
/// satellite must refuse it and keep the node's record as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ping_proof_cannot_be_replayed_as_a_check_in() {
    let tn = TestNet::builder().nodes(4).start().await.expect("start");
    let net = tn.net();
    let node = net.node(0).expect("node");
    let store = net.satellite().store().clone();
    let before = store.nodes_by_ids(&[node.id()]).await.expect("node")[0].clone();

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr")
        .to_string();
    let mut challenge = vec![0x00];
    challenge.extend(protobuf_check_in(&closed, now_unix()));
    let mut contact = satstore_tests::dial::contact(&node.url())
        .await
        .expect("dial node");
    // A node may refuse to sign such a challenge at all: then there is
    // nothing to replay.
    if let Ok(resp) = contact.ping(PingRequest { challenge }).await {
        let proof = resp.into_inner().proof.expect("proof");
        let mut sat = satstore_tests::dial::node_api(net)
            .await
            .expect("dial satellite");
        let r = sat.check_in(CheckInRequest { info: Some(proof) }).await;
        assert!(
            r.is_err(),
            "the satellite accepted a ping proof as a check-in: {:?}",
            r.map(|r| r.into_inner())
        );
    }
    let after = store.nodes_by_ids(&[node.id()]).await.expect("node")[0].clone();
    assert_eq!(after.address, before.address, "address rewritten");
    assert!(
        after.last_contact_failure <= before.last_contact_failure,
        "node marked as failed by a forged check-in"
    );
    tn.shutdown().await;
}

/// A replayed check-in (same signed bytes twice) is refused: check-ins must
/// carry increasing timestamps.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replayed_check_in_is_refused() {
    let tn = TestNet::builder().nodes(4).start().await.expect("start");
    let net = tn.net();
    let node = net.node(0).expect("node");
    let signed = storagenode::testing::signed_check_in(node);
    // Sent over the node's own identity, as the node would.
    let identity =
        satstore_common::Identity::load_or_create(&net.node_dir(0)).expect("node identity");
    let mut sat = satstore_tests::dial::node_api_as(net, &identity)
        .await
        .expect("dial satellite");
    sat.check_in(CheckInRequest {
        info: Some(Signed::from(signed.clone())),
    })
    .await
    .expect("first check-in");
    let again = sat
        .check_in(CheckInRequest {
            info: Some(Signed::from(signed)),
        })
        .await;
    assert!(again.is_err(), "a replayed check-in was accepted");
    tn.shutdown().await;
}

/// Pieces of one remote segment uploaded by hand: the commit request and
/// where the pieces are.
struct RawSegment {
    commit: pb::CommitSegmentRequest,
    pieces: Vec<(usize, satstore_common::PieceId)>,
}

/// Uploads one segment of `data` by hand: BeginSegment, one piece per
/// limit (the same bytes on every node is fine: nodes only check hashes).
async fn raw_segment(
    tn: &TestNet,
    header: &RequestHeader,
    stream_id: Vec<u8>,
    data: &[u8],
) -> RawSegment {
    let net = tn.net();
    let mut meta = satstore_tests::dial::metainfo(net).await.expect("metainfo");
    let seg = meta
        .begin_segment(pb::BeginSegmentRequest {
            header: Some(header.clone()),
            stream_id,
            position: Some(pb::SegmentPosition { part: 0, index: 0 }),
            max_order_limit: data.len() as i64 * 4,
        })
        .await
        .expect("begin segment")
        .into_inner();
    let rs = seg.redundancy.expect("redundancy");
    let piece_key = SigningKeyPair::from_seed_slice(&seg.piece_private_key).expect("piece key");
    let piece_size = satstore_common::erasure::RedundancyScheme {
        required: rs.required as u16,
        repair: rs.repair as u16,
        success: rs.success as u16,
        total: rs.total as u16,
        share_size: rs.share_size,
    }
    .piece_size(data.len() as u64);
    let piece = vec![7u8; piece_size as usize];
    let mut results = Vec::new();
    let mut pieces = Vec::new();
    for l in &seg.limits {
        let signed = SignedMessage::from(l.limit.clone().expect("limit"));
        let limit: OrderLimit = signed.decode_unverified().expect("limit decodes");
        let index = net
            .running_nodes()
            .find(|(_, n)| n.id() == limit.storage_node_id)
            .map(|(i, _)| i)
            .expect("node of the limit");
        let url = net.node(index).expect("node").url();
        let mut client = satstore_tests::dial::piecestore(&url)
            .await
            .expect("dial node");
        let mut hasher = ChunkHasher::new();
        hasher.update(&piece);
        let (_, root) = hasher.finish();
        let msgs = vec![
            UploadRequest {
                limit: Some(Signed::from(signed.clone())),
                order: Some(Signed::from(piece_key.sign(&Order {
                    serial_number: limit.serial_number,
                    amount: piece_size,
                }))),
                chunk: Some(Chunk {
                    offset: 0,
                    data: piece.clone(),
                }),
                ..Default::default()
            },
            UploadRequest {
                done: Some(Signed::from(piece_key.sign(&PieceHash {
                    piece_id: limit.piece_id,
                    hash: root,
                    piece_size,
                    timestamp: now_unix(),
                }))),
                ..Default::default()
            },
        ];
        let done = client
            .upload(tokio_stream::iter(msgs))
            .await
            .expect("piece upload")
            .into_inner()
            .done
            .expect("node hash");
        results.push(pb::SegmentPieceUploadResult {
            piece_num: l.piece_num,
            hash: Some(done),
        });
        pieces.push((index, limit.piece_id));
    }
    RawSegment {
        commit: pb::CommitSegmentRequest {
            header: Some(header.clone()),
            segment_id: seg.segment_id,
            encrypted_key: vec![1; 48],
            encrypted_key_nonce: vec![2; 24],
            encrypted_size: data.len() as i64,
            plain_size: data.len() as i64,
            results,
        },
        pieces,
    }
}

/// Tenant retry: CommitSegment sent twice (the first reply was lost) must
/// change nothing: the segment's own pieces stay on the nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retried_commit_segment_keeps_its_pieces() {
    let tn = TestNet::builder().nodes(10).start().await.expect("start");
    let net = tn.net();
    let header = RequestHeader {
        api_key: net.access().api_key.to_bytes(),
        user_agent: "attack-test".into(),
    };
    let mut meta = satstore_tests::dial::metainfo(net).await.expect("metainfo");
    meta.create_bucket(pb::CreateBucketRequest {
        header: Some(header.clone()),
        name: "retry".into(),
    })
    .await
    .expect("bucket");
    let obj = meta
        .begin_object(pb::BeginObjectRequest {
            header: Some(header.clone()),
            bucket: "retry".into(),
            encrypted_key: b"k".to_vec(),
            expires_at_unix: 0,
            ..Default::default()
        })
        .await
        .expect("begin object")
        .into_inner();
    let seg = raw_segment(&tn, &header, obj.stream_id.clone(), &[9u8; 100_000]).await;
    meta.commit_segment(seg.commit.clone())
        .await
        .expect("first commit");
    meta.commit_segment(seg.commit.clone())
        .await
        .expect("a retried commit succeeds");
    meta.commit_object(pb::CommitObjectRequest {
        header: Some(header.clone()),
        stream_id: obj.stream_id.clone(),
        ..Default::default()
    })
    .await
    .expect("commit object");
    // Let the satellite's background deletions run.
    net.satellite()
        .drain_deletions(Duration::from_secs(10))
        .await;
    let sat_id = net.satellite().id();
    for (index, piece) in &seg.pieces {
        let store = net.node(*index).expect("node").store();
        assert!(
            store.header(&sat_id, piece).is_ok(),
            "piece {piece} on node {index} was deleted by the retried commit"
        );
    }
    tn.shutdown().await;
}

/// Tenant: opens uploads with large PUT limits and sends nothing. The node
/// must not set aside the whole limit for a stream that sends no bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_upload_reserves_no_space() {
    let tn = TestNet::builder().nodes(4).start().await.expect("start");
    let net = tn.net();
    let sat = satstore_common::Identity::load_or_create(&net.dir().join("satellite"))
        .expect("satellite identity");
    let node = net.node(0).expect("node");
    let store = node.store();
    let used_before = store.used_space();
    let piece_key = SigningKeyPair::generate();
    let now = now_unix();
    let mut streams = Vec::new();
    for _ in 0..4 {
        let limit = OrderLimit {
            serial_number: satstore_common::SerialNumber::random(),
            satellite_id: sat.id(),
            storage_node_id: node.id(),
            piece_id: satstore_common::PieceId::random(),
            action: satstore_common::PieceAction::Put,
            limit: 64 << 20,
            piece_expiration: 0,
            order_creation: now,
            order_expiration: now + 3600,
            uplink_public_key: piece_key.public_key(),
            tenant: [0; 16],
            encrypted_metadata: Vec::new(),
        };
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tx.send(UploadRequest {
            limit: Some(Signed::from(sat.keys().sign(&limit))),
            ..Default::default()
        })
        .await
        .expect("queue limit");
        let mut client = satstore_tests::dial::piecestore(&node.url())
            .await
            .expect("dial node");
        let call = tokio::spawn(async move {
            client
                .upload(tokio_stream::wrappers::ReceiverStream::new(rx))
                .await
        });
        streams.push((tx, call));
    }
    // Wait until the node holds all four streams.
    satstore_tests::metrics::wait_for(node.metrics_addr(), "storagenode_transfers_active 4")
        .await
        .expect("four uploads in progress");
    let used = store.used_space();
    assert!(
        used < used_before + (1 << 20),
        "4 idle uploads hold {} bytes of node space",
        used - used_before
    );
    drop(streams);
    tn.shutdown().await;
}

/// A grant naming the right address but another satellite id (a hijacked
/// address, or a typo) fails with a clear error: the TLS peer is not the
/// satellite the grant trusts. A plaintext client cannot talk to a TLS
/// network either.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dialing_the_wrong_id_fails_clearly() {
    let tn = TestNet::builder().nodes(4).start().await.expect("start");
    let net = tn.net();
    let mut wrong = net.access().clone();
    wrong.satellite.id = satstore_common::Identity::generate(0).id();
    let e = wrong
        .open_project()
        .await
        .expect("projects open lazily")
        .list_buckets(&Default::default())
        .await
        .expect_err("a satellite with another id must be refused");
    let msg = format!("{e:#}");
    assert!(msg.contains("not the node"), "{msg}");
    assert!(msg.contains(&net.satellite().id().to_string()), "{msg}");

    let plain = uplink::UplinkConfig {
        insecure: true,
        ..Default::default()
    };
    let project = net
        .access()
        .config_open_project(&plain)
        .await
        .expect("projects open lazily");
    assert!(project.list_buckets(&Default::default()).await.is_err());
    tn.shutdown().await;
}
