//! The node over real gRPC on loopback with a real RocksDB in a temp dir.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use satstore_common::piece::{root_hash, verify_chunk};
use satstore_common::{Identity, OrderLimit, PieceAction, PieceHash, PieceId};
use satstore_proto::piecestore::{DeleteRequest, DownloadRequest};
use storagenode::testing::CorruptPiece;
use support::*;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

#[tokio::test]
async fn upload_then_ranged_download_with_proof_chain() {
    let dir = tempfile::tempdir().unwrap();
    let sat = Identity::generate(0);
    let node = start_node(dir.path(), &sat, 1 << 30, None).await;
    let mut c = client(&node).await;

    let bytes = data(CHUNK * 3 + CHUNK / 2, 1);
    let g = Grant::new(
        &sat,
        node.id(),
        PieceId::random(),
        PieceAction::Put,
        bytes.len() as u64,
    );
    let msgs = upload_messages(
        g.signed_limit(&sat),
        g.order(bytes.len() as u64),
        &bytes,
        g.piece_hash(&bytes),
    );
    let resp = upload(&mut c, msgs).await.unwrap();
    let node_hash: PieceHash = from_proto(resp.done.unwrap()).verify(&node.id()).unwrap();
    assert_eq!(node_hash.piece_id, g.limit.piece_id);
    assert_eq!(node_hash.piece_size, bytes.len() as u64);
    assert_eq!(node.store().piece_count(), 1);
    assert_eq!(node.store().used_space(), bytes.len() as u64);

    // The settlement order was kept.
    let kept = node
        .store()
        .order(&sat.id(), &g.limit.serial_number)
        .unwrap()
        .unwrap();
    assert_eq!(kept.amount, bytes.len() as u64);

    // Ranged download from the second chunk to the end.
    let get = Grant::new(&sat, node.id(), g.limit.piece_id, PieceAction::Get, 1 << 20);
    let size = (bytes.len() - CHUNK) as i64;
    let msgs = download(&mut c, &get, &sat, CHUNK as i64, size)
        .await
        .unwrap();
    let proof = msgs[0].proof.clone().expect("proof first");
    let original: OrderLimit = from_proto(proof.original_limit.unwrap())
        .verify(&sat.id())
        .unwrap();
    assert_eq!(original, g.limit);
    let uplink_hash: PieceHash = from_proto(proof.uplink_hash.unwrap())
        .verify_with_key(&original.uplink_public_key)
        .unwrap();
    assert_eq!(uplink_hash.hash, root_hash(&proof.chunk_hashes));
    assert_eq!(proof.piece_size, bytes.len() as i64);
    let mut got = Vec::new();
    for (i, m) in msgs[1..].iter().enumerate() {
        let chunk = m.chunk.as_ref().unwrap();
        assert_eq!(chunk.offset as usize, CHUNK * (i + 1));
        assert!(verify_chunk(&proof.chunk_hashes, i as u64 + 1, &chunk.data));
        got.extend_from_slice(&chunk.data);
    }
    assert_eq!(msgs.len(), 4);
    assert_eq!(got, bytes[CHUNK..]);
    node.shutdown().await;
}

#[tokio::test]
async fn download_waits_for_orders_to_cover_each_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let sat = Identity::generate(0);
    let node = start_node(dir.path(), &sat, 1 << 30, None).await;
    let mut c = client(&node).await;
    let bytes = data(CHUNK * 2, 2);
    let g = put_piece(&mut c, &sat, node.id(), &bytes).await;

    let get = Grant::new(&sat, node.id(), g.limit.piece_id, PieceAction::Get, 1 << 20);
    let (tx, rx) = mpsc::channel(4);
    tx.send(DownloadRequest {
        limit: Some(get.signed_limit(&sat)),
        offset: 0,
        size: bytes.len() as i64,
        order: Some(get.order(CHUNK as u64)),
    })
    .await
    .unwrap();
    let mut stream = c
        .download(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().unwrap().proof.is_some());
    let first = stream.message().await.unwrap().unwrap().chunk.unwrap();
    assert_eq!(first.data, bytes[..CHUNK]);
    // Nothing more until a bigger order arrives.
    let early = tokio::time::timeout(std::time::Duration::from_millis(200), stream.message()).await;
    assert!(early.is_err(), "node sent a chunk no order covered");
    tx.send(DownloadRequest {
        order: Some(get.order(2 * CHUNK as u64)),
        ..Default::default()
    })
    .await
    .unwrap();
    let second = stream.message().await.unwrap().unwrap().chunk.unwrap();
    assert_eq!(second.data, bytes[CHUNK..]);
    assert!(stream.message().await.unwrap().is_none());
    node.shutdown().await;
}

