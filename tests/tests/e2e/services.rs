//! Service plumbing: metrics endpoints, per-instance counters.

use std::net::SocketAddr;

use satstore_tests::TestNet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::upload;

async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_are_served_per_instance() {
    let tn = TestNet::start().await.expect("start");
    let project = tn.project().await.expect("project");
    project.create_bucket("metrics").await.expect("bucket");
    upload(&project, "metrics", "o", 1, 300_000)
        .await
        .expect("upload");

    let net = tn.net();
    let (code, body) = http_get(net.satellite().metrics_addr(), "/metrics").await;
    assert_eq!(code, 200);
    assert!(body.contains("satellite_rpc_requests_total"), "{body}");
    assert!(body.contains("CreateBucket"), "{body}");
    let (code, _) = http_get(net.satellite().metrics_addr(), "/healthz").await;
    assert_eq!(code, 200);

    // Nodes keep their own counters: the sum of their upload counts equals
    // the pieces stored, not ten times it.
    let mut uploads_seen = 0;
    for (_, node) in net.running_nodes() {
        let (code, body) = http_get(node.metrics_addr(), "/metrics").await;
        assert_eq!(code, 200);
        assert!(body.contains("storagenode_"), "{body}");
        uploads_seen += body
            .lines()
            .filter(|l| {
                l.starts_with("storagenode_rpc_requests_total")
                    && l.contains("Upload")
                    && l.contains("ok")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64;
    }
    assert!(
        (8..=10).contains(&uploads_seen),
        "one upload per piece expected, saw {uploads_seen}"
    );
    tn.shutdown().await;
}
