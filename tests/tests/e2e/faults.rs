//! Faults: stopped and killed nodes, corrupted pieces, restarted peers.

use std::time::Duration;

use localnet::{Localnet, LocalnetConfig};
use satstore_common::NodeId;
use satstore_tests::{DataStream, TestNet};
use storagenode::testing::CorruptPiece;
use uplink::UploadOptions;

use crate::helpers::{assert_object, upload};

const MIB: u64 = 1 << 20;

/// Indexes of the running nodes that hold at least one piece.
fn nodes_with_pieces(net: &Localnet) -> Vec<usize> {
    let sat: NodeId = net.satellite().id();
    net.running_nodes()
        .filter(|(_, n)| {
            n.store()
                .piece_ids(&sat)
                .map(|p| !p.is_empty())
                .unwrap_or(false)
        })
        .map(|(i, _)| i)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn download_survives_total_minus_k_nodes_stopped() {
    let mut tn = TestNet::start().await.expect("start");
    let project = tn.project().await.expect("project");
    project.create_bucket("faults").await.expect("bucket");
    upload(&project, "faults", "o", 1, 5 * MIB)
        .await
        .expect("upload");

    // Keep exactly k = 4 nodes that hold pieces; stop the other 6.
    let holders = nodes_with_pieces(tn.net());
    assert!(
        holders.len() >= 8,
        "at least success pieces stored: {holders:?}"
    );
    let keep: Vec<usize> = holders.iter().take(4).copied().collect();
    for i in 0..tn.net().node_count() {
        if !keep.contains(&i) {
            tn.net_mut().stop_node(i).await.expect("stop node");
        }
    }
    assert_eq!(tn.net().running_nodes().count(), 4);
    assert_object(&project, "faults", "o", 1, 5 * MIB).await;
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upload_survives_total_minus_success_nodes_stopped() {
    let mut tn = TestNet::start().await.expect("start");
    let project = tn.project().await.expect("project");
    project.create_bucket("faults").await.expect("bucket");
    // The satellite still believes these two are online and hands out limits
    // for them: the uplink must succeed with the other eight.
    tn.net_mut().stop_node(0).await.expect("stop");
    tn.net_mut().stop_node(1).await.expect("stop");
    upload(&project, "faults", "o", 2, 3 * MIB)
        .await
        .expect("upload with 2 nodes down");
    assert_object(&project, "faults", "o", 2, 3 * MIB).await;

    // With a third node down only 7 < success pieces can be stored: the
    // upload fails cleanly and nothing is listed.
    tn.net_mut().stop_node(2).await.expect("stop");
    let err = upload(&project, "faults", "p", 3, 3 * MIB)
        .await
        .expect_err("too few nodes");
    assert!(!format!("{err:#}").is_empty());
    assert!(project.stat_object("faults", "p").await.is_err());
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upload_survives_a_node_killed_mid_upload() {
    let mut tn = TestNet::start().await.expect("start");
    let project = tn.project().await.expect("project");
    project.create_bucket("faults").await.expect("bucket");
    let len = 24 * MIB;
    let mut up = project
        .upload_object("faults", "killed", &UploadOptions::default())
        .await
        .expect("begin");
    let mut data = DataStream::new(5, len);
    let mut buf = vec![0u8; 256 * 1024];
    let mut written = 0u64;
    let mut killed = false;
    loop {
        let n = data.fill(&mut buf);
        if n == 0 {
            break;
        }
        up.write_all(&buf[..n]).await.expect("write");
        written += n as u64;
        if !killed && written >= 8 * MIB {
            // Every node holds a piece of this segment (total = nodes = 10).
            tn.net_mut().kill_node(3).await.expect("kill");
            killed = true;
        }
    }
    up.commit().await.expect("commit despite a killed node");
    assert_object(&project, "faults", "killed", 5, len).await;
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn corrupted_pieces_are_detected_and_routed_around() {
    let tn = TestNet::start().await.expect("start");
    let project = tn.project().await.expect("project");
    project.create_bucket("faults").await.expect("bucket");
    upload(&project, "faults", "o", 6, 3 * MIB)
        .await
        .expect("upload");
    let net = tn.net();
    let sat = net.satellite().id();
    let holders = nodes_with_pieces(net);
    assert!(holders.len() >= 8);
    // Corrupt every piece but k = 4: the download must find the 4 good ones.
    for &i in &holders[4..] {
        let node = net.node(i).expect("running");
        for piece in node.store().piece_ids(&sat).expect("pieces") {
            node.corrupt_piece(&sat, &piece, 1000).expect("corrupt");
        }
    }
    assert_object(&project, "faults", "o", 6, 3 * MIB).await;

    // With every piece corrupt the download fails loudly instead of
    // returning garbage. Downloads fail over per 64 KiB chunk, so every
    // piece gets both its first and its second chunk corrupted: no chunk
    // position has k good pieces left.
    for &i in &holders {
        let node = net.node(i).expect("running");
        for piece in node.store().piece_ids(&sat).expect("pieces") {
            // (2000: the first pass flipped byte 1000 of some of them.)
            node.corrupt_piece(&sat, &piece, 2000).expect("corrupt");
            node.corrupt_piece(&sat, &piece, 70_000).expect("corrupt");
        }
    }
    let res = crate::helpers::download_hash(&project, "faults", "o", 0, -1).await;
    assert!(res.is_err(), "download of all-corrupt object must fail");
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn committed_data_survives_a_satellite_restart() {
    let mut tn = TestNet::start().await.expect("start");
    let project = tn.project().await.expect("project");
    project.create_bucket("faults").await.expect("bucket");
    upload(&project, "faults", "remote", 7, 2 * MIB)
        .await
        .expect("upload");
    upload(&project, "faults", "inline", 8, 100)
        .await
        .expect("upload");
    tn.net_mut()
        .restart_satellite()
        .await
        .expect("restart satellite");
    let project = tn.project().await.expect("project after restart");
    assert_object(&project, "faults", "remote", 7, 2 * MIB).await;
    assert_object(&project, "faults", "inline", 8, 100).await;
    upload(&project, "faults", "after", 9, MIB)
        .await
        .expect("upload after restart");
    assert_object(&project, "faults", "after", 9, MIB).await;
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn localnet_resumes_from_its_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = LocalnetConfig::new(dir.path());
    let net = Localnet::start(config.clone()).await.expect("first start");
    let sat_id = net.satellite().id();
    let node_ids: Vec<NodeId> = net.running_nodes().map(|(_, n)| n.id()).collect();
    let access = net.access().serialize();
    let project = net.access().open_project().await.expect("project");
    project.create_bucket("keep").await.expect("bucket");
    upload(&project, "keep", "o", 11, 2 * MIB)
        .await
        .expect("upload");
    drop(project);
    net.write_env().expect("env");
    let env = std::fs::read_to_string(dir.path().join("env")).expect("env file");
    assert!(
        env.lines().any(|l| l.starts_with("export UPLINK_ACCESS=")),
        "{env}"
    );
    assert!(
        env.contains(&format!("export SATELLITE_ADDR={sat_id}@")),
        "{env}"
    );
    // Sourcing the file exports the variables to commands run afterwards.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            ". {} && sh -c 'echo \"$UPLINK_ACCESS\"'",
            dir.path().join("env").display()
        ))
        .output()
        .expect("run sh");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), access);
    net.shutdown().await;

    // Node 03 loses its folder: it must come back empty with a new identity.
    std::fs::remove_dir_all(dir.path().join("nodes").join("03")).expect("remove node dir");

    let net = Localnet::start(config).await.expect("second start");
    assert_eq!(net.satellite().id(), sat_id);
    assert_eq!(net.access().serialize(), access);
    let again: Vec<NodeId> = net.running_nodes().map(|(_, n)| n.id()).collect();
    for (i, (a, b)) in node_ids.iter().zip(&again).enumerate() {
        if i == 2 {
            assert_ne!(a, b, "node 03 must have a new identity");
        } else {
            assert_eq!(a, b, "node {:02} keeps its identity", i + 1);
        }
    }
    let fresh = net.node(2).expect("node 03 running");
    assert!(fresh.store().piece_ids(&sat_id).expect("pieces").is_empty());
    let project = net.access().open_project().await.expect("project");
    assert_object(&project, "keep", "o", 11, 2 * MIB).await;
    net.wait_online(10, Duration::from_secs(30))
        .await
        .expect("all online");
    net.shutdown().await;
}