#[tokio::test]
async fn invalid_limits_are_refused_with_clear_codes() {
    let dir = tempfile::tempdir().unwrap();
    let sat = Identity::generate(0);
    let node = start_node(dir.path(), &sat, 1 << 30, None).await;
    let mut c = client(&node).await;
    let bytes = data(1000, 3);
    let put = |g: &Grant, signer: &Identity| {
        upload_messages(
            g.signed_limit(signer),
            g.order(1000),
            &bytes,
            g.piece_hash(&bytes),
        )
    };
    let fresh = || Grant::new(&sat, node.id(), PieceId::random(), PieceAction::Put, 1000);

    // Forged: claims the trusted satellite, signed by another key.
    let forger = Identity::generate(0);
    let g = fresh();
    assert_status(
        upload(&mut c, put(&g, &forger)).await,
        Code::PermissionDenied,
        "order limit signature invalid",
    );

    // Untrusted satellite.
    let g = Grant::new(
        &forger,
        node.id(),
        PieceId::random(),
        PieceAction::Put,
        1000,
    );
    assert_status(
        upload(&mut c, put(&g, &forger)).await,
        Code::PermissionDenied,
        "untrusted satellite",
    );

    // Addressed to another node.
    let g = Grant::new(&sat, forger.id(), PieceId::random(), PieceAction::Put, 1000);
    assert_status(
        upload(&mut c, put(&g, &sat)).await,
        Code::PermissionDenied,
        "addressed to another node",
    );

    // Wrong action.
    let g = Grant::new(&sat, node.id(), PieceId::random(), PieceAction::Get, 1000);
    assert_status(
        upload(&mut c, put(&g, &sat)).await,
        Code::PermissionDenied,
        "not allowed for upload",
    );

    // Expired.
    let mut g = fresh();
    g.limit.order_expiration = g.limit.order_creation - 1;
    assert_status(
        upload(&mut c, put(&g, &sat)).await,
        Code::PermissionDenied,
        "order limit expired",
    );
    let mut g = fresh();
    g.limit.order_creation -= 2 * 3600;
    assert_status(
        upload(&mut c, put(&g, &sat)).await,
        Code::PermissionDenied,
        "order limit expired",
    );

    // Missing limit.
    let mut msgs = put(&fresh(), &sat);
    msgs[0].limit = None;
    assert_status(
        upload(&mut c, msgs).await,
        Code::InvalidArgument,
        "missing order limit",
    );

    // Replayed serial: the second upload with the same limit is refused.
    let g = fresh();
    upload(&mut c, put(&g, &sat)).await.unwrap();
    let mut again = g.limit.clone();
    again.piece_id = PieceId::random();
    let replay = Grant {
        limit: again,
        piece_key: g.piece_key,
    };
    assert_status(
        upload(&mut c, put(&replay, &sat)).await,
        Code::PermissionDenied,
        "serial number already used",
    );

    assert_eq!(node.store().piece_count(), 1);
    node.shutdown().await;
}

