//! Identity-bound TLS over real sockets: the dialed id is enforced, the
//! server learns the caller's id, plaintext and TLS do not mix.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use satstore_common::{Identity, NodeUrl};
use satstore_proto::piecestore::contact_client::ContactClient;
use satstore_proto::piecestore::contact_server::{Contact, ContactServer};
use satstore_proto::piecestore::{PingRequest, PingResponse};
use satstore_transport::{AcceptLimits, Dialer, PeerInfo, Security, ServerTls, incoming};
use tonic::{Request, Response, Status};

/// Answers pings with the caller's id in the proof's signer field.
struct Echo;

#[tonic::async_trait]
impl Contact for Echo {
    async fn ping(&self, req: Request<PingRequest>) -> Result<Response<PingResponse>, Status> {
        let caller = PeerInfo::of(&req)
            .and_then(|p| p.peer_id)
            .map(|id| id.to_string())
            .unwrap_or_default();
        Ok(Response::new(PingResponse {
            proof: Some(satstore_proto::common::Signed {
                signer: caller.into_bytes(),
                ..Default::default()
            }),
        }))
    }
}

async fn serve(identity: &Identity, security: Security) -> NodeUrl {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let tls = match security {
        Security::Tls => Some(ServerTls::new(identity).unwrap()),
        Security::Insecure => None,
    };
    let conns = incoming(listener, tls, AcceptLimits::default());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(ContactServer::new(Echo))
            .serve_with_incoming(conns),
    );
    NodeUrl {
        id: identity.id(),
        address,
    }
}

async fn ping(dialer: &Dialer, url: &NodeUrl) -> Result<String, String> {
    let channel = dialer.dial(url).await.map_err(|e| e.to_string())?;
    let r = ContactClient::new(channel)
        .ping(PingRequest::default())
        .await
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8(r.into_inner().proof.unwrap().signer).unwrap())
}

#[tokio::test]
async fn dialed_id_is_enforced_and_caller_identified() {
    let server = Identity::generate(0);
    let url = serve(&server, Security::Tls).await;

    // Anonymous client: connects, the server sees no identity.
    let anon = Dialer::anonymous(Security::Tls);
    assert_eq!(ping(&anon, &url).await.unwrap(), "");

    // A peer with an identity: the server sees its id.
    let me = Identity::generate(0);
    let peer = Dialer::with_identity(Security::Tls, &me).unwrap();
    assert_eq!(ping(&peer, &url).await.unwrap(), me.id().to_string());

    // Dialing another id at the same address fails, naming both ids.
    let wrong = NodeUrl {
        id: Identity::generate(0).id(),
        address: url.address.clone(),
    };
    let e = ping(&anon, &wrong).await.unwrap_err();
    assert!(e.contains("not the node"), "{e}");
    assert!(e.contains(&server.id().to_string()), "{e}");

    // A plaintext client cannot talk to a TLS server.
    assert!(
        ping(&Dialer::anonymous(Security::Insecure), &url)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn insecure_is_plaintext_both_ways() {
    let server = Identity::generate(0);
    let url = serve(&server, Security::Insecure).await;
    let plain = Dialer::anonymous(Security::Insecure);
    assert_eq!(ping(&plain, &url).await.unwrap(), "");
    // A TLS client refuses a plaintext server.
    assert!(ping(&Dialer::anonymous(Security::Tls), &url).await.is_err());
}

#[tokio::test]
async fn stalled_handshakes_do_not_block_others() {
    use tokio::io::AsyncWriteExt;
    let server = Identity::generate(0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let limits = AcceptLimits {
        handshake_timeout: std::time::Duration::from_millis(300),
        max_handshakes: 2,
        max_connections: 16,
    };
    let conns = incoming(listener, Some(ServerTls::new(&server).unwrap()), limits);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(ContactServer::new(Echo))
            .serve_with_incoming(conns),
    );
    // Two connections that never finish a handshake take both slots...
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(&address).await.unwrap();
        s.write_all(&[0x16, 0x03, 0x01]).await.unwrap();
        stalled.push(s);
    }
    // ...until the handshake timeout frees them for a real client.
    let url = NodeUrl {
        id: server.id(),
        address,
    };
    let r = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        ping(&Dialer::anonymous(Security::Tls), &url),
    )
    .await
    .expect("served after the stalled handshakes timed out");
    assert_eq!(r.unwrap(), "");
}
