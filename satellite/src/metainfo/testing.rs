//! Test harness: a real satellite on 127.0.0.1:0 with a project, and fake
//! storage nodes (identities in the node table, optionally answering
//! `Contact.Ping`).

use satstore_common::contact::PingProof;
use satstore_common::erasure::RedundancyScheme;
use satstore_common::macaroon::ApiKey;
use satstore_common::time::now_unix;
use satstore_common::{Identity, SignedMessage};
use satstore_proto::common::RequestHeader;
use satstore_proto::metainfo as pb;
use satstore_proto::metainfo::metainfo_client::MetainfoClient;
use satstore_proto::piecestore::contact_server::{Contact, ContactServer};
use satstore_proto::piecestore::{PingRequest, PingResponse};
use satstore_transport::{Dialer, Security};
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic::transport::Channel;

use crate::config::SatelliteConfig;
use crate::peer::{SatelliteHandle, SatelliteListeners, start};
use crate::store::nodes::CheckIn;

/// A running test satellite with one project.
pub struct TestSatellite {
    /// The satellite.
    pub handle: SatelliteHandle,
    /// Root API key of the project.
    pub key: ApiKey,
    /// Metainfo client connected to it.
    pub client: MetainfoClient<Channel>,
    /// Keeps the data dir alive.
    pub _dir: tempfile::TempDir,
}

/// The redundancy the tests use: 2/2/3/4.
pub fn test_redundancy() -> RedundancyScheme {
    RedundancyScheme {
        required: 2,
        repair: 2,
        success: 3,
        total: 4,
        share_size: 256,
    }
}

