//! Metainfo over real gRPC on loopback: authentication, caveats, buckets
//! and tokens.

use satstore_common::Identity;
use satstore_common::macaroon::{ApiKey, Caveat};
use satstore_common::time::now_unix;
use satstore_proto::internal::StreamIdPayload;
use satstore_proto::metainfo as pb;
use tonic::Code;

use super::testing::{TestSatellite, begin, code, create_bucket, inline_object};
use crate::tokens::TokenSigner;

#[tokio::test]
async fn unknown_forged_and_revoked_keys_are_refused() {
    let mut sat = TestSatellite::start().await;
    let req = |header| pb::ListBucketsRequest {
        header,
        ..Default::default()
    };
    // Root key works.
    sat.client.list_buckets(req(sat.header())).await.unwrap();
    // Missing, garbage, unknown head, forged tail.
    assert_eq!(
        code(sat.client.list_buckets(req(None)).await).0,
        Code::Unauthenticated
    );
    let garbage = Some(satstore_proto::common::RequestHeader {
        api_key: vec![1, 2, 3],
        user_agent: String::new(),
    });
    assert_eq!(
        code(sat.client.list_buckets(req(garbage)).await).0,
        Code::Unauthenticated
    );
    let unknown = ApiKey::new(&[9; 32]);
    let (c, m) = code(
        sat.client
            .list_buckets(req(TestSatellite::header_for(&unknown)))
            .await,
    );
    assert_eq!(c, Code::Unauthenticated);
    assert!(m.contains("unknown API key"), "{m}");
    let mut forged = sat.key.to_bytes();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let forged = ApiKey::from_bytes(&forged).unwrap();
    let (c, m) = code(
        sat.client
            .list_buckets(req(TestSatellite::header_for(&forged)))
            .await,
    );
    assert_eq!(c, Code::Unauthenticated);
    assert!(m.contains("does not verify"), "{m}");
    // Revoking the tail of a restricted key refuses it but not its parent.
    let restricted = sat.key.restrict(&Caveat {
        nonce: vec![1],
        ..Default::default()
    });
    let rec = sat
        .handle
        .store()
        .api_key_by_head(sat.key.head())
        .await
        .unwrap()
        .unwrap();
    sat.handle
        .store()
        .revoke_tail(&rec.id, restricted.tail())
        .await
        .unwrap();
    let (c, m) = code(
        sat.client
            .list_buckets(req(TestSatellite::header_for(&restricted)))
            .await,
    );
    assert_eq!((c, m.contains("revoked")), (Code::Unauthenticated, true));
    sat.client.list_buckets(req(sat.header())).await.unwrap();
    sat.handle.shutdown().await;
}

