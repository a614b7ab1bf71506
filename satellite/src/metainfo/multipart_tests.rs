//! Multipart uploads over real gRPC on loopback: parts, commit of a subset,
//! offsets across parts, permissions, abort and expiry.

use std::sync::Arc;
use std::time::Duration;

use satstore_common::Identity;
use satstore_common::macaroon::Caveat;
use satstore_common::time::now_unix;
use satstore_proto::common::ErrorReason;
use satstore_proto::metainfo as pb;
use tonic::Code;

use super::testing::{TestSatellite, begin, code, create_bucket, reason};
use crate::chores::{Chore, ZombieObjectsChore};
use crate::metrics::SatelliteMetrics;

fn upload_ref(key: &[u8], id: &[u8]) -> Option<pb::MultipartUploadRef> {
    Some(pb::MultipartUploadRef {
        bucket: "bkt".into(),
        encrypted_key: key.to_vec(),
        upload_id: id.to_vec(),
    })
}

async fn begin_mp(sat: &mut TestSatellite, key: &[u8]) -> pb::BeginMultipartUploadResponse {
    sat.client
        .begin_multipart_upload(pb::BeginMultipartUploadRequest {
            header: sat.header(),
            bucket: "bkt".into(),
            encrypted_key: key.to_vec(),
            expires_at_unix: 0,
            encryption: Some(pb::EncryptionParameters {
                cipher_suite: 1,
                block_size: 1024,
            }),
        })
        .await
        .expect("begin multipart upload")
        .into_inner()
}

fn begin_part_req(sat: &TestSatellite, key: &[u8], id: &[u8], part: u32) -> pb::BeginPartRequest {
    pb::BeginPartRequest {
        header: sat.header(),
        upload: upload_ref(key, id),
        part_number: part,
    }
}

/// Uploads part `part` as inline segments of the given sizes; returns
/// the nonces used.
async fn inline_part(
    sat: &mut TestSatellite,
    key: &[u8],
    id: &[u8],
    part: u32,
    sizes: &[usize],
) -> Vec<Vec<u8>> {
    let token = sat
        .client
        .begin_part(begin_part_req(sat, key, id, part))
        .await
        .expect("begin part")
        .into_inner()
        .stream_id;
    let mut nonces = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let nonce = vec![part as u8, i as u8];
        sat.client
            .make_inline_segment(pb::MakeInlineSegmentRequest {
                header: sat.header(),
                stream_id: token.clone(),
                position: Some(pb::SegmentPosition {
                    part,
                    index: i as u32,
                }),
                encrypted_key: vec![1],
                encrypted_key_nonce: nonce.clone(),
                plain_size: *size as i64,
                encrypted_inline_data: vec![part as u8; *size],
            })
            .await
            .expect("inline segment");
        nonces.push(nonce);
    }
    nonces
}

async fn commit_part(
    sat: &mut TestSatellite,
    key: &[u8],
    id: &[u8],
    part: u32,
    nonces: Vec<Vec<u8>>,
) -> Result<pb::PartInfo, tonic::Status> {
    sat.client
        .commit_part(pb::CommitPartRequest {
            header: sat.header(),
            upload: upload_ref(key, id),
            part_number: part,
            segment_key_nonces: nonces,
            encrypted_etag: format!("etag{part}").into_bytes(),
        })
        .await
        .map(|r| r.into_inner().part.expect("part info"))
}

fn commit_req(
    sat: &TestSatellite,
    key: &[u8],
    id: &[u8],
    parts: Vec<u32>,
    plain_size: i64,
) -> pb::CommitMultipartUploadRequest {
    pb::CommitMultipartUploadRequest {
        header: sat.header(),
        upload: upload_ref(key, id),
        parts,
        plain_size,
        encrypted_metadata: b"meta".to_vec(),
        ..Default::default()
    }
}

