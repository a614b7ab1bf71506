//! Store tests of objects: versions, commit/replace, deletion, listing.

use super::*;
use crate::store::testing::all_stores;
use crate::store::{ProjectInfo, SegmentPiece, SegmentPosition, SegmentRecord};
use satstore_common::erasure::RedundancyScheme;
use satstore_common::{NodeId, PieceId};

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

fn new_object(project_id: [u8; 16], key: &[u8], expires_at: i64) -> ObjectRecord {
    ObjectRecord {
        project_id,
        bucket: "bkt".into(),
        encrypted_key: key.to_vec(),
        version: 0,
        stream_id: rand::random(),
        status: ObjectStatus::Pending,
        created_at: 100,
        expires_at,
        segment_count: 0,
        plain_size: 0,
        encrypted_size: 0,
        encrypted_metadata: vec![],
        encrypted_metadata_nonce: vec![],
        encrypted_metadata_key: vec![],
        cipher_suite: 1,
        block_size: 1024,
        multipart_deadline: 0,
    }
}

async fn put(store: &Store, project_id: [u8; 16], key: &[u8], expires_at: i64) -> Committed {
    let o = store
        .begin_object(&new_object(project_id, key, expires_at))
        .await
        .unwrap();
    let seg = SegmentRecord {
        stream_id: o.stream_id,
        position: SegmentPosition { part: 0, index: 0 },
        created_at: 100,
        expires_at,
        root_piece_id: PieceId::random(),
        encrypted_key: vec![1],
        encrypted_key_nonce: vec![2],
        encrypted_size: 1024,
        plain_offset: 0,
        plain_size: 1000,
        redundancy: RedundancyScheme::default(),
        inline_data: None,
        pieces: vec![SegmentPiece {
            num: 1,
            node: NodeId::from_public_key(&[4; 32]),
        }],
    };
    store.put_segment(&seg).await.unwrap();
    let values = CommitValues {
        segment_count: 1,
        plain_size: 1000,
        encrypted_size: 1024,
        encrypted_metadata: b"meta".to_vec(),
        plain_offsets: vec![(seg.position, 0)],
        ..Default::default()
    };
    store
        .commit_object(&o.stream_id, &values)
        .await
        .unwrap()
        .unwrap()
}

fn keys(page: &ListPage) -> Vec<String> {
    page.items
        .iter()
        .map(|i| String::from_utf8(i.key.clone()).unwrap())
        .collect()
}

async fn list(
    store: &Store,
    p: [u8; 16],
    prefix: &str,
    cursor: &str,
    recursive: bool,
    limit: usize,
) -> ListPage {
    let opts = ListOptions {
        prefix: prefix.as_bytes().to_vec(),
        cursor: cursor.as_bytes().to_vec(),
        recursive,
        limit,
        now: 1000,
    };
    store.list_objects(&p, "bkt", &opts).await.unwrap()
}

#[test]
fn upper_bounds() {
    assert_eq!(prefix_upper_bound(b"a/"), Some(b"a0".to_vec()));
    assert_eq!(prefix_upper_bound(&[1, 0xff]), Some(vec![2]));
    assert_eq!(prefix_upper_bound(&[0xff, 0xff]), None);
    assert_eq!(prefix_upper_bound(b""), None);
}