#[tokio::test]
async fn bytes_beyond_orders_limit_or_hash_are_refused_and_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let sat = Identity::generate(0);
    let node = start_node(dir.path(), &sat, 1 << 30, None).await;
    let mut c = client(&node).await;
    let bytes = data(2 * CHUNK, 4);
    let n = bytes.len() as u64;

    // Orders cover only the first chunk.
    let g = Grant::new(&sat, node.id(), PieceId::random(), PieceAction::Put, n);
    let msgs = upload_messages(
        g.signed_limit(&sat),
        g.order(CHUNK as u64),
        &bytes,
        g.piece_hash(&bytes),
    );
    assert_status(
        upload(&mut c, msgs).await,
        Code::ResourceExhausted,
        "signed orders allow",
    );

    // Limit smaller than the data (orders may not exceed it either).
    let g = Grant::new(&sat, node.id(), PieceId::random(), PieceAction::Put, n - 1);
    let msgs = upload_messages(
        g.signed_limit(&sat),
        g.order(n - 1),
        &bytes,
        g.piece_hash(&bytes),
    );
    assert_status(
        upload(&mut c, msgs).await,
        Code::PermissionDenied,
        "exceeds the order limit",
    );
    let msgs = upload_messages(
        g.signed_limit(&sat),
        g.order(n),
        &bytes,
        g.piece_hash(&bytes),
    );
    // (new serial needed: the previous limit's serial is used)
    let g2 = Grant::new(&sat, node.id(), PieceId::random(), PieceAction::Put, n - 1);
    let msgs2 = upload_messages(
        g2.signed_limit(&sat),
        g2.order(n),
        &bytes,
        g2.piece_hash(&bytes),
    );
    drop(msgs);
    assert_status(
        upload(&mut c, msgs2).await,
        Code::PermissionDenied,
        "exceeds the order limit",
    );

    // Piece hash of other data.
    let g = Grant::new(&sat, node.id(), PieceId::random(), PieceAction::Put, n);
    let mut other = bytes.clone();
    other[5] ^= 1;
    let msgs = upload_messages(
        g.signed_limit(&sat),
        g.order(n),
        &bytes,
        g.piece_hash(&other),
    );
    assert_status(
        upload(&mut c, msgs).await,
        Code::InvalidArgument,
        "piece hash mismatch",
    );

    // Stream ending without done.
    let g = Grant::new(&sat, node.id(), PieceId::random(), PieceAction::Put, n);
    let mut msgs = upload_messages(
        g.signed_limit(&sat),
        g.order(n),
        &bytes,
        g.piece_hash(&bytes),
    );
    msgs.pop();
    assert_status(
        upload(&mut c, msgs).await,
        Code::InvalidArgument,
        "without a piece hash",
    );

    assert_eq!(node.store().piece_count(), 0);
    assert!(node.store().piece_ids(&sat.id()).unwrap().is_empty());
    assert_eq!(node.store().used_space(), 0);
    node.shutdown().await;
}

#[tokio::test]
async fn allocated_space_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let sat = Identity::generate(0);
    let node = start_node(dir.path(), &sat, 3 * CHUNK as u64, None).await;
    let mut c = client(&node).await;
    put_piece(&mut c, &sat, node.id(), &data(2 * CHUNK, 5)).await;
    let bytes = data(2 * CHUNK, 6);
    let g = Grant::new(
        &sat,
        node.id(),
        PieceId::random(),
        PieceAction::Put,
        bytes.len() as u64,
    );
    let msgs = upload_messages(
        g.signed_limit(&sat),
        g.order(bytes.len() as u64),
        &bytes,
        g.piece_hash(&bytes),
    );
    assert_status(
        upload(&mut c, msgs).await,
        Code::ResourceExhausted,
        "not enough space",
    );
    // What fits still goes in.
    put_piece(&mut c, &sat, node.id(), &data(CHUNK, 7)).await;
    assert_eq!(node.store().used_space(), 3 * CHUNK as u64);
    node.shutdown().await;
}

#[tokio::test]
async fn download_errors_corruption_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let sat = Identity::generate(0);
    let node = start_node(dir.path(), &sat, 1 << 30, None).await;
    let mut c = client(&node).await;
    let bytes = data(2 * CHUNK + 100, 8);
    let g = put_piece(&mut c, &sat, node.id(), &bytes).await;
    let get = |piece| Grant::new(&sat, node.id(), piece, PieceAction::Get, 1 << 20);

    assert_status(
        download(&mut c, &get(PieceId::random()), &sat, 0, 10).await,
        Code::NotFound,
        "piece not found",
    );
    assert_status(
        download(&mut c, &get(g.limit.piece_id), &sat, 10, 100).await,
        Code::InvalidArgument,
        "not a multiple",
    );
    assert_status(
        download(&mut c, &get(g.limit.piece_id), &sat, 0, 100).await,
        Code::InvalidArgument,
        "range end",
    );
    assert_status(
        download(
            &mut c,
            &get(g.limit.piece_id),
            &sat,
            CHUNK as i64,
            2 * CHUNK as i64,
        )
        .await,
        Code::OutOfRange,
        "beyond the piece",
    );
    let put_limit = Grant::new(&sat, node.id(), g.limit.piece_id, PieceAction::Put, 1 << 20);
    assert_status(
        download(&mut c, &put_limit, &sat, 0, 100).await,
        Code::PermissionDenied,
        "not allowed for download",
    );
    // The whole piece, ending at the piece end (not chunk aligned), works.
    let all = download(&mut c, &get(g.limit.piece_id), &sat, 0, bytes.len() as i64)
        .await
        .unwrap();
    assert_eq!(all.len(), 4);

    // Corrupt the second chunk: the first is still served, then DATA_LOSS.
    node.corrupt_piece(&sat.id(), &g.limit.piece_id, CHUNK as u64 + 7)
        .unwrap();
    let g2 = get(g.limit.piece_id);
    let first = DownloadRequest {
        limit: Some(g2.signed_limit(&sat)),
        offset: 0,
        size: bytes.len() as i64,
        order: Some(g2.order(bytes.len() as u64)),
    };
    let mut stream = c
        .download(tokio_stream::iter(vec![first]))
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().unwrap().proof.is_some());
    assert!(stream.message().await.unwrap().unwrap().chunk.is_some());
    assert_status(stream.message().await, Code::DataLoss, "hash check");

    // Delete, then delete again (idempotent), then the piece is gone.
    for _ in 0..2 {
        let d = Grant::new(&sat, node.id(), g.limit.piece_id, PieceAction::Delete, 0);
        c.delete(DeleteRequest {
            limit: Some(d.signed_limit(&sat)),
        })
        .await
        .unwrap();
    }
    let wrong = Grant::new(&sat, node.id(), g.limit.piece_id, PieceAction::Get, 0);
    assert_status(
        c.delete(DeleteRequest {
            limit: Some(wrong.signed_limit(&sat)),
        })
        .await,
        Code::PermissionDenied,
        "not allowed for delete",
    );
    assert_status(
        download(&mut c, &get(g.limit.piece_id), &sat, 0, 10).await,
        Code::NotFound,
        "piece not found",
    );
    assert_eq!(node.store().used_space(), 0);
    node.shutdown().await;
}

