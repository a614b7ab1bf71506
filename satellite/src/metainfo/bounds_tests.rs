//! What one tenant's requests may cost the satellite: sizes must add up
//! (no overflow, plaintext never larger than ciphertext), segments per
//! object are bounded, and DeleteBucket never removes objects it did not
//! see (pending uploads included) unless asked to.

use tonic::Code;

use super::testing::{TestSatellite, begin, code, create_bucket, inline_object};
use satstore_proto::metainfo as pb;

fn inline(
    sat: &TestSatellite,
    stream_id: &[u8],
    index: u32,
    plain_size: i64,
) -> pb::MakeInlineSegmentRequest {
    pb::MakeInlineSegmentRequest {
        header: sat.header(),
        stream_id: stream_id.to_vec(),
        position: Some(pb::SegmentPosition { part: 0, index }),
        encrypted_key: vec![1],
        encrypted_key_nonce: vec![2],
        plain_size,
        encrypted_inline_data: vec![7; 32],
    }
}

#[tokio::test]
async fn segment_sizes_cannot_lie_or_overflow() {
    let mut sat = TestSatellite::start().await;
    create_bucket(&mut sat, "bkt").await;
    let b = begin(&mut sat, b"huge").await;
    // A plaintext larger than its ciphertext is a lie: refused.
    for (index, size) in [(0, i64::MAX), (1, i64::MAX / 2 + 1), (2, 33)] {
        let (c, m) = code(
            sat.client
                .make_inline_segment(inline(&sat, &b.stream_id, index, size))
                .await,
        );
        assert_eq!(c, Code::InvalidArgument, "{m}");
        assert!(m.contains("plain_size"), "{m}");
    }
    // Honest sizes commit.
    sat.client
        .make_inline_segment(inline(&sat, &b.stream_id, 0, 32))
        .await
        .unwrap();
    let done = sat
        .client
        .commit_object(pb::CommitObjectRequest {
            header: sat.header(),
            stream_id: b.stream_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let first = done.object.unwrap();
    assert_eq!(first.plain_size, 32);
    // A retried CommitObject (its reply was lost) answers the same object.
    let again = sat
        .client
        .commit_object(pb::CommitObjectRequest {
            header: sat.header(),
            stream_id: b.stream_id.clone(),
            ..Default::default()
        })
        .await
        .expect("a retried commit succeeds")
        .into_inner();
    assert_eq!(again.object.unwrap(), first);
    sat.handle.shutdown().await;
}

#[tokio::test]
async fn segments_per_object_are_bounded() {
    let mut sat = TestSatellite::start().await;
    create_bucket(&mut sat, "bkt").await;
    let b = begin(&mut sat, b"many").await;
    let (c, m) = code(
        sat.client
            .make_inline_segment(inline(&sat, &b.stream_id, 4_000_000_000, 10))
            .await,
    );
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(m.contains("segment index"), "{m}");
    sat.handle.shutdown().await;
}

#[tokio::test]
async fn delete_bucket_keeps_pending_uploads_and_their_bucket() {
    let mut sat = TestSatellite::start().await;
    create_bucket(&mut sat, "bkt").await;
    let b = begin(&mut sat, b"in-progress").await;
    sat.client
        .make_inline_segment(inline(&sat, &b.stream_id, 0, 10))
        .await
        .unwrap();
    let (c, m) = code(
        sat.client
            .delete_bucket(pb::DeleteBucketRequest {
                header: sat.header(),
                name: "bkt".into(),
                delete_all: false,
            })
            .await,
    );
    assert_eq!(c, Code::FailedPrecondition, "{m}");
    assert!(m.contains("not empty"), "{m}");
    // The upload goes on and commits.
    sat.client
        .commit_object(pb::CommitObjectRequest {
            header: sat.header(),
            stream_id: b.stream_id,
            ..Default::default()
        })
        .await
        .expect("the pending upload survived");
    // An empty bucket still deletes; delete_all still empties a full one.
    inline_object(&mut sat, b"x", b"data").await;
    let r = sat
        .client
        .delete_bucket(pb::DeleteBucketRequest {
            header: sat.header(),
            name: "bkt".into(),
            delete_all: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.deleted_objects, 2);
    sat.handle.shutdown().await;
}
