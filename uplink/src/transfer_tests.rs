//! Piece upload and download against an in-memory node over real gRPC.

use std::time::Duration;

use satstore_common::piece::HASH_CHUNK_SIZE;
use satstore_common::signing::SigningKeyPair;
use satstore_common::{NodeUrl, OrderLimit, PieceAction, PieceHash, PieceId, SerialNumber};
use tokio::sync::mpsc;

use crate::convert::AddressedLimit;
use crate::piece_download::{PieceDownload, PieceDownloadParams};
use crate::piece_upload::upload_piece;
use crate::ranges::PieceRange;
use crate::test_node::TestNode;

const C: usize = HASH_CHUNK_SIZE as usize;

struct Setup {
    sat: SigningKeyPair,
    piece_key: SigningKeyPair,
    node: TestNode,
    url: NodeUrl,
    piece_id: PieceId,
}

async fn setup() -> Setup {
    let sat = SigningKeyPair::generate();
    let (node, url) = TestNode::start(sat.public_key().node_id()).await;
    Setup {
        sat,
        piece_key: SigningKeyPair::generate(),
        node,
        url,
        piece_id: PieceId::random(),
    }
}

fn limit(s: &Setup, action: PieceAction, url: &NodeUrl) -> AddressedLimit {
    let l = OrderLimit {
        serial_number: SerialNumber::new(i64::MAX),
        satellite_id: s.sat.public_key().node_id(),
        storage_node_id: url.id,
        piece_id: s.piece_id,
        action,
        limit: 8 << 20,
        piece_expiration: 0,
        order_creation: satstore_common::time::now_unix(),
        order_expiration: i64::MAX,
        uplink_public_key: s.piece_key.public_key(),
        tenant: [0; 16],
        encrypted_metadata: vec![],
    };
    AddressedLimit {
        piece_num: 0,
        signed: s.sat.sign(&l),
        limit: l,
        node: url.clone(),
    }
}

fn params(s: &Setup) -> PieceDownloadParams {
    PieceDownloadParams {
        satellite: s.sat.public_key().node_id(),
        key: s.piece_key.clone(),
        dial: opts(5),
        message_timeout: Duration::from_secs(5),
        depth: 2,
    }
}

fn opts(secs: u64) -> crate::dial::DialOptions {
    crate::dial::DialOptions {
        timeout: Duration::from_secs(secs),
        dialer: satstore_transport::Dialer::anonymous(satstore_transport::Security::Tls),
    }
}

fn data() -> Vec<u8> {
    (0..40 * C + 1000).map(|i| (i * 7 % 251) as u8).collect()
}

async fn upload(s: &Setup, data: &[u8]) {
    let (tx, rx) = mpsc::channel(2);
    let task = tokio::spawn(upload_piece(
        limit(s, PieceAction::Put, &s.url),
        s.piece_key.clone(),
        rx,
        opts(5),
    ));
    for part in data.chunks(C) {
        tx.send(part.to_vec()).await.unwrap();
    }
    drop(tx);
    let stored = task.await.unwrap().unwrap();
    let h: PieceHash = stored.node_hash.verify(&s.url.id).unwrap();
    assert_eq!((h.piece_id, h.piece_size), (s.piece_id, data.len() as u64));
}

fn whole(len: usize) -> PieceRange {
    PieceRange {
        piece_size: len as u64,
        offset: 0,
        size: len as u64,
        first_chunk: 0,
        chunks: len.div_ceil(C) as u64,
    }
}

#[tokio::test]
async fn piece_round_trip_with_growing_orders() {
    let s = setup().await;
    let data = data();
    upload(&s, &data).await;
    assert_eq!(s.node.pieces.lock().unwrap()[&s.piece_id].data, data);

    let mut d = PieceDownload::start(
        limit(&s, PieceAction::Get, &s.url),
        params(&s),
        whole(data.len()),
        0,
    );
    let mut got = Vec::new();
    for _ in 0..41 {
        got.extend(d.next().await.unwrap());
    }
    assert_eq!(got, data);
    assert!(d.next().await.is_err(), "nothing after the range");

    // Starting at a later chunk (as a replacement piece does).
    let mut d = PieceDownload::start(
        limit(&s, PieceAction::Get, &s.url),
        params(&s),
        whole(data.len()),
        39,
    );
    assert_eq!(d.next().await.unwrap(), data[39 * C..40 * C]);
    assert_eq!(d.next().await.unwrap(), data[40 * C..]);
}

#[tokio::test]
async fn corrupted_chunk_and_wrong_satellite_are_detected() {
    let s = setup().await;
    let data = data();
    upload(&s, &data).await;
    s.node
        .pieces
        .lock()
        .unwrap()
        .get_mut(&s.piece_id)
        .unwrap()
        .data[C + 5] ^= 0xff;
    let mut d = PieceDownload::start(
        limit(&s, PieceAction::Get, &s.url),
        params(&s),
        whole(data.len()),
        0,
    );
    assert_eq!(d.next().await.unwrap(), data[..C]);
    let e = d.next().await.unwrap_err();
    assert!(e.contains("corrupted"), "{e}");

    let mut p = params(&s);
    p.satellite = SigningKeyPair::generate().public_key().node_id();
    let mut d = PieceDownload::start(limit(&s, PieceAction::Get, &s.url), p, whole(data.len()), 0);
    let e = d.next().await.unwrap_err();
    assert!(e.contains("original order limit"), "{e}");
}

#[tokio::test]
async fn unreachable_node_fails_the_piece() {
    let s = setup().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = NodeUrl {
        id: s.url.id,
        address: listener.local_addr().unwrap().to_string(),
    };
    drop(listener);
    let (tx, rx) = mpsc::channel(1);
    drop(tx);
    let e = upload_piece(
        limit(&s, PieceAction::Put, &dead),
        s.piece_key.clone(),
        rx,
        opts(2),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("dial"), "{e}");
    let mut d = PieceDownload::start(limit(&s, PieceAction::Get, &dead), params(&s), whole(10), 0);
    assert!(d.next().await.unwrap_err().contains("dial"));
}

#[tokio::test]
async fn node_refusing_the_upload_is_reported() {
    let s = setup().await;
    // A limit signed by a satellite the node does not trust.
    let mut l = limit(&s, PieceAction::Put, &s.url);
    let rogue = SigningKeyPair::generate();
    l.limit.satellite_id = rogue.public_key().node_id();
    l.signed = rogue.sign(&l.limit);
    let (tx, rx) = mpsc::channel(1);
    let task = tokio::spawn(upload_piece(l, s.piece_key.clone(), rx, opts(5)));
    let _ = tx.send(vec![1; 100]).await;
    drop(tx);
    let e = task.await.unwrap().unwrap_err();
    assert!(matches!(e, crate::dial::PieceError::Rpc { .. }), "{e}");
}
