//! Typed errors across the wire: every `ErrorReason` the satellite sends,
//! triggered for real over loopback. Each test checks the status on the
//! wire (its gRPC code and the reason in its details, read from a raw gRPC
//! call) and, where the uplink API can reach the failure, the `ErrorKind`
//! the uplink returns for it. Where that kind differs from what the bare
//! code would give (an object call answered "bucket not found", a
//! FAILED_PRECONDITION that means "upload done"), the test proves that the
//! uplink decides by the reason.

use std::time::{Duration, SystemTime};

use satstore_proto::common::{ErrorReason, RequestHeader, Signed};
use satstore_proto::metainfo as pb;
use satstore_proto::metainfo::metainfo_client::MetainfoClient;
use satstore_tests::{TestNet, dial};
use tonic::Code;
use tonic::transport::Channel;
use uplink::{CommitUploadOptions, ErrorKind, Permission, Project, UploadOptions};

use crate::helpers::upload;

/// A network whose uploads stay inline (one node is enough for them).
async fn small_net() -> TestNet {
    TestNet::builder().nodes(1).start().await.expect("start")
}

struct Raw {
    client: MetainfoClient<Channel>,
    header: Option<RequestHeader>,
}

/// A raw Metainfo client of `tn` with the network's API key.
async fn raw(tn: &TestNet) -> Raw {
    raw_with_key(tn, tn.net().access().api_key.to_bytes()).await
}

async fn raw_with_key(tn: &TestNet, api_key: Vec<u8>) -> Raw {
    Raw {
        client: dial::metainfo(tn.net()).await.expect("dial satellite"),
        header: Some(RequestHeader {
            api_key,
            user_agent: String::new(),
        }),
    }
}

/// The code and reason of a call that must fail.
fn wire<T: std::fmt::Debug>(
    r: Result<tonic::Response<T>, tonic::Status>,
) -> (Code, Option<ErrorReason>) {
    let s = r.expect_err("the call should fail");
    (s.code(), ErrorReason::of(&s))
}

impl Raw {
    /// CreateBucket as this key, the answer unread.
    async fn create_bucket(
        &mut self,
        name: impl Into<String>,
    ) -> Result<tonic::Response<pb::CreateBucketResponse>, tonic::Status> {
        self.client
            .create_bucket(pb::CreateBucketRequest {
                header: self.header.clone(),
                name: name.into(),
            })
            .await
    }

    /// Begins a plain upload of `key`; returns its stream token.
    async fn begin_object(&mut self, bucket: &str, key: &[u8]) -> Vec<u8> {
        let r = self
            .client
            .begin_object(pb::BeginObjectRequest {
                header: self.header.clone(),
                bucket: bucket.into(),
                encrypted_key: key.to_vec(),
                ..Default::default()
            })
            .await
            .expect("begin object");
        r.into_inner().stream_id
    }

    fn inline_segment(&self, stream_id: &[u8], part: u32) -> pb::MakeInlineSegmentRequest {
        pb::MakeInlineSegmentRequest {
            header: self.header.clone(),
            stream_id: stream_id.to_vec(),
            position: Some(pb::SegmentPosition { part, index: 0 }),
            encrypted_key: vec![1; 48],
            encrypted_key_nonce: vec![2; 24],
            plain_size: 10,
            encrypted_inline_data: vec![3; 26],
        }
    }

    /// Stores a committed one-segment object at `key`.
    async fn put(&mut self, bucket: &str, key: &[u8]) {
        let token = self.begin_object(bucket, key).await;
        let seg = self.inline_segment(&token, 0);
        self.client.make_inline_segment(seg).await.expect("segment");
        self.client
            .commit_object(pb::CommitObjectRequest {
                header: self.header.clone(),
                stream_id: token,
                ..Default::default()
            })
            .await
            .expect("commit");
    }

