//! Multipart store paths on SQLite (and PostgreSQL when configured).

use satstore_common::erasure::RedundancyScheme;
use satstore_common::{NodeId, PieceId};

use super::*;
use crate::store::testing::all_stores;
use crate::store::{ObjectStatus, ProjectInfo, SegmentPiece, SegmentRecord};

async fn project(store: &Store) -> [u8; 16] {
    let p = ProjectInfo {
        id: rand::random(),
        name: format!("p-{}", rand::random::<u64>()),
        salt: rand::random(),
        created_at: 1,
    };
    store.insert_project(&p).await.unwrap();
    store.create_bucket(&p.id, "bkt", 1).await.unwrap();
    p.id
}

async fn begin(store: &Store, project_id: [u8; 16], key: &[u8], deadline: i64) -> ObjectRecord {
    store
        .begin_object(&ObjectRecord {
            project_id,
            bucket: "bkt".into(),
            encrypted_key: key.to_vec(),
            version: 0,
            stream_id: rand::random(),
            status: ObjectStatus::Pending,
            created_at: 100,
            expires_at: 0,
            segment_count: 0,
            plain_size: 0,
            encrypted_size: 0,
            encrypted_metadata: vec![],
            encrypted_metadata_nonce: vec![],
            encrypted_metadata_key: vec![],
            cipher_suite: 1,
            block_size: 1024,
            multipart_deadline: deadline,
        })
        .await
        .unwrap()
}

/// Stores segment (part, index) with `plain` bytes and key nonce `nonce`;
/// returns the pieces it replaced.
async fn segment(
    store: &Store,
    stream: [u8; 16],
    part: u32,
    index: u32,
    plain: i64,
    nonce: u8,
) -> Vec<PieceRef> {
    store
        .put_segment(&SegmentRecord {
            stream_id: stream,
            position: SegmentPosition { part, index },
            created_at: 100,
            expires_at: 0,
            root_piece_id: PieceId::random(),
            encrypted_key: vec![1],
            encrypted_key_nonce: vec![nonce],
            encrypted_size: plain + 16,
            plain_offset: 0,
            plain_size: plain,
            redundancy: RedundancyScheme::default(),
            inline_data: None,
            pieces: vec![SegmentPiece {
                num: 1,
                node: NodeId::from_public_key(&[nonce; 32]),
            }],
        })
        .await
        .unwrap()
        .expect("object is pending")
}

fn committed(c: PartCommit) -> (PartRecord, Vec<PieceRef>) {
    match c {
        PartCommit::Committed {
            part,
            removed_pieces,
        } => (part, removed_pieces),
        other => panic!("part not committed: {other:?}"),
    }
}

#[tokio::test]
async fn parts_commit_list_and_replace() {
    for (store, _dir) in all_stores().await {
        let p = project(&store).await;
        let o = begin(&store, p, b"mp", i64::MAX).await;
        let s = o.stream_id;
        // Part 2: three segments; part 1: one.
        for i in 0..3 {
            segment(&store, s, 2, i, 100, 20 + i as u8).await;
        }
        segment(&store, s, 1, 0, 50, 10).await;
        let (p2, removed) = committed(
            store
                .commit_part(&s, 2, &[vec![20], vec![21], vec![22]], b"e2", 500)
                .await
                .unwrap(),
        );
        assert!(removed.is_empty());
        assert_eq!((p2.segment_count, p2.plain_size), (3, 300));
        assert_eq!(p2.encrypted_size, 348);
        committed(
            store
                .commit_part(&s, 1, &[vec![10]], b"e1", 501)
                .await
                .unwrap(),
        );
        // An empty part.
        committed(store.commit_part(&s, 7, &[], b"", 502).await.unwrap());

        // Wrong nonce or a missing segment: refused, nothing recorded.
        let differ = store
            .commit_part(&s, 3, &[vec![99]], b"x", 503)
            .await
            .unwrap();
        assert!(matches!(differ, PartCommit::SegmentsDiffer(ref m) if m.contains("not stored")));
        segment(&store, s, 3, 0, 10, 30).await;
        let differ = store
            .commit_part(&s, 3, &[vec![31]], b"x", 503)
            .await
            .unwrap();
        assert!(matches!(differ, PartCommit::SegmentsDiffer(ref m) if m.contains("replaced")));

        let (all, more) = store.list_parts(&s, 0, 10).await.unwrap();
        assert!(!more);
        let nums: Vec<u32> = all.iter().map(|p| p.part_number).collect();
        assert_eq!(nums, vec![1, 2, 7]);
        assert_eq!(all[0].encrypted_etag, b"e1");
        assert_eq!(all[2].plain_size, 0);
        let (page, more) = store.list_parts(&s, 1, 1).await.unwrap();
        assert!(more);
        assert_eq!(page[0].part_number, 2);

        // Re-uploading part 2 with one segment: the first new segment drops
        // the record (replacing old pieces), the commit removes leftovers.
        let replaced = segment(&store, s, 2, 0, 40, 40).await;
        assert_eq!(replaced.len(), 1, "old segment's pieces come back");
        assert_eq!(replaced[0].node_id, NodeId::from_public_key(&[20; 32]));
        let (now_parts, _) = store.list_parts(&s, 0, 10).await.unwrap();
        assert!(now_parts.iter().all(|p| p.part_number != 2));
        let (p2, removed) = committed(
            store
                .commit_part(&s, 2, &[vec![40]], b"e2b", 600)
                .await
                .unwrap(),
        );
        assert_eq!((p2.segment_count, p2.plain_size), (1, 40));
        assert_eq!(removed.len(), 2, "segments 1 and 2 of the old part 2");
        assert_eq!(store.list_segments(&s).await.unwrap().len(), 3);

        // Not a multipart upload.
        let plain = begin(&store, p, b"plain", 0).await;
        assert!(matches!(
            store
                .commit_part(&plain.stream_id, 1, &[], b"", 1)
                .await
                .unwrap(),
            PartCommit::UploadNotFound
        ));
    }
}