#[tokio::test]
async fn versions_commit_replace_and_delete() {
    for (store, _dir) in all_stores().await {
        let p = project(&store).await;
        let first = put(&store, p, b"k", 0).await;
        assert_eq!(first.object.version, 1);
        assert_eq!(first.object.status, ObjectStatus::Committed);
        assert!(first.replaced_pieces.is_empty());
        let second = put(&store, p, b"k", 0).await;
        assert_eq!(second.object.version, 2);
        assert_eq!(second.replaced_pieces.len(), 1);
        assert!(
            store
                .object_by_stream(&first.object.stream_id)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .list_segments(&first.object.stream_id)
                .await
                .unwrap()
                .is_empty()
        );
        let got = store
            .latest_committed(&p, "bkt", b"k", 1000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, second.object);
        assert_eq!(got.encrypted_metadata, b"meta");
        // A second commit of the same stream is refused.
        assert!(
            store
                .commit_object(&second.object.stream_id, &CommitValues::default())
                .await
                .unwrap()
                .is_none()
        );

        // Pending objects are invisible and can be aborted.
        let pending = store.begin_object(&new_object(p, b"k", 0)).await.unwrap();
        assert_eq!(pending.version, 3);
        assert_eq!(
            store
                .latest_committed(&p, "bkt", b"k", 1000)
                .await
                .unwrap()
                .unwrap()
                .version,
            2
        );
        assert!(
            store
                .delete_pending(&pending.stream_id)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .delete_pending(&pending.stream_id)
                .await
                .unwrap()
                .is_none()
        );

        let (deleted, pieces) = store
            .delete_committed(&p, "bkt", b"k")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(deleted.version, 2);
        assert_eq!(pieces.len(), 1);
        assert!(
            store
                .delete_committed(&p, "bkt", b"k")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .latest_committed(&p, "bkt", b"k", 1000)
                .await
                .unwrap()
                .is_none()
        );

        // Expired objects are not returned.
        put(&store, p, b"old", 500).await;
        assert!(
            store
                .latest_committed(&p, "bkt", b"old", 1000)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .latest_committed(&p, "bkt", b"old", 400)
                .await
                .unwrap()
                .is_some()
        );

        // Only-if-empty keeps it; deleting the bucket takes its objects along.
        let kept = store.delete_bucket(&p, "bkt", true).await.unwrap().unwrap();
        assert!(kept.not_empty);
        assert_eq!(kept.deleted_objects, 0);
        let d = store
            .delete_bucket(&p, "bkt", false)
            .await
            .unwrap()
            .unwrap();
        assert!(!d.not_empty);
        assert_eq!(d.deleted_objects, 1);
        assert_eq!(d.pieces.len(), 1);
    }
}

#[tokio::test]
async fn listing_prefixes_cursors_and_pages() {
    for (store, _dir) in all_stores().await {
        let p = project(&store).await;
        for k in ["a", "b/1", "b/2", "b/c/3", "c"] {
            put(&store, p, k.as_bytes(), 0).await;
        }
        put(&store, p, b"expired", 10).await;
        store
            .begin_object(&new_object(p, b"pending", 0))
            .await
            .unwrap();

        assert_eq!(
            keys(&list(&store, p, "", "", true, 100).await),
            ["a", "b/1", "b/2", "b/c/3", "c"]
        );
        let flat = list(&store, p, "", "", false, 100).await;
        assert_eq!(keys(&flat), ["a", "b/", "c"]);
        assert!(flat.items[1].is_prefix && flat.items[1].object.is_none());
        assert!(!flat.more);
        assert_eq!(
            keys(&list(&store, p, "b/", "", false, 100).await),
            ["1", "2", "c/"]
        );
        assert_eq!(
            keys(&list(&store, p, "b/", "", true, 100).await),
            ["1", "2", "c/3"]
        );
        // A cursor ending in '/' skips the whole sub-prefix when collapsing.
        assert_eq!(keys(&list(&store, p, "", "b/", false, 100).await), ["c"]);
        // ... but not in recursive listings.
        assert_eq!(
            keys(&list(&store, p, "", "b/", true, 100).await),
            ["b/1", "b/2", "b/c/3", "c"]
        );
        assert_eq!(
            keys(&list(&store, p, "", "a", false, 100).await),
            ["b/", "c"]
        );
        assert_eq!(
            keys(&list(&store, p, "b/", "1", false, 100).await),
            ["2", "c/"]
        );

        // Pagination.
        let p1 = list(&store, p, "", "", false, 2).await;
        assert_eq!(
            (keys(&p1), p1.more),
            (vec!["a".to_string(), "b/".into()], true)
        );
        let p2 = list(&store, p, "", "b/", false, 2).await;
        assert_eq!((keys(&p2), p2.more), (vec!["c".to_string()], false));
        let r1 = list(&store, p, "", "", true, 2).await;
        assert_eq!(
            (keys(&r1), r1.more),
            (vec!["a".to_string(), "b/1".into()], true)
        );
        let r2 = list(&store, p, "", "b/1", true, 2).await;
        assert_eq!(
            (keys(&r2), r2.more),
            (vec!["b/2".to_string(), "b/c/3".into()], true)
        );
        let r3 = list(&store, p, "", "b/c/3", true, 2).await;
        assert_eq!((keys(&r3), r3.more), (vec!["c".to_string()], false));
        let exact = list(&store, p, "", "", false, 3).await;
        assert!(!exact.more);
    }
}