    /// Begins a multipart upload of `key`; returns its reference.
    async fn begin_multipart(&mut self, bucket: &str, key: &[u8]) -> pb::MultipartUploadRef {
        let r = self
            .client
            .begin_multipart_upload(pb::BeginMultipartUploadRequest {
                header: self.header.clone(),
                bucket: bucket.into(),
                encrypted_key: key.to_vec(),
                ..Default::default()
            })
            .await
            .expect("begin multipart upload");
        pb::MultipartUploadRef {
            bucket: bucket.into(),
            encrypted_key: key.to_vec(),
            upload_id: r.into_inner().upload_id,
        }
    }

    fn begin_part(&self, upload: &pb::MultipartUploadRef, part: u32) -> pb::BeginPartRequest {
        pb::BeginPartRequest {
            header: self.header.clone(),
            upload: Some(upload.clone()),
            part_number: part,
        }
    }
}

/// The satellite's SQLite database, for fault injection.
async fn satellite_db(tn: &TestNet) -> sqlx::SqlitePool {
    let db = tn.net().dir().join("satellite").join("satellite.db");
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open satellite db")
}

/// The stream id (= upload id) of an uplink multipart upload.
fn stream_id(upload_id: &str) -> Vec<u8> {
    bs58::decode(upload_id)
        .into_vec()
        .expect("upload id is base58")
}