#[tokio::test]
async fn restart_keeps_pieces_and_used_serials() {
    let dir = tempfile::tempdir().unwrap();
    let sat = Identity::generate(0);
    let bytes = data(CHUNK + 1, 9);
    let node = start_node(dir.path(), &sat, 1 << 30, None).await;
    let id = node.id();
    let mut c = client(&node).await;
    let g = put_piece(&mut c, &sat, id, &bytes).await;
    drop(c);
    node.shutdown().await;

    let node = start_node(dir.path(), &sat, 1 << 30, None).await;
    assert_eq!(node.id(), id, "identity survives restarts");
    let mut c = client(&node).await;
    let get = Grant::new(&sat, id, g.limit.piece_id, PieceAction::Get, 1 << 20);
    let msgs = download(&mut c, &get, &sat, 0, bytes.len() as i64)
        .await
        .unwrap();
    let got: Vec<u8> = msgs[1..]
        .iter()
        .flat_map(|m| m.chunk.clone().unwrap().data)
        .collect();
    assert_eq!(got, bytes);
    // Replaying the original PUT limit is still refused.
    let msgs = upload_messages(
        g.signed_limit(&sat),
        g.order(bytes.len() as u64),
        &bytes,
        g.piece_hash(&bytes),
    );
    assert_status(
        upload(&mut c, msgs).await,
        Code::PermissionDenied,
        "serial number already used",
    );

    // Kill mid-upload: after restart the partial piece is gone and its space free.
    let partial = Grant::new(
        &sat,
        id,
        PieceId::random(),
        PieceAction::Put,
        4 * CHUNK as u64,
    );
    let (tx, rx) = mpsc::channel(8);
    let mut msgs = upload_messages(
        partial.signed_limit(&sat),
        partial.order(4 * CHUNK as u64),
        &data(4 * CHUNK, 1),
        partial.piece_hash(&data(4 * CHUNK, 1)),
    );
    msgs.truncate(3); // limit+order, two chunks, no done
    for m in msgs {
        tx.send(m).await.unwrap();
    }
    let pending = tokio::spawn(async move { c.upload(ReceiverStream::new(rx)).await });
    // Wait until the node holds the two chunks sent, i.e. the upload is in flight.
    let store = node.store();
    while store.used_space() < (bytes.len() + 2 * CHUNK) as u64 {
        tokio::task::yield_now().await;
    }
    drop(store);
    node.kill().await;
    assert!(pending.await.unwrap().is_err());
    drop(tx);

    let node = start_node(dir.path(), &sat, 1 << 30, None).await;
    assert_eq!(
        node.store().piece_ids(&sat.id()).unwrap(),
        vec![g.limit.piece_id]
    );
    assert_eq!(node.store().used_space(), bytes.len() as u64);
    node.shutdown().await;
}
