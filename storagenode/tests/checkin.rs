//! Check-in with a fake satellite that dials back `Contact.Ping`, the
//! metrics endpoint, and shutdown ending open streams.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use std::sync::{Arc, Mutex};

use satstore_common::contact::{CheckInInfo, PingProof};
use satstore_common::{Identity, NodeId, NodeUrl, PieceAction, PieceId};
use satstore_proto::node::node_server::{Node, NodeServer};
use satstore_proto::node::{CheckInRequest, CheckInResponse, SettleRequest, SettleResponse};
use satstore_proto::piecestore::contact_client::ContactClient;
use satstore_proto::piecestore::{DownloadRequest, PingRequest};
use satstore_transport::{AcceptLimits, Dialer, PeerInfo, Security, ServerTls};
use support::*;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Response, Status, Streaming};

/// Satellite side of check-in: verify the signed info, ping back, record
/// (with the id the node's TLS client certificate showed).
#[derive(Clone, Default)]
struct FakeSatellite {
    online: Arc<Mutex<Vec<Seen>>>,
}

/// A check-in the fake satellite accepted: signer, info, TLS peer id.
type Seen = (NodeId, CheckInInfo, Option<NodeId>);

#[tonic::async_trait]
impl Node for FakeSatellite {
    async fn check_in(
        &self,
        req: Request<CheckInRequest>,
    ) -> Result<Response<CheckInResponse>, Status> {
        let tls_peer = PeerInfo::of(&req).and_then(|p| p.peer_id);
        let signed = from_proto(
            req.into_inner()
                .info
                .ok_or_else(|| Status::invalid_argument("info"))?,
        );
        let node_id = signed
            .signer_key()
            .map_err(|e| Status::invalid_argument(e.to_string()))?
            .node_id();
        let info: CheckInInfo = signed
            .verify(&node_id)
            .map_err(|e| Status::permission_denied(e.to_string()))?;
        let challenge: [u8; 32] = rand::random();
        let url = NodeUrl {
            id: node_id,
            address: info.address.clone(),
        };
        let channel = Dialer::anonymous(Security::Tls)
            .dial(&url)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let mut contact = ContactClient::new(channel);
        let proof = contact
            .ping(PingRequest {
                challenge: challenge.to_vec(),
            })
            .await?
            .into_inner()
            .proof
            .ok_or_else(|| Status::internal("no proof"))?;
        let ok = from_proto(proof)
            .verify::<PingProof>(&node_id)
            .is_ok_and(|p| p.challenge == challenge);
        if ok {
            self.online.lock().unwrap().push((node_id, info, tls_peer));
        }
        Ok(Response::new(CheckInResponse {
            ping_ok: ok,
            ping_error: if ok {
                String::new()
            } else {
                "bad proof".into()
            },
        }))
    }

    async fn settle(
        &self,
        _req: Request<Streaming<SettleRequest>>,
    ) -> Result<Response<SettleResponse>, Status> {
        Err(Status::unimplemented("settle"))
    }
}

#[tokio::test]
async fn node_checks_in_and_proves_its_identity() {
    let sat = Identity::generate(0);
    let fake = FakeSatellite::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sat_addr = listener.local_addr().unwrap().to_string();
    let incoming = satstore_transport::incoming(
        listener,
        Some(ServerTls::new(&sat).unwrap()),
        AcceptLimits::default(),
    );
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(NodeServer::new(fake.clone()))
            .serve_with_incoming(incoming),
    );

    let dir = tempfile::tempdir().unwrap();
    let node = start_node(dir.path(), &sat, 1 << 30, Some(sat_addr)).await;
    node.check_in_now().await.unwrap();
    let online = fake.online.lock().unwrap().clone();
    assert!(!online.is_empty());
    let (id, info, tls_peer) = online.last().unwrap();
    assert_eq!(*id, node.id());
    assert_eq!(
        *tls_peer,
        Some(node.id()),
        "the node dials with its identity"
    );
    assert_eq!(info.address, node.grpc_addr().to_string());
    assert_eq!(info.free_disk, 1 << 30);
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        node.url().to_string(),
        format!("{}@{}", node.id(), node.grpc_addr())
    );

    // Only a 32-byte challenge is signed: nothing longer, shorter or empty.
    let mut contact = ContactClient::new(
        Dialer::anonymous(Security::Tls)
            .dial(&node.url())
            .await
            .unwrap(),
    );
    for challenge in [vec![], vec![0; 31], vec![0; 33], vec![0; 1024]] {
        assert_status(
            contact.ping(PingRequest { challenge }).await,
            Code::InvalidArgument,
            "exactly 32 bytes",
        );
    }

    server.abort();
    let _ = server.await;
    // With the satellite gone, check-in reports which satellite failed.
    let err = node.check_in_now().await.unwrap_err().to_string();
    assert!(err.contains(&sat.id().to_string()), "{err}");
    node.shutdown().await;
}

#[tokio::test]
async fn metrics_endpoint_reports_domain_metrics() {
    let sat = Identity::generate(0);
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(dir.path(), &sat, 1 << 30, None).await;
    let mut c = client(&node).await;
    put_piece(&mut c, &sat, node.id(), &data(1000, 1)).await;
    let forger = Identity::generate(0);
    let g = Grant::new(&forger, node.id(), PieceId::random(), PieceAction::Put, 10);
    let msgs = upload_messages(
        g.signed_limit(&forger),
        g.order(10),
        &[0; 10],
        g.piece_hash(&[0; 10]),
    );
    assert!(upload(&mut c, msgs).await.is_err());

    let body = metrics_text(&node).await;
    for needle in [
        "storagenode_pieces_stored 1",
        "storagenode_used_space_bytes 1000",
        "storagenode_upload_bytes_total 1000",
        "storagenode_order_limits_refused_total{reason=\"untrusted_satellite\"} 1",
        "storagenode_rpc_requests_total",
    ] {
        assert!(body.contains(needle), "{needle} missing in:\n{body}");
    }
    node.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_a_stream_waiting_for_orders() {
    let sat = Identity::generate(0);
    let dir = tempfile::tempdir().unwrap();
    let node = start_node(dir.path(), &sat, 1 << 30, None).await;
    let mut c = client(&node).await;
    let bytes = data(2 * CHUNK, 3);
    let g = put_piece(&mut c, &sat, node.id(), &bytes).await;
    let get = Grant::new(&sat, node.id(), g.limit.piece_id, PieceAction::Get, 1 << 20);
    let (tx, rx) = mpsc::channel(1);
    tx.send(DownloadRequest {
        limit: Some(get.signed_limit(&sat)),
        offset: 0,
        size: bytes.len() as i64,
        order: None,
    })
    .await
    .unwrap();
    let mut stream = c
        .download(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().unwrap().proof.is_some());
    let reader = tokio::spawn(async move { stream.message().await });
    node.shutdown().await;
    assert_status(reader.await.unwrap(), Code::Unavailable, "shutting down");
    drop(tx);
    // The data dir reopens at once.
    let node = start_node(dir.path(), &sat, 1 << 30, None).await;
    assert_eq!(node.store().piece_count(), 1);
    node.kill().await;
}