async fn write_part(p: &Project, bucket: &str, key: &str, id: &str, part: u32, len: usize) {
    let mut up = p.upload_part(bucket, key, id, part).await.expect("part");
    up.write_all(&vec![7u8; len]).await.expect("write part");
    up.commit().await.expect("commit part");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bucket_name_invalid() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    let e = p.create_bucket("Not_Valid").await.expect_err("bad name");
    assert_eq!(e.kind(), ErrorKind::BucketNameInvalid, "{e}");
    assert!(e.to_string().contains("lowercase"), "message kept: {e}");

    let mut raw = raw(&tn).await;
    let r = raw.create_bucket("Not_Valid").await;
    assert_eq!(
        wire(r),
        (Code::InvalidArgument, Some(ErrorReason::BucketNameInvalid))
    );
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bucket_already_exists() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    p.create_bucket("twice").await.expect("create");
    let e = p.create_bucket("twice").await.expect_err("duplicate");
    assert_eq!(e.kind(), ErrorKind::BucketAlreadyExists, "{e}");

    let mut raw = raw(&tn).await;
    let r = raw.create_bucket("twice").await;
    assert_eq!(
        wire(r),
        (Code::AlreadyExists, Some(ErrorReason::BucketAlreadyExists))
    );
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bucket_not_empty() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    p.create_bucket("full").await.expect("create");
    upload(&p, "full", "k", 1, 100).await.expect("upload");
    let e = p.delete_bucket("full").await.expect_err("not empty");
    assert_eq!(e.kind(), ErrorKind::BucketNotEmpty, "{e}");

    let mut raw = raw(&tn).await;
    let r = raw
        .client
        .delete_bucket(pb::DeleteBucketRequest {
            header: raw.header.clone(),
            name: "full".into(),
            delete_all: false,
        })
        .await;
    assert_eq!(
        wire(r),
        (Code::FailedPrecondition, Some(ErrorReason::BucketNotEmpty))
    );
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bucket_not_found() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    let e = p.stat_bucket("nowhere").await.expect_err("missing");
    assert_eq!(e.kind(), ErrorKind::BucketNotFound, "{e}");
    // An object call: its bare NOT_FOUND would read as the object's; the
    // reason says it is the bucket.
    let e = p
        .list_objects("nowhere", &Default::default())
        .await
        .expect_err("missing bucket");
    assert_eq!(e.kind(), ErrorKind::BucketNotFound, "{e}");
    let e = p
        .begin_upload("nowhere", "k", &UploadOptions::default())
        .await
        .expect_err("missing bucket");
    assert_eq!(e.kind(), ErrorKind::BucketNotFound, "{e}");

    let mut raw = raw(&tn).await;
    let r = raw
        .client
        .get_bucket(pb::GetBucketRequest {
            header: raw.header.clone(),
            name: "nowhere".into(),
        })
        .await;
    assert_eq!(wire(r), (Code::NotFound, Some(ErrorReason::BucketNotFound)));
    let r = raw
        .client
        .list_objects(pb::ListObjectsRequest {
            header: raw.header.clone(),
            bucket: "nowhere".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(wire(r), (Code::NotFound, Some(ErrorReason::BucketNotFound)));
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn object_key_invalid() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    p.create_bucket("keys").await.expect("create");
    // Longer than the 4000 bytes an encrypted key may have.
    let long = "k".repeat(5000);
    let e = p
        .begin_upload("keys", &long, &UploadOptions::default())
        .await
        .expect_err("key too long");
    assert_eq!(e.kind(), ErrorKind::ObjectKeyInvalid, "{e}");

    let mut raw = raw(&tn).await;
    for key in [vec![], vec![1u8; 4001]] {
        let r = raw
            .client
            .begin_object(pb::BeginObjectRequest {
                header: raw.header.clone(),
                bucket: "keys".into(),
                encrypted_key: key,
                ..Default::default()
            })
            .await;
        assert_eq!(
            wire(r),
            (Code::InvalidArgument, Some(ErrorReason::ObjectKeyInvalid))
        );
    }
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn object_not_found() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    p.create_bucket("objs").await.expect("create");
    let e = p.stat_object("objs", "nope").await.expect_err("missing");
    assert_eq!(e.kind(), ErrorKind::ObjectNotFound, "{e}");
    let e = p.delete_object("objs", "nope").await.expect_err("missing");
    assert_eq!(e.kind(), ErrorKind::ObjectNotFound, "{e}");

    let mut raw = raw(&tn).await;
    let r = raw
        .client
        .get_object(pb::GetObjectRequest {
            header: raw.header.clone(),
            bucket: "objs".into(),
            encrypted_key: b"nope".to_vec(),
        })
        .await;
    assert_eq!(wire(r), (Code::NotFound, Some(ErrorReason::ObjectNotFound)));
    // A download token of a version that was replaced meanwhile.
    raw.put("objs", b"v").await;
    let old = raw
        .client
        .download_object(pb::DownloadObjectRequest {
            header: raw.header.clone(),
            bucket: "objs".into(),
            encrypted_key: b"v".to_vec(),
            ..Default::default()
        })
        .await
        .expect("download")
        .into_inner();
    raw.put("objs", b"v").await;
    let r = raw
        .client
        .download_segment(pb::DownloadSegmentRequest {
            header: raw.header.clone(),
            stream_id: old.object.expect("object").stream_id,
            position: Some(pb::SegmentPosition::default()),
        })
        .await;
    assert_eq!(wire(r), (Code::NotFound, Some(ErrorReason::ObjectNotFound)));
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upload_done() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    p.create_bucket("multi").await.expect("create");
    let info = p
        .begin_upload("multi", "k", &UploadOptions::default())
        .await
        .expect("begin");
    let id = info.upload_id;
    write_part(&p, "multi", "k", &id, 2, 100).await;
    // Part 1 begins, then the upload is committed without it.
    let mut late = p.upload_part("multi", "k", &id, 1).await.expect("part 1");
    let opts = CommitUploadOptions {
        parts: vec![2],
        ..Default::default()
    };
    p.commit_upload("multi", "k", &id, opts)
        .await
        .expect("commit");
    late.write_all(&[7u8; 100]).await.expect("buffered");
    // FAILED_PRECONDITION alone would read as an invalid argument.
    let e = late.commit().await.expect_err("upload committed");
    assert_eq!(e.kind(), ErrorKind::UploadDone, "{e}");

    let mut raw = raw(&tn).await;
    let token = raw.begin_object("multi", b"plain").await;
    raw.client
        .commit_object(pb::CommitObjectRequest {
            header: raw.header.clone(),
            stream_id: token.clone(),
            ..Default::default()
        })
        .await
        .expect("commit empty object");
    let seg = raw.inline_segment(&token, 0);
    let r = raw.client.make_inline_segment(seg).await;
    assert_eq!(
        wire(r),
        (Code::FailedPrecondition, Some(ErrorReason::UploadDone))
    );
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upload_not_found() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    p.create_bucket("multi").await.expect("create");
    let id = p
        .begin_upload("multi", "k", &UploadOptions::default())
        .await
        .expect("begin")
        .upload_id;
    p.abort_upload("multi", "k", &id).await.expect("abort");
    // NOT_FOUND alone would read as the object's.
    let e = p
        .upload_part("multi", "k", &id, 1)
        .await
        .expect_err("aborted upload");
    assert_eq!(e.kind(), ErrorKind::UploadNotFound, "{e}");
    let e = p
        .commit_upload("multi", "k", &id, Default::default())
        .await
        .expect_err("aborted upload");
    assert_eq!(e.kind(), ErrorKind::UploadNotFound, "{e}");

    let mut raw = raw(&tn).await;
    let upload = raw.begin_multipart("multi", b"raw").await;
    raw.client
        .abort_multipart_upload(pb::AbortMultipartUploadRequest {
            header: raw.header.clone(),
            upload: Some(upload.clone()),
        })
        .await
        .expect("abort");
    let r = raw.client.begin_part(raw.begin_part(&upload, 1)).await;
    assert_eq!(wire(r), (Code::NotFound, Some(ErrorReason::UploadNotFound)));
    // A plain upload aborted meanwhile.
    let token = raw.begin_object("multi", b"plain").await;
    raw.client
        .abort_object(pb::AbortObjectRequest {
            header: raw.header.clone(),
            stream_id: token.clone(),
        })
        .await
        .expect("abort");
    let r = raw
        .client
        .commit_object(pb::CommitObjectRequest {
            header: raw.header.clone(),
            stream_id: token,
            ..Default::default()
        })
        .await;
    assert_eq!(wire(r), (Code::NotFound, Some(ErrorReason::UploadNotFound)));
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invalid_part() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    p.create_bucket("multi").await.expect("create");
    let id = p
        .begin_upload("multi", "k", &UploadOptions::default())
        .await
        .expect("begin")
        .upload_id;
    write_part(&p, "multi", "k", &id, 1, 100).await;
    // Part 1 stays listed, but its segment is gone: it is incomplete.
    let db = satellite_db(&tn).await;
    let gone = sqlx::query("DELETE FROM segments WHERE stream_id = $1")
        .bind(stream_id(&id))
        .execute(&db)
        .await
        .expect("delete segment");
    assert_eq!(gone.rows_affected(), 1);
    db.close().await;
    // FAILED_PRECONDITION alone would read as an invalid argument.
    let e = p
        .commit_upload("multi", "k", &id, Default::default())
        .await
        .expect_err("incomplete part");
    assert_eq!(e.kind(), ErrorKind::InvalidPart, "{e}");

    let mut raw = raw(&tn).await;
    let upload = raw.begin_multipart("multi", b"raw").await;
    let r = raw
        .client
        .commit_multipart_upload(pb::CommitMultipartUploadRequest {
            header: raw.header.clone(),
            upload: Some(upload),
            parts: vec![7],
            ..Default::default()
        })
        .await;
    assert_eq!(
        wire(r),
        (Code::FailedPrecondition, Some(ErrorReason::InvalidPart))
    );
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn too_many_segments() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    p.create_bucket("multi").await.expect("create");
    let id = p
        .begin_upload("multi", "k", &UploadOptions::default())
        .await
        .expect("begin")
        .upload_id;
    let mut raw = raw(&tn).await;
    let upload = raw.begin_multipart("multi", b"raw").await;
    // Both uploads already count the most segments an object may have.
    let db = satellite_db(&tn).await;
    for stream in [stream_id(&id), upload.upload_id.clone()] {
        sqlx::query("UPDATE objects SET segment_count = 100000 WHERE stream_id = $1")
            .bind(stream)
            .execute(&db)
            .await
            .expect("set segment count");
    }
    db.close().await;
    // RESOURCE_EXHAUSTED alone would read as "too many requests".
    let mut part = p.upload_part("multi", "k", &id, 1).await.expect("part");
    part.write_all(&[7u8; 100]).await.expect("buffered");
    let e = part.commit().await.expect_err("too many segments");
    assert_eq!(e.kind(), ErrorKind::LimitsExceeded, "{e}");

    let token = raw
        .client
        .begin_part(raw.begin_part(&upload, 1))
        .await
        .expect("begin part")
        .into_inner()
        .stream_id;
    let seg = raw.inline_segment(&token, 1);
    let r = raw.client.make_inline_segment(seg).await;
    assert_eq!(
        wire(r),
        (Code::ResourceExhausted, Some(ErrorReason::TooManySegments))
    );
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limited() {
    // Only check-ins are rate-limited, so the uplink API cannot reach this
    // reason; its kind (TooManyRequests) is pinned by the uplink's tests.
    let tn = small_net().await;
    let mut nodes = dial::node_api(tn.net()).await.expect("dial node api");
    let mut limited = None;
    for _ in 0..2000 {
        let r = nodes
            .check_in(satstore_proto::node::CheckInRequest {
                info: Some(Signed::default()),
            })
            .await;
        match wire(r) {
            (Code::ResourceExhausted, reason) => {
                limited = Some(reason);
                break;
            }
            // Until the limit: a check-in signed by nobody.
            other => assert_eq!(
                other,
                (Code::InvalidArgument, Some(ErrorReason::InvalidArgument))
            ),
        }
    }
    assert_eq!(limited, Some(Some(ErrorReason::RateLimited)));
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn not_enough_nodes() {
    // 3 nodes for a scheme that needs 8 for an upload.
    let tn = TestNet::builder().nodes(3).start().await.expect("start");
    let p = tn.project().await.expect("project");
    p.create_bucket("remote").await.expect("create");
    let e = upload(&p, "remote", "k", 1, 100_000)
        .await
        .expect_err("too few nodes");
    let e = e
        .downcast::<uplink::UplinkError>()
        .expect("an uplink error");
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");

    let mut raw = raw(&tn).await;
    let token = raw.begin_object("remote", b"raw").await;
    let r = raw
        .client
        .begin_segment(pb::BeginSegmentRequest {
            header: raw.header.clone(),
            stream_id: token,
            position: Some(pb::SegmentPosition::default()),
            max_order_limit: 1 << 20,
        })
        .await;
    assert_eq!(
        wire(r),
        (Code::Unavailable, Some(ErrorReason::NotEnoughNodes))
    );
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invalid_argument() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    p.create_bucket("args").await.expect("create");
    let past = UploadOptions {
        expires: Some(SystemTime::now() - Duration::from_secs(3600)),
    };
    let e = p
        .begin_upload("args", "k", &past)
        .await
        .expect_err("expired already");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");

    let mut raw = raw(&tn).await;
    let r = raw
        .client
        .begin_object(pb::BeginObjectRequest {
            header: raw.header.clone(),
            bucket: "args".into(),
            encrypted_key: b"k".to_vec(),
            expires_at_unix: 1,
            ..Default::default()
        })
        .await;
    assert_eq!(
        wire(r),
        (Code::InvalidArgument, Some(ErrorReason::InvalidArgument))
    );
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn out_of_range() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    p.create_bucket("ranges").await.expect("create");
    upload(&p, "ranges", "k", 1, 100).await.expect("upload");
    // The uplink checks its range before asking (same kind as the reason).
    let e = crate::helpers::download_bytes(&p, "ranges", "k", 1000, 10)
        .await
        .expect_err("beyond the object");
    let e = e
        .downcast::<uplink::UplinkError>()
        .expect("an uplink error");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");

    let mut raw = raw(&tn).await;
    raw.put("ranges", b"raw").await;
    let r = raw
        .client
        .download_object(pb::DownloadObjectRequest {
            header: raw.header.clone(),
            bucket: "ranges".into(),
            encrypted_key: b"raw".to_vec(),
            range_start: 1000,
            range_end: 0,
        })
        .await;
    assert_eq!(wire(r), (Code::OutOfRange, Some(ErrorReason::OutOfRange)));
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn not_found_of_another_thing() {
    // A segment that does not exist: no uplink call asks for one.
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    p.create_bucket("segs").await.expect("create");
    let mut raw = raw(&tn).await;
    raw.put("segs", b"one-segment").await;
    let o = raw
        .client
        .download_object(pb::DownloadObjectRequest {
            header: raw.header.clone(),
            bucket: "segs".into(),
            encrypted_key: b"one-segment".to_vec(),
            ..Default::default()
        })
        .await
        .expect("download")
        .into_inner();
    let r = raw
        .client
        .download_segment(pb::DownloadSegmentRequest {
            header: raw.header.clone(),
            stream_id: o.object.expect("object").stream_id,
            position: Some(pb::SegmentPosition { part: 0, index: 5 }),
        })
        .await;
    assert_eq!(wire(r), (Code::NotFound, Some(ErrorReason::NotFound)));
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_precondition() {
    // Committing a multipart upload as a plain object: the uplink never
    // does that.
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    p.create_bucket("multi").await.expect("create");
    let mut raw = raw(&tn).await;
    let upload = raw.begin_multipart("multi", b"raw").await;
    let token = raw
        .client
        .begin_part(raw.begin_part(&upload, 1))
        .await
        .expect("begin part")
        .into_inner()
        .stream_id;
    let r = raw
        .client
        .commit_object(pb::CommitObjectRequest {
            header: raw.header.clone(),
            stream_id: token,
            ..Default::default()
        })
        .await;
    assert_eq!(
        wire(r),
        (
            Code::FailedPrecondition,
            Some(ErrorReason::FailedPrecondition)
        )
    );
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unauthenticated() {
    let tn = small_net().await;
    let mut forged = tn.net().access().clone();
    forged.api_key = satstore_common::macaroon::ApiKey::new(&[42u8; 32]);
    let p = forged.open_project().await.expect("open (no call yet)");
    let e = p.create_bucket("nope").await.expect_err("forged key");
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");

    let mut raw = raw_with_key(&tn, forged.api_key.to_bytes()).await;
    let r = raw.create_bucket("nope").await;
    assert_eq!(
        wire(r),
        (Code::Unauthenticated, Some(ErrorReason::Unauthenticated))
    );
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn permission_denied() {
    let tn = small_net().await;
    let owner = tn.project().await.expect("project");
    owner.create_bucket("readonly").await.expect("create");
    let reader = tn
        .net()
        .access()
        .share(&Permission::read_only(), &[])
        .expect("share");
    let p = reader.open_project().await.expect("open");
    let e = p
        .begin_upload("readonly", "k", &UploadOptions::default())
        .await
        .expect_err("read-only");
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");

    let mut raw = raw_with_key(&tn, reader.api_key.to_bytes()).await;
    let r = raw.create_bucket("more").await;
    assert_eq!(
        wire(r),
        (Code::PermissionDenied, Some(ErrorReason::PermissionDenied))
    );
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unimplemented() {
    // Order settlement (a node call) is not implemented yet.
    let tn = small_net().await;
    let mut nodes = dial::node_api(tn.net()).await.expect("dial node api");
    let r = nodes
        .settle(tokio_stream::iter(
            Vec::<satstore_proto::node::SettleRequest>::new(),
        ))
        .await;
    assert_eq!(
        wire(r),
        (Code::Unimplemented, Some(ErrorReason::Unimplemented))
    );
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn internal() {
    let tn = small_net().await;
    let p = tn.project().await.expect("project");
    // The database loses a table under the satellite.
    let db = satellite_db(&tn).await;
    sqlx::query("ALTER TABLE buckets RENAME TO buckets_gone")
        .execute(&db)
        .await
        .expect("rename table");
    db.close().await;
    let e = p.create_bucket("any").await.expect_err("broken database");
    assert_eq!(e.kind(), ErrorKind::Internal, "{e}");
    assert!(!e.to_string().contains("buckets"), "details leak: {e}");

    let mut raw = raw(&tn).await;
    let r = raw.create_bucket("any").await;
    let s = r.expect_err("broken database");
    assert_eq!(
        (s.code(), ErrorReason::of(&s)),
        (Code::Internal, Some(ErrorReason::Internal))
    );
    assert!(s.message().contains("see the satellite log"), "{s:?}");
    tn.shutdown().await;
}
