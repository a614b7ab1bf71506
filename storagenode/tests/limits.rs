//! What a transfer may hold on a node: idle streams and streams past their
//! limit's expiry are ended, concurrent transfers are capped per node and
//! per project, and nothing is set aside before bytes arrive.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use std::time::Duration;

use satstore_common::{Identity, PieceAction, PieceId};
use satstore_proto::piecestore::UploadRequest;
use storagenode::StorageNodeConfig;
use support::*;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

/// Opens an upload that sends only its limit and then nothing; returns the
/// sender (keep it to keep the stream open) and the pending call.
async fn idle_upload(
    node: &storagenode::StorageNodeHandle,
    g: &Grant,
    sat: &Identity,
) -> (
    mpsc::Sender<UploadRequest>,
    tokio::task::JoinHandle<
        Result<tonic::Response<satstore_proto::piecestore::UploadResponse>, tonic::Status>,
    >,
) {
    let (tx, rx) = mpsc::channel(1);
    tx.send(UploadRequest {
        limit: Some(g.signed_limit(sat)),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut c = client(node).await;
    let call = tokio::spawn(async move { c.upload(ReceiverStream::new(rx)).await });
    (tx, call)
}

fn config(
    dir: &std::path::Path,
    sat: &Identity,
    adjust: impl FnOnce(&mut StorageNodeConfig),
) -> StorageNodeConfig {
    let mut c = node_config(dir, sat, 1 << 30, None);
    adjust(&mut c);
    c
}

#[tokio::test]
async fn idle_upload_is_ended_and_holds_no_space() {
    let sat = Identity::generate(0);
    let dir = tempfile::tempdir().unwrap();
    let node = start_node_with(config(dir.path(), &sat, |c| {
        c.transfer_idle_timeout = Duration::from_millis(300);
    }))
    .await;
    let g = Grant::new(
        &sat,
        node.id(),
        PieceId::random(),
        PieceAction::Put,
        64 << 20,
    );
    let (_tx, call) = idle_upload(&node, &g, &sat).await;
    wait_for_metric(&node, "storagenode_transfers_active 1").await;
    assert_eq!(
        node.store().used_space(),
        0,
        "nothing set aside before bytes"
    );
    let r = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("the node ends the idle upload")
        .unwrap();
    assert_status(r, Code::DeadlineExceeded, "no message from the client");
    wait_for_metric(&node, "storagenode_transfers_active 0").await;
    assert!(
        metrics_text(&node)
            .await
            .contains("storagenode_transfers_timed_out_total{reason=\"idle\"} 1")
    );
    node.shutdown().await;
}

#[tokio::test]
async fn upload_ends_when_its_limit_expires() {
    let sat = Identity::generate(0);
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(dir.path(), &sat, 1 << 30, None).await;
    let mut g = Grant::new(
        &sat,
        node.id(),
        PieceId::random(),
        PieceAction::Put,
        1 << 20,
    );
    g.limit.order_expiration = satstore_common::time::now_unix() + 2;
    let (_tx, call) = idle_upload(&node, &g, &sat).await;
    let r = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("the node ends the upload at the limit's expiry")
        .unwrap();
    assert_status(r, Code::DeadlineExceeded, "expired during the transfer");
    node.shutdown().await;
}

#[tokio::test]
async fn concurrent_transfers_are_capped_per_node_and_per_project() {
    let sat = Identity::generate(0);
    let dir = tempfile::tempdir().unwrap();
    let node = start_node_with(config(dir.path(), &sat, |c| {
        c.max_concurrent_transfers = 2;
        c.max_transfers_per_project = 1;
    }))
    .await;
    let grant = |tenant: u8| {
        let mut g = Grant::new(
            &sat,
            node.id(),
            PieceId::random(),
            PieceAction::Put,
            1 << 20,
        );
        g.limit.tenant = [tenant; 16];
        g
    };
    let (a1, a1_call) = idle_upload(&node, &grant(1), &sat).await;
    wait_for_metric(&node, "storagenode_transfers_active 1").await;
    // The same project again: refused at once.
    let (_a2, a2_call) = idle_upload(&node, &grant(1), &sat).await;
    assert_status(
        a2_call.await.unwrap(),
        Code::ResourceExhausted,
        "this project",
    );
    // Another project fits; a third one finds the node full.
    let (_b, _b_call) = idle_upload(&node, &grant(2), &sat).await;
    wait_for_metric(&node, "storagenode_transfers_active 2").await;
    let (_c, c_call) = idle_upload(&node, &grant(3), &sat).await;
    assert_status(c_call.await.unwrap(), Code::ResourceExhausted, "busy");
    // A finished transfer frees its slot.
    drop(a1);
    assert!(a1_call.await.unwrap().is_err());
    wait_for_metric(&node, "storagenode_transfers_active 1").await;
    let mut c = client(&node).await;
    let g = grant(1);
    let bytes = data(1000, 1);
    upload(
        &mut c,
        upload_messages(
            g.signed_limit(&sat),
            g.order(1000),
            &bytes,
            g.piece_hash(&bytes),
        ),
    )
    .await
    .expect("a slot is free again");
    node.shutdown().await;
}

#[tokio::test]
async fn a_full_filesystem_refuses_uploads_whatever_the_allocation() {
    let sat = Identity::generate(0);
    let dir = tempfile::tempdir().unwrap();
    let free = storagenode::store::filesystem_available(dir.path()).unwrap();
    // Keep more free than the disk has: the allocation alone would accept.
    let node = start_node_with(config(dir.path(), &sat, |c| {
        c.allocated_space = satstore_common::config::ByteSize(1 << 40);
        c.min_free_disk = satstore_common::config::ByteSize(free + (1 << 40));
    }))
    .await;
    let mut c = client(&node).await;
    let g = Grant::new(&sat, node.id(), PieceId::random(), PieceAction::Put, 1000);
    let bytes = data(1000, 2);
    assert_status(
        upload(
            &mut c,
            upload_messages(
                g.signed_limit(&sat),
                g.order(1000),
                &bytes,
                g.piece_hash(&bytes),
            ),
        )
        .await,
        Code::ResourceExhausted,
        "not enough space",
    );
    node.shutdown().await;
}