impl TestSatellite {
    /// Starts a satellite with the test redundancy on its own SQLite file
    /// (node counts are asserted, so a shared database would not do; the
    /// SQL itself runs on PostgreSQL in the store tests).
    pub async fn start() -> TestSatellite {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestSatellite::start`], with `adjust` applied to the config.
    pub async fn start_with(adjust: impl FnOnce(&mut SatelliteConfig)) -> TestSatellite {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = SatelliteConfig {
            data_dir: dir.path().to_path_buf(),
            redundancy: test_redundancy(),
            max_segment_size: satstore_common::config::ByteSize(1 << 20),
            dial_timeout: std::time::Duration::from_secs(2),
            ..SatelliteConfig::default()
        };
        adjust(&mut config);
        let listeners = SatelliteListeners {
            grpc: tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind"),
            metrics: tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind"),
        };
        let handle = start(config, listeners).await.expect("start satellite");
        let (_, key) = crate::admin::create_project(
            handle.store(),
            &format!("test-{}", rand::random::<u64>()),
        )
        .await
        .expect("create project");
        let client = MetainfoClient::new(
            Dialer::anonymous(Security::Tls)
                .dial(&handle.url())
                .await
                .expect("connect"),
        );
        TestSatellite {
            handle,
            key,
            client,
            _dir: dir,
        }
    }

    /// A request header carrying `key`.
    pub fn header_for(key: &ApiKey) -> Option<RequestHeader> {
        Some(RequestHeader {
            api_key: key.to_bytes(),
            user_agent: "test".into(),
        })
    }

    /// A header with the root key.
    pub fn header(&self) -> Option<RequestHeader> {
        Self::header_for(&self.key)
    }

    /// Registers `n` online nodes (no servers) and returns their identities.
    pub async fn add_nodes(&self, n: usize) -> Vec<Identity> {
        let mut out = Vec::new();
        for i in 0..n {
            let ident = Identity::generate(0);
            let c = CheckIn {
                id: ident.id(),
                address: format!("127.0.0.1:{}", 1 + i),
                public_key: ident.public_key().0.to_vec(),
                free_disk: 1 << 40,
                version: "test".into(),
                check_in_ms: 0,
            };
            self.handle
                .store()
                .record_check_in(&c, now_unix())
                .await
                .expect("record node");
            out.push(ident);
        }
        out
    }
}

/// A fake node answering `Contact.Ping` by signing with `identity`.
#[derive(Clone)]
pub struct FakeContact {
    /// Who signs the proofs.
    pub identity: Identity,
}

#[tonic::async_trait]
impl Contact for FakeContact {
    async fn ping(
        &self,
        request: tonic::Request<PingRequest>,
    ) -> Result<tonic::Response<PingResponse>, tonic::Status> {
        let challenge = request
            .into_inner()
            .challenge
            .try_into()
            .map_err(|_| tonic::Status::invalid_argument("challenge must be 32 bytes"))?;
        let proof: SignedMessage = self.identity.keys().sign(&PingProof { challenge });
        Ok(tonic::Response::new(PingResponse {
            proof: Some(satstore_proto::common::Signed::from(proof)),
        }))
    }
}

/// Serves a [`FakeContact`] on 127.0.0.1:0 over TLS as `tls_identity`
/// (normally the signer itself); returns its address.
pub async fn serve_fake_contact_as(
    identity: Identity,
    tls_identity: &Identity,
    stop: CancellationToken,
) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let incoming = satstore_transport::incoming(
        listener,
        Some(satstore_transport::ServerTls::new(tls_identity).expect("tls")),
        satstore_transport::AcceptLimits::default(),
    );
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(ContactServer::new(FakeContact { identity }))
            .serve_with_incoming_shutdown(incoming, stop.cancelled_owned())
            .await;
    });
    addr
}

/// Serves a [`FakeContact`] on 127.0.0.1:0 over TLS as `identity`; returns
/// its address.
pub async fn serve_fake_contact(
    identity: Identity,
    stop: CancellationToken,
) -> std::net::SocketAddr {
    let tls = identity.clone();
    serve_fake_contact_as(identity, &tls, stop).await
}

/// The code and message of a call expected to fail.
pub fn code<T: std::fmt::Debug>(r: Result<T, tonic::Status>) -> (Code, String) {
    let s = r.expect_err("call should fail");
    (s.code(), s.message().to_string())
}

/// The code, reason and message of a failed call.
pub fn reason<T: std::fmt::Debug>(
    r: Result<T, tonic::Status>,
) -> (Code, Option<satstore_proto::common::ErrorReason>, String) {
    let s = r.expect_err("call should fail");
    (
        s.code(),
        satstore_proto::common::ErrorReason::of(&s),
        s.message().to_string(),
    )
}

/// Creates a bucket with the root key.
pub async fn create_bucket(sat: &mut TestSatellite, name: &str) {
    sat.client
        .create_bucket(pb::CreateBucketRequest {
            header: sat.header(),
            name: name.into(),
        })
        .await
        .expect("create bucket");
}

/// Begins an object in bucket "bkt".
pub async fn begin(sat: &mut TestSatellite, key: &[u8]) -> pb::BeginObjectResponse {
    begin_expiring(sat, key, 0).await
}

/// Begins an object in bucket "bkt" expiring at `expires_at` (0 = never).
pub async fn begin_expiring(
    sat: &mut TestSatellite,
    key: &[u8],
    expires_at: i64,
) -> pb::BeginObjectResponse {
    sat.client
        .begin_object(pb::BeginObjectRequest {
            header: sat.header(),
            bucket: "bkt".into(),
            encrypted_key: key.to_vec(),
            expires_at_unix: expires_at,
            encryption: Some(pb::EncryptionParameters {
                cipher_suite: 1,
                block_size: 1024,
            }),
        })
        .await
        .expect("begin object")
        .into_inner()
}

/// Uploads and commits a one-segment inline object in bucket "bkt".
pub async fn inline_object(sat: &mut TestSatellite, key: &[u8], data: &[u8]) {
    inline_object_expiring(sat, key, data, 0).await
}

/// Like [`inline_object`], expiring at `expires_at` (0 = never).
pub async fn inline_object_expiring(
    sat: &mut TestSatellite,
    key: &[u8],
    data: &[u8],
    expires_at: i64,
) {
    let b = begin_expiring(sat, key, expires_at).await;
    sat.client
        .make_inline_segment(pb::MakeInlineSegmentRequest {
            header: sat.header(),
            stream_id: b.stream_id.clone(),
            position: Some(pb::SegmentPosition { part: 0, index: 0 }),
            encrypted_key: vec![1],
            encrypted_key_nonce: vec![2],
            plain_size: data.len() as i64,
            encrypted_inline_data: data.to_vec(),
        })
        .await
        .expect("inline segment");
    sat.client
        .commit_object(pb::CommitObjectRequest {
            header: sat.header(),
            stream_id: b.stream_id,
            encrypted_metadata: b"m".to_vec(),
            ..Default::default()
        })
        .await
        .expect("commit object");
}
