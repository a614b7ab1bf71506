//! A storage node refuses forged, expired, replayed, mis-addressed and
//! over-limit order limits, checked against a real node with limits made
//! from the real satellite's identity.

use satstore_common::orders::{Order, OrderLimit, PieceAction, PieceHash};
use satstore_common::piece::ChunkHasher;
use satstore_common::signing::{SignedMessage, SigningKeyPair};
use satstore_common::time::now_unix;
use satstore_common::{Identity, NodeId, PieceId, SerialNumber};
use satstore_proto::common::Signed;
use satstore_proto::piecestore::{Chunk, UploadRequest};
use satstore_tests::TestNet;
use tonic::Code;

struct Fixture {
    sat: Identity,
    node_id: NodeId,
    other_node: NodeId,
    node_url: satstore_common::NodeUrl,
}

impl Fixture {
    fn limit(&self, piece_key: &SigningKeyPair, serial: SerialNumber, limit: u64) -> OrderLimit {
        let now = now_unix();
        OrderLimit {
            serial_number: serial,
            satellite_id: self.sat.id(),
            storage_node_id: self.node_id,
            piece_id: PieceId::random(),
            action: PieceAction::Put,
            limit,
            piece_expiration: 0,
            order_creation: now,
            order_expiration: now + 3600,
            uplink_public_key: piece_key.public_key(),
            tenant: [0; 16],
            encrypted_metadata: Vec::new(),
        }
    }

    /// Uploads `data` under `signed` (limit), with an order for `order_amount`.
    async fn upload(
        &self,
        signed: SignedMessage,
        limit: &OrderLimit,
        piece_key: &SigningKeyPair,
        data: &[u8],
        order_amount: u64,
    ) -> Result<(), tonic::Status> {
        let mut client = satstore_tests::dial::piecestore(&self.node_url)
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        let mut msgs = vec![UploadRequest {
            limit: Some(Signed::from(signed)),
            ..Default::default()
        }];
        let order = piece_key.sign(&Order {
            serial_number: limit.serial_number,
            amount: order_amount,
        });
        let mut hasher = ChunkHasher::new();
        for (i, chunk) in data.chunks(64 * 1024).enumerate() {
            hasher.update(chunk);
            msgs.push(UploadRequest {
                order: (i == 0).then(|| Signed::from(order.clone())),
                chunk: Some(Chunk {
                    offset: (i * 64 * 1024) as i64,
                    data: chunk.to_vec(),
                }),
                ..Default::default()
            });
        }
        let (_, root) = hasher.finish();
        let done = piece_key.sign(&PieceHash {
            piece_id: limit.piece_id,
            hash: root,
            piece_size: data.len() as u64,
            timestamp: now_unix(),
        });
        msgs.push(UploadRequest {
            done: Some(Signed::from(done)),
            ..Default::default()
        });
        let resp = client.upload(tokio_stream::iter(msgs)).await?.into_inner();
        let node_hash = resp
            .done
            .ok_or_else(|| tonic::Status::internal("no node hash"))?;
        let m = SignedMessage::from(node_hash);
        let h: PieceHash = m
            .verify(&self.node_id)
            .map_err(|e| tonic::Status::internal(e.to_string()))?;
        assert_eq!(h.piece_id, limit.piece_id);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn node_refuses_bad_order_limits() {
    let tn = TestNet::builder().nodes(10).start().await.expect("start");
    let net = tn.net();
    let sat = Identity::load_or_create(&net.dir().join("satellite")).expect("satellite identity");
    assert_eq!(sat.id(), net.satellite().id());
    let node = net.node(0).expect("node");
    let fx = Fixture {
        sat,
        node_id: node.id(),
        other_node: net.node(1).expect("node").id(),
        node_url: node.url(),
    };
    let data = vec![5u8; 100_000];
    let key = SigningKeyPair::generate();

    // A genuine limit works.
    let l = fx.limit(&key, SerialNumber::new(now_unix() + 3600), 1 << 20);
    fx.upload(fx.sat.keys().sign(&l), &l, &key, &data, data.len() as u64)
        .await
        .expect("genuine limit accepted");

    // Replayed serial: the same signed limit a second time.
    let err = fx
        .upload(fx.sat.keys().sign(&l), &l, &key, &data, data.len() as u64)
        .await
        .expect_err("replay");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains("serial"), "{}", err.message());

    // Forged: claims the satellite's id but is signed by another key.
    let forger = Identity::generate(0);
    let l = fx.limit(&key, SerialNumber::new(now_unix() + 3600), 1 << 20);
    let mut forged = forger.keys().sign(&l);
    let err = fx
        .upload(forged.clone(), &l, &key, &data, data.len() as u64)
        .await
        .expect_err("forged signer");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    // Forged: the satellite's key announced, but the signature is garbage.
    forged.signer = fx.sat.public_key().0.to_vec();
    let err = fx
        .upload(forged, &l, &key, &data, data.len() as u64)
        .await
        .expect_err("bad signature");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    // Expired.
    let mut l = fx.limit(&key, SerialNumber::new(now_unix() - 10), 1 << 20);
    l.order_creation = now_unix() - 7200;
    l.order_expiration = now_unix() - 10;
    let err = fx
        .upload(fx.sat.keys().sign(&l), &l, &key, &data, data.len() as u64)
        .await
        .expect_err("expired");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    // Mis-addressed: a limit for another node.
    let mut l = fx.limit(&key, SerialNumber::new(now_unix() + 3600), 1 << 20);
    l.storage_node_id = fx.other_node;
    let err = fx
        .upload(fx.sat.keys().sign(&l), &l, &key, &data, data.len() as u64)
        .await
        .expect_err("mis-addressed");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    // Wrong action: a GET limit used to upload.
    let mut l = fx.limit(&key, SerialNumber::new(now_unix() + 3600), 1 << 20);
    l.action = PieceAction::Get;
    let err = fx
        .upload(fx.sat.keys().sign(&l), &l, &key, &data, data.len() as u64)
        .await
        .expect_err("wrong action");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    // Over the limit: 100 000 bytes under a 65 536-byte limit.
    let l = fx.limit(&key, SerialNumber::new(now_unix() + 3600), 65_536);
    let err = fx
        .upload(fx.sat.keys().sign(&l), &l, &key, &data, 65_536)
        .await
        .expect_err("over limit");
    assert!(
        matches!(
            err.code(),
            Code::PermissionDenied | Code::ResourceExhausted | Code::InvalidArgument
        ),
        "{err:?}"
    );
    // Beyond the orders: the limit allows 1 MiB but the uplink only signed
    // an order for 10 000 bytes.
    let l = fx.limit(&key, SerialNumber::new(now_unix() + 3600), 1 << 20);
    let err = fx
        .upload(fx.sat.keys().sign(&l), &l, &key, &data, 10_000)
        .await
        .expect_err("beyond orders");
    assert!(
        matches!(
            err.code(),
            Code::PermissionDenied | Code::ResourceExhausted | Code::InvalidArgument
        ),
        "{err:?}"
    );
    // An order signed by a key other than the limit's uplink key.
    let l = fx.limit(&key, SerialNumber::new(now_unix() + 3600), 1 << 20);
    let err = fx
        .upload(
            fx.sat.keys().sign(&l),
            &l,
            &SigningKeyPair::generate(),
            &data,
            data.len() as u64,
        )
        .await
        .expect_err("order signed by a stranger");
    assert!(
        matches!(err.code(), Code::PermissionDenied | Code::InvalidArgument),
        "{err:?}"
    );
    tn.shutdown().await;
}