#[tokio::test]
async fn caveats_are_enforced() {
    let mut sat = TestSatellite::start().await;
    create_bucket(&mut sat, "bkt").await;
    create_bucket(&mut sat, "other").await;

    // Read-only key: writes refused.
    let ro = sat.key.restrict(&Caveat {
        disallow_writes: true,
        ..Default::default()
    });
    let (c, m) = code(
        sat.client
            .create_bucket(pb::CreateBucketRequest {
                header: TestSatellite::header_for(&ro),
                name: "new".into(),
            })
            .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    assert!(m.contains("writes"), "{m}");

    // Path restriction: only bkt/photos/.
    let scoped = sat.key.restrict(&Caveat {
        allowed_paths: vec![("bkt".into(), b"photos/".to_vec())],
        ..Default::default()
    });
    let begin_req = |key: &[u8]| pb::BeginObjectRequest {
        header: TestSatellite::header_for(&scoped),
        bucket: "bkt".into(),
        encrypted_key: key.to_vec(),
        ..Default::default()
    };
    sat.client
        .begin_object(begin_req(b"photos/cat"))
        .await
        .unwrap();
    assert_eq!(
        code(sat.client.begin_object(begin_req(b"docs/x")).await).0,
        Code::PermissionDenied
    );
    let listed = sat
        .client
        .list_buckets(pb::ListBucketsRequest {
            header: TestSatellite::header_for(&scoped),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = listed.items.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["bkt"]);

    // Expired key.
    let expired = sat.key.restrict(&Caveat {
        not_after: now_unix() - 10,
        ..Default::default()
    });
    let (c, m) = code(
        sat.client
            .list_buckets(pb::ListBucketsRequest {
                header: TestSatellite::header_for(&expired),
                ..Default::default()
            })
            .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    assert!(m.contains("expired"), "{m}");

    // Overwriting a committed object needs delete.
    inline_object(&mut sat, b"k", b"data").await;
    let no_delete = sat.key.restrict(&Caveat {
        disallow_deletes: true,
        ..Default::default()
    });
    let r = sat
        .client
        .begin_object(pb::BeginObjectRequest {
            header: TestSatellite::header_for(&no_delete),
            bucket: "bkt".into(),
            encrypted_key: b"k".to_vec(),
            ..Default::default()
        })
        .await;
    assert_eq!(code(r).0, Code::PermissionDenied);
    sat.handle.shutdown().await;
}

#[tokio::test]
async fn bucket_lifecycle() {
    let mut sat = TestSatellite::start().await;
    let (c, m) = code(
        sat.client
            .create_bucket(pb::CreateBucketRequest {
                header: sat.header(),
                name: "Bad_Name".into(),
            })
            .await,
    );
    assert_eq!(c, Code::InvalidArgument);
    assert!(m.contains("lowercase"), "{m}");
    create_bucket(&mut sat, "bkt").await;
    let (c, m) = code(
        sat.client
            .create_bucket(pb::CreateBucketRequest {
                header: sat.header(),
                name: "bkt".into(),
            })
            .await,
    );
    assert_eq!(
        (c, m.as_str()),
        (Code::AlreadyExists, "bucket already exists")
    );
    let got = sat
        .client
        .get_bucket(pb::GetBucketRequest {
            header: sat.header(),
            name: "bkt".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.bucket.unwrap().name, "bkt");
    assert_eq!(
        code(
            sat.client
                .get_bucket(pb::GetBucketRequest {
                    header: sat.header(),
                    name: "nope".into()
                })
                .await
        )
        .0,
        Code::NotFound
    );
    inline_object(&mut sat, b"a", b"x").await;
    let hdr = sat.header();
    let del = |delete_all| pb::DeleteBucketRequest {
        header: hdr.clone(),
        name: "bkt".into(),
        delete_all,
    };
    let (c, m) = code(sat.client.delete_bucket(del(false)).await);
    assert_eq!(
        (c, m.as_str()),
        (
            Code::FailedPrecondition,
            "bucket is not empty (objects or uploads in progress)"
        )
    );
    let d = sat
        .client
        .delete_bucket(del(true))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(d.deleted_objects, 1);
    assert_eq!(
        code(sat.client.delete_bucket(del(false)).await).0,
        Code::NotFound
    );
    let info = sat
        .client
        .project_info(pb::ProjectInfoRequest {
            header: sat.header(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.project_salt.len(), 16);
    sat.handle.shutdown().await;
}

#[tokio::test]
async fn tokens_of_another_satellite_or_project_are_refused() {
    let mut sat = TestSatellite::start().await;
    create_bucket(&mut sat, "bkt").await;
    let b = begin(&mut sat, b"k").await;
    let genuine = TokenSigner::new(Identity::generate(0));
    let forged = genuine.sign_stream(&StreamIdPayload {
        project_id: vec![0; 16],
        bucket: "bkt".into(),
        encrypted_key: b"k".to_vec(),
        stream_id: vec![1; 16],
        created_at_unix: now_unix(),
        ..Default::default()
    });
    for token in [forged, b"junk".to_vec()] {
        let (c, _) = code(
            sat.client
                .begin_segment(pb::BeginSegmentRequest {
                    header: sat.header(),
                    stream_id: token,
                    max_order_limit: 1000,
                    ..Default::default()
                })
                .await,
        );
        assert_eq!(c, Code::InvalidArgument);
    }
    // A genuine token used with another project's key.
    let (_, other_key) = crate::admin::create_project(
        sat.handle.store(),
        &format!("other-{}", rand::random::<u64>()),
    )
    .await
    .unwrap();
    let (c, _) = code(
        sat.client
            .commit_object(pb::CommitObjectRequest {
                header: TestSatellite::header_for(&other_key),
                stream_id: b.stream_id,
                ..Default::default()
            })
            .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    sat.handle.shutdown().await;
}
