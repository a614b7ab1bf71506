//! Check-in over real gRPC: dial-back success and failure, refused envelopes.

use prost::Message;
use satstore_common::Identity;
use satstore_common::time::now_unix;
use satstore_proto::node::node_client::NodeClient;
use satstore_proto::node::{CheckInInfo, CheckInRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use tonic::Code;

use crate::metainfo::testing::{TestSatellite, serve_fake_contact};

fn check_in(signer: &Identity, address: &str, timestamp: i64) -> CheckInRequest {
    let info = CheckInInfo {
        address: address.into(),
        free_disk: 1 << 30,
        version: "0.1.0".into(),
        timestamp_unix: timestamp,
    };
    CheckInRequest {
        info: Some(satstore_proto::common::Signed::from(
            signer.keys().sign_bytes(info.encode_to_vec()),
        )),
    }
}

async fn metrics_text(addr: std::net::SocketAddr) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn check_in_dials_back_and_refuses_impostors() {
    let sat = TestSatellite::start().await;
    let stop = CancellationToken::new();
    let node = Identity::generate(0);
    let addr = serve_fake_contact(node.clone(), stop.clone())
        .await
        .to_string();
    let mut client = NodeClient::connect(format!("http://{}", sat.handle.grpc_addr()))
        .await
        .unwrap();
    let window = std::time::Duration::from_secs(3600);

    let r = client
        .check_in(check_in(&node, &addr, now_unix()))
        .await
        .unwrap()
        .into_inner();
    assert!(r.ping_ok, "{}", r.ping_error);
    let online = sat.handle.store().online_nodes(window).await.unwrap();
    let rec = online
        .iter()
        .find(|n| n.id == node.id())
        .expect("node recorded online");
    assert_eq!(rec.address, addr);
    assert!(
        metrics_text(sat.handle.metrics_addr())
            .await
            .contains("satellite_overlay_nodes_online 1")
    );

    // Another identity claiming the same address: the ping proof is not its own.
    let impostor = Identity::generate(0);
    let r = client
        .check_in(check_in(&impostor, &addr, now_unix()))
        .await
        .unwrap()
        .into_inner();
    assert!(!r.ping_ok);
    assert!(r.ping_error.contains("ping proof"), "{}", r.ping_error);
    assert!(
        !sat.handle
            .store()
            .online_nodes(window)
            .await
            .unwrap()
            .iter()
            .any(|n| n.id == impostor.id())
    );

    // Nobody listening at the address.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let r = client
        .check_in(check_in(&node, &closed.to_string(), now_unix()))
        .await
        .unwrap()
        .into_inner();
    assert!(!r.ping_ok);
    assert!(
        !sat.handle
            .store()
            .online_nodes(window)
            .await
            .unwrap()
            .iter()
            .any(|n| n.id == node.id())
    );

    // Tampered envelope, stale clock, bad address.
    let mut bad = check_in(&node, &addr, now_unix());
    if let Some(i) = bad.info.as_mut() {
        i.payload[1] ^= 1;
    }
    assert_eq!(
        client.check_in(bad).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    let stale = client
        .check_in(check_in(&node, &addr, now_unix() - 3600))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::InvalidArgument);
    assert!(stale.message().contains("clock"), "{}", stale.message());
    let noport = client
        .check_in(check_in(&node, "localhost", now_unix()))
        .await
        .unwrap_err();
    assert_eq!(noport.code(), Code::InvalidArgument);
    assert_eq!(
        client
            .check_in(CheckInRequest { info: None })
            .await
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );

    // Settlement is not implemented yet.
    let settle = client
        .settle(tokio_stream::iter(Vec::new()))
        .await
        .unwrap_err();
    assert_eq!(settle.code(), Code::Unimplemented);
    stop.cancel();
    sat.handle.shutdown().await;
}
