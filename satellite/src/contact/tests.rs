//! Check-in over real gRPC and TLS: dial-back success and failure, refused
//! envelopes, connections and replays, allowlist and rates.

use satstore_common::Identity;
use satstore_common::contact::CheckInInfo;
use satstore_common::time::now_unix_ms;
use satstore_proto::node::CheckInRequest;
use satstore_proto::node::node_client::NodeClient;
use satstore_transport::{Dialer, Security};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic::transport::Channel;

use super::PING_FAILED;
use crate::metainfo::testing::{TestSatellite, serve_fake_contact, serve_fake_contact_as};

fn check_in(signer: &Identity, address: &str, timestamp_ms: i64) -> CheckInRequest {
    let info = CheckInInfo {
        address: address.into(),
        free_disk: 1 << 30,
        version: "0.1.0".into(),
        timestamp_ms,
    };
    CheckInRequest {
        info: Some(satstore_proto::common::Signed::from(
            signer.keys().sign(&info),
        )),
    }
}

/// A Node API client whose TLS connection is authenticated as `who`.
async fn client_as(sat: &TestSatellite, who: &Identity) -> NodeClient<Channel> {
    let dialer = Dialer::with_identity(Security::Tls, who).unwrap();
    NodeClient::new(dialer.dial(&sat.handle.url()).await.unwrap())
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

async fn is_online(sat: &TestSatellite, id: satstore_common::NodeId) -> bool {
    let window = std::time::Duration::from_secs(3600);
    sat.handle
        .store()
        .online_nodes(window)
        .await
        .unwrap()
        .iter()
        .any(|n| n.id == id)
}

#[tokio::test]
async fn check_in_dials_back_and_refuses_impostors() {
    let sat = TestSatellite::start().await;
    let stop = CancellationToken::new();
    let node = Identity::generate(0);
    let addr = serve_fake_contact(node.clone(), stop.clone())
        .await
        .to_string();
    let mut client = client_as(&sat, &node).await;

    let r = client
        .check_in(check_in(&node, &addr, now_unix_ms()))
        .await
        .unwrap()
        .into_inner();
    assert!(r.ping_ok, "{}", r.ping_error);
    let rec = sat.handle.store().nodes_by_ids(&[node.id()]).await.unwrap()[0].clone();
    assert_eq!(rec.address, addr);
    assert!(is_online(&sat, node.id()).await);
    assert!(
        metrics_text(sat.handle.metrics_addr())
            .await
            .contains("satellite_overlay_nodes_online 1")
    );

    // Another identity claiming the same address: the TLS peer there is not
    // the impostor, and the caller learns only that verification failed.
    let impostor = Identity::generate(0);
    let r = client_as(&sat, &impostor)
        .await
        .check_in(check_in(&impostor, &addr, now_unix_ms()))
        .await
        .unwrap()
        .into_inner();
    assert!(!r.ping_ok);
    assert_eq!(r.ping_error, PING_FAILED);
    assert!(!is_online(&sat, impostor.id()).await);

    // A server holding the node's key for TLS but signing pings with
    // another: the ping proof is checked too.
    let liar = Identity::generate(0);
    let liar_addr = serve_fake_contact_as(liar, &node, stop.clone())
        .await
        .to_string();
    let r = client
        .check_in(check_in(&node, &liar_addr, now_unix_ms()))
        .await
        .unwrap()
        .into_inner();
    assert!(!r.ping_ok);

    // Nobody listening: the same generic answer (no port-scan oracle).
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let r = client
        .check_in(check_in(&node, &closed.to_string(), now_unix_ms()))
        .await
        .unwrap()
        .into_inner();
    assert!(!r.ping_ok);
    assert_eq!(r.ping_error, PING_FAILED);
    assert!(!is_online(&sat, node.id()).await);

    // Tampered envelope, stale clock, bad address, missing info.
    let mut bad = check_in(&node, &addr, now_unix_ms());
    if let Some(i) = bad.info.as_mut() {
        i.payload[3] ^= 1;
    }
    assert_eq!(
        client.check_in(bad).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    let stale = client
        .check_in(check_in(&node, &addr, now_unix_ms() - 3_600_000))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::InvalidArgument);
    assert!(stale.message().contains("clock"), "{}", stale.message());
    let noport = client
        .check_in(check_in(&node, "localhost", now_unix_ms()))
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

#[tokio::test]
async fn check_in_is_bound_to_the_connection_and_never_replayed() {
    let sat = TestSatellite::start().await;
    let stop = CancellationToken::new();
    let node = Identity::generate(0);
    let addr = serve_fake_contact(node.clone(), stop.clone())
        .await
        .to_string();

    // The node's signed check-in, sent by someone else (anonymous TLS, or
    // TLS as another identity): refused before any dial-back.
    let signed = check_in(&node, &addr, now_unix_ms());
    let mut anonymous = NodeClient::new(
        Dialer::anonymous(Security::Tls)
            .dial(&sat.handle.url())
            .await
            .unwrap(),
    );
    let e = anonymous.check_in(signed.clone()).await.unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);
    assert!(
        e.message().contains("authenticated with the node"),
        "{}",
        e.message()
    );
    let other = Identity::generate(0);
    let e = client_as(&sat, &other)
        .await
        .check_in(signed.clone())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unauthenticated);

    // From the node itself: accepted once, then the same bytes (or an older
    // timestamp) are a replay.
    let mut client = client_as(&sat, &node).await;
    assert!(
        client
            .check_in(signed.clone())
            .await
            .unwrap()
            .into_inner()
            .ping_ok
    );
    for replay in [
        signed.clone(),
        check_in(&node, &addr, now_unix_ms() - 5_000),
    ] {
        let e = client.check_in(replay).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().contains("not newer"), "{}", e.message());
    }
    assert!(
        client
            .check_in(check_in(&node, &addr, now_unix_ms() + 1))
            .await
            .unwrap()
            .into_inner()
            .ping_ok
    );
    stop.cancel();
    sat.handle.shutdown().await;
}

#[tokio::test]
async fn allowlist_difficulty_and_rates_are_enforced() {
    let allowed = Identity::generate(0);
    let allowed_id = allowed.id().to_string();
    let sat = TestSatellite::start_with(|c| {
        c.node_allowlist = vec![allowed_id];
        c.check_in_rate_per_node = 1;
    })
    .await;
    let stop = CancellationToken::new();
    let stranger = Identity::generate(0);
    let addr = serve_fake_contact(stranger.clone(), stop.clone())
        .await
        .to_string();
    let e = client_as(&sat, &stranger)
        .await
        .check_in(check_in(&stranger, &addr, now_unix_ms()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(e.message().contains("allowlist"), "{}", e.message());

    // The allowed node: a burst of 5, then slow down.
    let addr = serve_fake_contact(allowed.clone(), stop.clone())
        .await
        .to_string();
    let mut client = client_as(&sat, &allowed).await;
    let t = now_unix_ms();
    for i in 0..5 {
        assert!(
            client
                .check_in(check_in(&allowed, &addr, t + i))
                .await
                .is_ok()
        );
    }
    let e = client
        .check_in(check_in(&allowed, &addr, t + 5))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted);
    sat.handle.shutdown().await;

    // Proof of work: a satellite requiring 30 bits refuses a fresh identity.
    let strict = TestSatellite::start_with(|c| c.min_node_difficulty = 30).await;
    let weak = Identity::generate(0);
    let e = client_as(&strict, &weak)
        .await
        .check_in(check_in(&weak, &addr, now_unix_ms()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    assert!(e.message().contains("difficulty"), "{}", e.message());
    stop.cancel();
    strict.handle.shutdown().await;
}
