//! Metainfo over real gRPC on loopback: the remote and inline upload
//! flows, commit checks, downloads and listing.

use satstore_common::orders::{OrderLimit, PieceAction, PieceHash};
use satstore_common::time::now_unix;
use satstore_common::{Identity, PieceId};
use satstore_proto::metainfo as pb;
use tonic::Code;

use super::testing::{TestSatellite, begin, code, create_bucket, inline_object, test_redundancy};

fn node_hash(node: &Identity, piece_id: PieceId, size: u64) -> satstore_proto::common::Signed {
    let h = PieceHash {
        piece_id,
        hash: [7; 32],
        piece_size: size,
        timestamp: now_unix(),
    };
    satstore_proto::common::Signed::from(node.keys().sign(&h))
}

#[tokio::test]
async fn remote_segment_flow_and_commit_checks() {
    let mut sat = TestSatellite::start().await;
    create_bucket(&mut sat, "bkt").await;
    let b = begin(&mut sat, b"k").await;
    let bs = |sat: &TestSatellite, max_order_limit| pb::BeginSegmentRequest {
        header: sat.header(),
        stream_id: b.stream_id.clone(),
        position: Some(pb::SegmentPosition { part: 0, index: 0 }),
        max_order_limit,
    };
    // No nodes yet.
    let (c, m) = code(sat.client.begin_segment(bs(&sat, 4096)).await);
    assert_eq!(c, Code::Unavailable);
    assert!(m.contains("have 0, need 3"), "{m}");
    let nodes = sat.add_nodes(4).await;
    assert_eq!(
        code(sat.client.begin_segment(bs(&sat, 0)).await).0,
        Code::InvalidArgument
    );

    let seg = sat
        .client
        .begin_segment(bs(&sat, 4096))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seg.limits.len(), 4);
    assert_eq!(seg.piece_private_key.len(), 32);
    let mut serials = std::collections::HashSet::new();
    let mut pieces = Vec::new(); // (piece_num, node identity, piece id)
    for l in &seg.limits {
        let limit: OrderLimit = satstore_common::SignedMessage::from(l.limit.clone().unwrap())
            .verify(&sat.handle.id())
            .unwrap();
        assert_eq!(limit.action, PieceAction::Put);
        assert_eq!(limit.limit, test_redundancy().piece_size(4096));
        assert!(
            l.node_address
                .starts_with(&limit.storage_node_id.to_string())
        );
        serials.insert(limit.serial_number);
        let node = nodes
            .iter()
            .find(|n| n.id() == limit.storage_node_id)
            .expect("known node")
            .clone();
        pieces.push((l.piece_num, node, limit.piece_id));
    }
    assert_eq!(serials.len(), 1, "one serial per segment");

    let size = 3000i64;
    let piece_size = test_redundancy().piece_size(size as u64);
    let result = |num: u32, node: &Identity, id: PieceId, sz: u64| pb::SegmentPieceUploadResult {
        piece_num: num,
        hash: Some(node_hash(node, id, sz)),
    };
    let hdr = sat.header();
    let commit = |results: Vec<pb::SegmentPieceUploadResult>| pb::CommitSegmentRequest {
        header: hdr.clone(),
        segment_id: seg.segment_id.clone(),
        encrypted_key: vec![1],
        encrypted_key_nonce: vec![2],
        encrypted_size: size,
        plain_size: size - 100,
        results,
    };
    let good: Vec<_> = pieces
        .iter()
        .map(|(n, node, id)| result(*n, node, *id, piece_size))
        .collect();
    let (p0, p1, p2) = (&pieces[0], &pieces[1], &pieces[2]);

    // Fewer than success (duplicates do not count twice).
    let (c, m) = code(
        sat.client
            .commit_segment(commit(vec![
                good[0].clone(),
                good[0].clone(),
                good[1].clone(),
            ]))
            .await,
    );
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("only 2 of 3"), "{m}");
    // Third hash signed by the wrong node.
    let wrong_node = result(p2.0, &p0.1, p2.2, piece_size);
    let (c, m) = code(
        sat.client
            .commit_segment(commit(vec![good[0].clone(), good[1].clone(), wrong_node]))
            .await,
    );
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("not signed by its node"), "{m}");
    // Wrong piece id.
    let wrong_id = result(p2.0, &p2.1, p1.2, piece_size);
    let (c, m) = code(
        sat.client
            .commit_segment(commit(vec![good[0].clone(), good[1].clone(), wrong_id]))
            .await,
    );
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("wrong piece id"), "{m}");
    // Wrong piece size.
    let wrong_size = result(p2.0, &p2.1, p2.2, piece_size + 1);
    let (c, m) = code(
        sat.client
            .commit_segment(commit(vec![good[0].clone(), good[1].clone(), wrong_size]))
            .await,
    );
    assert_eq!(c, Code::FailedPrecondition);
    assert!(m.contains("differs from the expected"), "{m}");
    // Too large for the limits.
    let mut too_big = commit(good.clone());
    too_big.encrypted_size = 1 << 20;
    assert_eq!(
        code(sat.client.commit_segment(too_big).await).0,
        Code::InvalidArgument
    );

    // Three valid of four: stored with those three.
    sat.client
        .commit_segment(commit(good[..3].to_vec()))
        .await
        .unwrap();
    let committed = sat
        .client
        .commit_object(pb::CommitObjectRequest {
            header: sat.header(),
            stream_id: b.stream_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .object
        .unwrap();
    assert_eq!(
        (committed.plain_size, committed.segment_count),
        (size - 100, 1)
    );
    // Segment ops on a committed stream are refused.
    assert_eq!(
        code(sat.client.begin_segment(bs(&sat, 4096)).await).0,
        Code::FailedPrecondition
    );

    let dl = sat
        .client
        .download_object(pb::DownloadObjectRequest {
            header: sat.header(),
            bucket: "bkt".into(),
            encrypted_key: b"k".to_vec(),
            range_start: 10,
            range_end: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dl.segments.len(), 1);
    assert!(!dl.segments[0].inline);
    let token = dl.object.unwrap().stream_id;
    let ds = sat
        .client
        .download_segment(pb::DownloadSegmentRequest {
            header: sat.header(),
            stream_id: token,
            position: Some(pb::SegmentPosition { part: 0, index: 0 }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ds.limits.len(), 3);
    for l in &ds.limits {
        let limit: OrderLimit = satstore_common::SignedMessage::from(l.limit.clone().unwrap())
            .verify(&sat.handle.id())
            .unwrap();
        assert_eq!(limit.action, PieceAction::Get);
        assert_eq!(limit.limit, piece_size);
        let (_, node, id) = pieces.iter().find(|(n, _, _)| *n == l.piece_num).unwrap();
        assert_eq!((limit.storage_node_id, limit.piece_id), (node.id(), *id));
    }
    let (c, _) = code(
        sat.client
            .download_object(pb::DownloadObjectRequest {
                header: sat.header(),
                bucket: "bkt".into(),
                encrypted_key: b"k".to_vec(),
                range_start: 5000,
                range_end: 0,
            })
            .await,
    );
    assert_eq!(c, Code::OutOfRange);

    let del = pb::DeleteObjectRequest {
        header: sat.header(),
        bucket: "bkt".into(),
        encrypted_key: b"k".to_vec(),
    };
    sat.client.delete_object(del.clone()).await.unwrap();
    assert_eq!(code(sat.client.delete_object(del).await).0, Code::NotFound);
    let get = pb::GetObjectRequest {
        header: sat.header(),
        bucket: "bkt".into(),
        encrypted_key: b"k".to_vec(),
    };
    let (c, m) = code(sat.client.get_object(get).await);
    assert_eq!((c, m.as_str()), (Code::NotFound, "object not found"));
    sat.handle.shutdown().await;
}

#[tokio::test]
async fn inline_objects_listing_and_replacement() {
    let mut sat = TestSatellite::start().await;
    create_bucket(&mut sat, "bkt").await;
    let b = begin(&mut sat, b"big").await;
    let (c, m) = code(
        sat.client
            .make_inline_segment(pb::MakeInlineSegmentRequest {
                header: sat.header(),
                stream_id: b.stream_id,
                encrypted_inline_data: vec![0; 4096 + 65],
                ..Default::default()
            })
            .await,
    );
    assert_eq!(c, Code::InvalidArgument);
    assert!(m.contains("exceeds"), "{m}");

    for k in ["a/1", "a/2", "b", "c/d/e"] {
        inline_object(&mut sat, k.as_bytes(), k.as_bytes()).await;
    }
    inline_object(&mut sat, b"b", b"second version").await;
    let hdr = sat.header();
    let list = |prefix: &str, cursor: &str, recursive, limit| pb::ListObjectsRequest {
        header: hdr.clone(),
        bucket: "bkt".into(),
        prefix: prefix.as_bytes().to_vec(),
        cursor: cursor.as_bytes().to_vec(),
        recursive,
        limit,
        include_metadata: true,
    };
    let names = |r: &pb::ListObjectsResponse| {
        r.items
            .iter()
            .map(|i| String::from_utf8(i.encrypted_key.clone()).unwrap())
            .collect::<Vec<_>>()
    };
    let top = sat
        .client
        .list_objects(list("", "", false, 0))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(&top), ["a/", "b", "c/"]);
    assert!(top.items[0].is_prefix);
    assert_eq!(top.items[1].plain_size, 14);
    assert_eq!(top.items[1].encrypted_metadata, b"m");
    let page = sat
        .client
        .list_objects(list("", "", true, 2))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (names(&page), page.more),
        (vec!["a/1".to_string(), "a/2".into()], true)
    );
    let rest = sat
        .client
        .list_objects(list("", "a/", false, 10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(&rest), ["b", "c/"]);
    let sub = sat
        .client
        .list_objects(list("c/", "", true, 10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(&sub), ["d/e"]);

    let dl = sat
        .client
        .download_object(pb::DownloadObjectRequest {
            header: sat.header(),
            bucket: "bkt".into(),
            encrypted_key: b"b".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let obj = dl.object.unwrap();
    assert_eq!(obj.version, 2);
    assert!(dl.segments[0].inline);
    let ds = sat
        .client
        .download_segment(pb::DownloadSegmentRequest {
            header: sat.header(),
            stream_id: obj.stream_id,
            position: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ds.encrypted_inline_data, b"second version");
    assert!(ds.limits.is_empty());
    sat.handle.shutdown().await;
}

#[tokio::test]
async fn put_limits_carry_the_object_expiration() {
    let mut sat = TestSatellite::start().await;
    create_bucket(&mut sat, "bkt").await;
    sat.add_nodes(4).await;
    let expires = now_unix() + 7200;
    for (key, expiration) in [(&b"expiring"[..], expires), (&b"forever"[..], 0)] {
        let b = super::testing::begin_expiring(&mut sat, key, expiration).await;
        let seg = sat
            .client
            .begin_segment(pb::BeginSegmentRequest {
                header: sat.header(),
                stream_id: b.stream_id,
                position: Some(pb::SegmentPosition { part: 0, index: 0 }),
                max_order_limit: 4096,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(seg.limits.len(), 4);
        for l in &seg.limits {
            let limit: OrderLimit = satstore_common::SignedMessage::from(l.limit.clone().unwrap())
                .verify(&sat.handle.id())
                .unwrap();
            assert_eq!(limit.action, PieceAction::Put);
            assert_eq!(limit.piece_expiration, expiration, "{key:?}");
        }
    }
    sat.handle.shutdown().await;
}
