//! The expiration sweep over a real node: a piece whose PUT limit carried a
//! soon-past `piece_expiration` is refused once expired and deleted by the
//! sweep (configured with a short `expiration_sweep_interval`), while a piece
//! without expiration stays.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use std::time::{Duration, Instant};

use satstore_common::time::now_unix;
use satstore_common::{Identity, PieceAction, PieceId};
use support::*;
use tonic::Code;

#[tokio::test]
async fn sweep_deletes_expired_pieces_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let sat = Identity::generate(0);
    let config = node_config(dir.path(), &sat, 1 << 30, None);
    assert_eq!(
        config.expiration_sweep_interval,
        Duration::from_secs(600),
        "default sweep interval"
    );
    let node = start_node_with(storagenode::StorageNodeConfig {
        expiration_sweep_interval: Duration::from_millis(100),
        ..config
    })
    .await;
    let mut c = client(&node).await;

    // A piece expiring in two seconds (the limit is still valid now).
    let expiring_data = data(CHUNK + 10, 4);
    let mut g = Grant::new(
        &sat,
        node.id(),
        PieceId::random(),
        PieceAction::Put,
        expiring_data.len() as u64,
    );
    let expires_at = now_unix() + 2;
    g.limit.piece_expiration = expires_at;
    let msgs = upload_messages(
        g.signed_limit(&sat),
        g.order(expiring_data.len() as u64),
        &expiring_data,
        g.piece_hash(&expiring_data),
    );
    upload(&mut c, msgs).await.unwrap();
    assert_eq!(
        node.store()
            .header(&sat.id(), &g.limit.piece_id)
            .unwrap()
            .expires_at,
        expires_at,
        "the header keeps the limit's piece expiration"
    );
    // A piece that never expires.
    let kept_data = data(100, 5);
    let kept = put_piece(&mut c, &sat, node.id(), &kept_data).await;
    assert_eq!(node.store().piece_count(), 2);

    // Poll until the sweep removed the expiring piece.
    let deadline = Instant::now() + Duration::from_secs(20);
    while node
        .store()
        .piece_ids(&sat.id())
        .unwrap()
        .contains(&g.limit.piece_id)
    {
        assert!(
            Instant::now() < deadline,
            "expired piece was not swept within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(now_unix() >= expires_at, "deleted before it expired");
    assert_eq!(node.store().piece_count(), 1);
    assert_eq!(node.store().used_space(), kept_data.len() as u64);

    // The expired piece is gone for downloads; the other one still serves.
    let get = Grant::new(&sat, node.id(), g.limit.piece_id, PieceAction::Get, 1 << 20);
    assert_status(
        download(&mut c, &get, &sat, 0, expiring_data.len() as i64).await,
        Code::NotFound,
        "",
    );
    let get = Grant::new(
        &sat,
        node.id(),
        kept.limit.piece_id,
        PieceAction::Get,
        1 << 20,
    );
    let msgs = download(&mut c, &get, &sat, 0, kept_data.len() as i64)
        .await
        .unwrap();
    let got: Vec<u8> = msgs[1..]
        .iter()
        .flat_map(|m| m.chunk.as_ref().unwrap().data.clone())
        .collect();
    assert_eq!(got, kept_data);

    let body = metrics_text(&node).await;
    for needle in [
        "storagenode_expired_pieces_deleted_total 1",
        "storagenode_pieces_stored 1",
    ] {
        assert!(body.contains(needle), "{needle} missing in:\n{body}");
    }
    node.shutdown().await;
}