#[tokio::test]
async fn parts_commit_of_a_subset_and_offsets() {
    let mut sat = TestSatellite::start().await;
    create_bucket(&mut sat, "bkt").await;
    let key = b"mp".as_slice();
    let b = begin_mp(&mut sat, key).await;
    let id = b.upload_id.clone();
    assert_eq!(id.len(), 16);
    let week = 7 * 24 * 3600;
    assert!((b.upload_expires_at_unix - now_unix() - week).abs() < 60);

    // Pending: invisible to stat and listing, visible to upload listing.
    let get = pb::GetObjectRequest {
        header: sat.header(),
        bucket: "bkt".into(),
        encrypted_key: key.to_vec(),
    };
    assert_eq!(
        code(sat.client.get_object(get.clone()).await).0,
        Code::NotFound
    );
    let list = pb::ListMultipartUploadsRequest {
        header: sat.header(),
        bucket: "bkt".into(),
        ..Default::default()
    };
    let ups = sat
        .client
        .list_multipart_uploads(list.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ups.items.len(), 1);
    assert_eq!(ups.items[0].upload_id, id);
    assert_eq!(ups.items[0].encrypted_key, key);

    for bad in [0, 10_001] {
        let (c, m) = code(
            sat.client
                .begin_part(begin_part_req(&sat, key, &id, bad))
                .await,
        );
        assert_eq!(c, Code::InvalidArgument, "{m}");
    }
    let n1 = inline_part(&mut sat, key, &id, 1, &[100, 30]).await;
    let n2 = inline_part(&mut sat, key, &id, 2, &[70]).await;
    let n3 = inline_part(&mut sat, key, &id, 3, &[9]).await;
    // Part 0 is for plain uploads only.
    let token = sat
        .client
        .begin_part(begin_part_req(&sat, key, &id, 1))
        .await
        .unwrap()
        .into_inner()
        .stream_id;
    let (c, m) = code(
        sat.client
            .make_inline_segment(pb::MakeInlineSegmentRequest {
                header: sat.header(),
                stream_id: token.clone(),
                position: Some(pb::SegmentPosition { part: 0, index: 0 }),
                plain_size: 1,
                encrypted_inline_data: vec![1],
                ..Default::default()
            })
            .await,
    );
    assert_eq!(c, Code::InvalidArgument, "{m}");
    // A commit naming a segment that is not there.
    let (c, m) = code(commit_part(&mut sat, key, &id, 1, vec![n1[0].clone(), vec![9]]).await);
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("replaced"), "{m}");
    let p1 = commit_part(&mut sat, key, &id, 1, n1).await.unwrap();
    assert_eq!((p1.plain_size, p1.segment_count), (130, 2));
    assert_eq!(p1.encrypted_etag, b"etag1");
    commit_part(&mut sat, key, &id, 2, n2).await.unwrap();
    commit_part(&mut sat, key, &id, 3, n3).await.unwrap();

    let parts = sat
        .client
        .list_parts(pb::ListPartsRequest {
            header: sat.header(),
            upload: upload_ref(key, &id),
            cursor: 1,
            limit: 1,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(parts.more);
    assert_eq!(parts.items.len(), 1);
    assert_eq!(parts.items[0].part_number, 2);

    // The plain commit refuses a multipart stream.
    let (c, m) = code(
        sat.client
            .commit_object(pb::CommitObjectRequest {
                header: sat.header(),
                stream_id: token,
                ..Default::default()
            })
            .await,
    );
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("CommitMultipartUpload"), "{m}");

    let (c, r, m) = reason(
        sat.client
            .commit_multipart_upload(commit_req(&sat, key, &id, vec![1, 4], 0))
            .await,
    );
    assert_eq!(c, Code::FailedPrecondition);
    assert_eq!(r, Some(ErrorReason::InvalidPart), "{m}");
    assert!(m.contains("[4]"), "{m}");
    let (c, _) = code(
        sat.client
            .commit_multipart_upload(commit_req(&sat, key, &id, vec![3, 1], 139))
            .await,
    );
    assert_eq!(c, Code::InvalidArgument);
    let (c, m) = code(
        sat.client
            .commit_multipart_upload(commit_req(&sat, key, &id, vec![1, 3], 140))
            .await,
    );
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("139"), "{m}");
    let o = sat
        .client
        .commit_multipart_upload(commit_req(&sat, key, &id, vec![1, 3], 139))
        .await
        .unwrap()
        .into_inner()
        .object
        .unwrap();
    assert_eq!((o.plain_size, o.segment_count), (139, 3));
    // A retry after a lost reply answers the same object and changes nothing.
    let again = sat
        .client
        .commit_multipart_upload(commit_req(&sat, key, &id, vec![1, 3], 139))
        .await
        .expect("a retried commit succeeds")
        .into_inner()
        .object
        .unwrap();
    assert_eq!(again, o);

    let d = sat
        .client
        .download_object(pb::DownloadObjectRequest {
            header: sat.header(),
            bucket: "bkt".into(),
            encrypted_key: key.to_vec(),
            range_start: 120,
            range_end: 135,
        })
        .await
        .unwrap()
        .into_inner();
    let layout: Vec<(u32, u32, i64, i64)> = d
        .segments
        .iter()
        .map(|s| {
            let p = s.position.unwrap();
            (p.part, p.index, s.plain_offset, s.plain_size)
        })
        .collect();
    assert_eq!(layout, vec![(1, 1, 100, 30), (3, 0, 130, 9)]);
    let seg = sat
        .client
        .download_segment(pb::DownloadSegmentRequest {
            header: sat.header(),
            stream_id: d.object.unwrap().stream_id,
            position: Some(pb::SegmentPosition { part: 3, index: 0 }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seg.encrypted_inline_data, vec![3u8; 9]);

    // Committed: the upload id no longer works and is not listed.
    let (c, m) = code(
        sat.client
            .begin_part(begin_part_req(&sat, key, &id, 1))
            .await,
    );
    assert_eq!(c, Code::NotFound);
    assert!(m.contains("multipart upload"), "{m}");
    let ups = sat
        .client
        .list_multipart_uploads(list)
        .await
        .unwrap()
        .into_inner();
    assert!(ups.items.is_empty());
    assert_eq!(
        sat.client
            .get_object(get)
            .await
            .unwrap()
            .into_inner()
            .object
            .unwrap()
            .plain_size,
        139
    );
}

#[tokio::test]
async fn permissions_abort_and_expiry() {
    let mut sat = TestSatellite::start().await;
    create_bucket(&mut sat, "bkt").await;
    let key = b"k".as_slice();
    let ro = sat.key.restrict(&Caveat {
        disallow_writes: true,
        ..Default::default()
    });
    let (c, _) = code(
        sat.client
            .begin_multipart_upload(pb::BeginMultipartUploadRequest {
                header: TestSatellite::header_for(&ro),
                bucket: "bkt".into(),
                encrypted_key: key.to_vec(),
                ..Default::default()
            })
            .await,
    );
    assert_eq!(c, Code::PermissionDenied);
    let id = begin_mp(&mut sat, key).await.upload_id;
    let mut req = begin_part_req(&sat, key, &id, 1);
    req.header = TestSatellite::header_for(&ro);
    assert_eq!(
        code(sat.client.begin_part(req).await).0,
        Code::PermissionDenied
    );
    // The id only works with its own key.
    let (c, _) = code(
        sat.client
            .begin_part(begin_part_req(&sat, b"other", &id, 1))
            .await,
    );
    assert_eq!(c, Code::NotFound);
    let (c, _) = code(
        sat.client
            .begin_part(begin_part_req(&sat, key, &[1; 5], 1))
            .await,
    );
    assert_eq!(c, Code::InvalidArgument);

    let nonces = inline_part(&mut sat, key, &id, 1, &[10]).await;
    let abort = pb::AbortMultipartUploadRequest {
        header: sat.header(),
        upload: upload_ref(key, &id),
    };
    sat.client
        .abort_multipart_upload(abort.clone())
        .await
        .unwrap();
    let stream: [u8; 16] = id.as_slice().try_into().unwrap();
    assert!(
        sat.handle
            .store()
            .list_segments(&stream)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        code(sat.client.abort_multipart_upload(abort).await).0,
        Code::NotFound
    );
    assert_eq!(
        code(commit_part(&mut sat, key, &id, 1, nonces).await).0,
        Code::NotFound
    );
    let (c, m) = code(
        sat.client
            .commit_multipart_upload(commit_req(&sat, key, &id, vec![], 0))
            .await,
    );
    assert_eq!(c, Code::NotFound);
    assert!(m.contains("multipart upload"), "{m}");

    // Expiry: the zombie chore keeps multipart uploads until their
    // deadline, though plain pending objects go after a day.
    let mp = begin_mp(&mut sat, b"long").await.upload_id;
    let plain = begin(&mut sat, b"plain").await;
    assert!(!plain.stream_id.is_empty());
    let chore = ZombieObjectsChore::new(
        sat.handle.store().clone(),
        crate::deleter::PieceDeleter::new(
            sat.handle.store().clone(),
            Arc::new(crate::orders::OrderSigner::new(
                Identity::generate(0),
                Duration::from_secs(3600),
            )),
            satstore_transport::Dialer::anonymous(satstore_transport::Security::Tls),
            Duration::from_secs(5),
        ),
        SatelliteMetrics::new().0,
        Duration::from_secs(24 * 3600),
    );
    let day = 24 * 3600;
    assert_eq!(chore.run_once(now_unix() + 2 * day).await.unwrap(), 1);
    let mp_stream: [u8; 16] = mp.as_slice().try_into().unwrap();
    assert!(
        sat.handle
            .store()
            .object_by_stream(&mp_stream)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(chore.run_once(now_unix() + 8 * day).await.unwrap(), 1);
    assert!(
        sat.handle
            .store()
            .object_by_stream(&mp_stream)
            .await
            .unwrap()
            .is_none()
    );
    sat.handle.shutdown().await;
}