#[tokio::test]
async fn commit_keeps_chosen_parts_in_order() {
    for (store, _dir) in all_stores().await {
        let p = project(&store).await;
        // An older committed object at the key gets replaced.
        let old = begin(&store, p, b"obj", 0).await;
        segment(&store, old.stream_id, 0, 0, 5, 1).await;
        store
            .commit_object(
                &old.stream_id,
                &CommitValues {
                    segment_count: 1,
                    plain_size: 5,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .unwrap();

        let o = begin(&store, p, b"obj", i64::MAX).await;
        let s = o.stream_id;
        segment(&store, s, 1, 0, 100, 10).await;
        segment(&store, s, 1, 1, 30, 11).await;
        segment(&store, s, 2, 0, 70, 20).await;
        segment(&store, s, 3, 0, 9, 30).await;
        segment(&store, s, 4, 0, 1, 40).await; // never committed as a part
        committed(
            store
                .commit_part(&s, 1, &[vec![10], vec![11]], b"", 1)
                .await
                .unwrap(),
        );
        committed(store.commit_part(&s, 2, &[vec![20]], b"", 1).await.unwrap());
        committed(store.commit_part(&s, 3, &[vec![30]], b"", 1).await.unwrap());

        let values = |parts: Vec<u32>, plain_size| MultipartCommitValues {
            parts,
            plain_size,
            encrypted_metadata: b"meta".to_vec(),
            ..Default::default()
        };
        match store
            .commit_multipart(&s, &values(vec![1, 5], 130))
            .await
            .unwrap()
        {
            MultipartCommit::MissingParts(m) => assert_eq!(m, vec![5]),
            other => panic!("{other:?}"),
        }
        match store
            .commit_multipart(&s, &values(vec![1, 3], 1))
            .await
            .unwrap()
        {
            MultipartCommit::SizeMismatch { expected, actual } => {
                assert_eq!((expected, actual), (1, 139))
            }
            other => panic!("{other:?}"),
        }
        // Nothing changed by the refused commits.
        assert_eq!(store.list_segments(&s).await.unwrap().len(), 5);

        let c = match store
            .commit_multipart(&s, &values(vec![1, 3], 139))
            .await
            .unwrap()
        {
            MultipartCommit::Committed(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(c.object.status, ObjectStatus::Committed);
        assert_eq!(c.object.multipart_deadline, 0);
        assert_eq!((c.object.plain_size, c.object.segment_count), (139, 3));
        assert_eq!(c.object.encrypted_metadata, b"meta");
        // No segment lands in a committed object.
        let late = SegmentRecord {
            stream_id: s,
            position: SegmentPosition { part: 9, index: 0 },
            created_at: 1,
            expires_at: 0,
            root_piece_id: PieceId::random(),
            encrypted_key: vec![],
            encrypted_key_nonce: vec![],
            encrypted_size: 1,
            plain_offset: 0,
            plain_size: 1,
            redundancy: RedundancyScheme::default(),
            inline_data: Some(vec![1]),
            pieces: vec![],
        };
        assert!(store.put_segment(&late).await.unwrap().is_none());
        // Pieces of parts 2 and 4 and of the replaced object.
        let mut nodes: Vec<NodeId> = c.replaced_pieces.iter().map(|p| p.node_id).collect();
        nodes.sort();
        let mut want: Vec<NodeId> = [1u8, 20, 40]
            .iter()
            .map(|n| NodeId::from_public_key(&[*n; 32]))
            .collect();
        want.sort();
        assert_eq!(nodes, want);
        let segs = store.list_segments(&s).await.unwrap();
        let layout: Vec<(u32, u32, i64, i64)> = segs
            .iter()
            .map(|g| {
                (
                    g.position.part,
                    g.position.index,
                    g.plain_offset,
                    g.plain_size,
                )
            })
            .collect();
        assert_eq!(
            layout,
            vec![(1, 0, 0, 100), (1, 1, 100, 30), (3, 0, 130, 9)]
        );
        assert!(store.list_parts(&s, 0, 10).await.unwrap().0.is_empty());
        assert!(
            store
                .object_by_stream(&old.stream_id)
                .await
                .unwrap()
                .is_none()
        );
        let latest = store
            .latest_committed(&p, "bkt", b"obj", 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(latest.stream_id, s);
        // Committed: no second commit.
        assert!(matches!(
            store
                .commit_multipart(&s, &values(vec![], 139))
                .await
                .unwrap(),
            MultipartCommit::UploadNotFound
        ));
    }
}

#[tokio::test]
async fn commit_of_all_parts_and_incomplete_parts() {
    for (store, _dir) in all_stores().await {
        let p = project(&store).await;
        let o = begin(&store, p, b"all", i64::MAX).await;
        let s = o.stream_id;
        segment(&store, s, 2, 0, 10, 1).await;
        segment(&store, s, 5, 0, 20, 2).await;
        committed(store.commit_part(&s, 2, &[vec![1]], b"", 1).await.unwrap());
        committed(store.commit_part(&s, 5, &[vec![2]], b"", 1).await.unwrap());
        // Someone deletes a segment behind the record's back.
        sqlx::query("DELETE FROM segments WHERE stream_id = $1 AND position = $2")
            .bind(s.to_vec())
            .bind(SegmentPosition { part: 5, index: 0 }.encode())
            .execute(store.pool())
            .await
            .unwrap();
        let v = MultipartCommitValues {
            plain_size: 30,
            ..Default::default()
        };
        assert!(matches!(
            store.commit_multipart(&s, &v).await.unwrap(),
            MultipartCommit::IncompletePart(5)
        ));
        segment(&store, s, 5, 0, 20, 2).await; // drops the record of part 5
        committed(store.commit_part(&s, 5, &[vec![2]], b"", 1).await.unwrap());
        match store.commit_multipart(&s, &v).await.unwrap() {
            MultipartCommit::Committed(c) => assert_eq!(c.object.plain_size, 30),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn listing_pending_uploads_and_expiry() {
    for (store, _dir) in all_stores().await {
        let p = project(&store).await;
        let a1 = begin(&store, p, b"dir/a", 1_000).await;
        let a2 = begin(&store, p, b"dir/a", 1_000).await;
        let b = begin(&store, p, b"dir/b", 1_000).await;
        let _outside = begin(&store, p, b"other", 1_000).await;
        let _plain = begin(&store, p, b"dir/plain", 0).await;
        let expired = begin(&store, p, b"dir/c", 400).await;

        let (all, more) = store
            .list_multipart_uploads(&p, "bkt", b"dir/", (b"", b""), 10, 500)
            .await
            .unwrap();
        assert!(!more);
        let mut want_a = [a1.stream_id, a2.stream_id];
        want_a.sort();
        let got: Vec<(Vec<u8>, [u8; 16])> = all
            .iter()
            .map(|o| (o.encrypted_key.clone(), o.stream_id))
            .collect();
        assert_eq!(
            got,
            vec![
                (b"dir/a".to_vec(), want_a[0]),
                (b"dir/a".to_vec(), want_a[1]),
                (b"dir/b".to_vec(), b.stream_id),
            ]
        );
        // Paging with the (key, upload id) cursor.
        let (page, more) = store
            .list_multipart_uploads(&p, "bkt", b"dir/", (b"", b""), 1, 500)
            .await
            .unwrap();
        assert!(more);
        let (page2, _) = store
            .list_multipart_uploads(
                &p,
                "bkt",
                b"dir/",
                (&page[0].encrypted_key, &page[0].stream_id),
                10,
                500,
            )
            .await
            .unwrap();
        assert_eq!(page2.len(), 2);
        assert_eq!(page2[0].stream_id, want_a[1]);

        // The chore's query: expired multipart uploads only (deadlines this
        // low are this test's own on a shared database).
        let deleted = store.delete_expired_multipart(500, 100).await.unwrap();
        assert_eq!(deleted.len(), 1, "{deleted:?}");
        assert_eq!(deleted[0].stream_id, expired.stream_id);
        assert!(
            store
                .object_by_stream(&expired.stream_id)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .object_by_stream(&b.stream_id)
                .await
                .unwrap()
                .is_some()
        );
    }
}
