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

/// `objects.status` as stored, read with SQL of its own.
async fn stored_status(store: &Store, stream: &[u8; 16]) -> i64 {
    sqlx::query("SELECT status FROM objects WHERE stream_id = $1")
        .bind(stream.to_vec())
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get("status")
        .unwrap()
}

/// Overwrites `objects.status` with a raw value, as another release (or a
/// bug) might have written it.
async fn set_stored_status(store: &Store, stream: &[u8; 16], status: i64) {
    sqlx::query("UPDATE objects SET status = $1 WHERE stream_id = $2")
        .bind(status)
        .bind(stream.to_vec())
        .execute(store.pool())
        .await
        .unwrap();
}

/// The numbers every release so far has written to `objects.status`:
/// renumbering the enum would misread existing databases even though the
/// queries bind whatever the enum says.
#[test]
fn status_values_are_the_stored_ones() {
    assert_eq!(ObjectStatus::Pending.as_i64(), 1);
    assert_eq!(ObjectStatus::Committed.as_i64(), 3);
    for s in ObjectStatus::ALL {
        assert_eq!(ObjectStatus::from_i64(s.as_i64()).unwrap(), s);
    }
    assert!(ObjectStatus::from_i64(2).is_err());
}

/// What the queries select by status matches what the enum reads: each
/// status round-trips through the database, and rows holding the stored
/// numbers (1 pending, 3 committed) are listed, committed, aborted and
/// offered as multipart uploads by their status.
#[tokio::test]
async fn status_round_trips_and_selects_rows() {
    for (store, _dir) in all_stores().await {
        let p = project(&store).await;
        let o = store.begin_object(&new_object(p, b"s", 0)).await.unwrap();
        let s = o.stream_id;
        assert_eq!(stored_status(&store, &s).await, 1);
        for status in ObjectStatus::ALL {
            set_stored_status(&store, &s, status.as_i64()).await;
            let got = store.object_by_stream(&s).await.unwrap().unwrap();
            assert_eq!(got.status, status);
        }
        set_stored_status(&store, &s, 2).await;
        assert!(matches!(
            store.object_by_stream(&s).await,
            Err(StoreError::Corrupt { .. })
        ));

        // Stored 1: pending, invisible to readers, committable.
        set_stored_status(&store, &s, 1).await;
        assert!(keys(&list(&store, p, "", "", true, 10).await).is_empty());
        assert!(!store.committed_exists(&p, "bkt", b"s").await.unwrap());
        assert!(
            store
                .latest_committed(&p, "bkt", b"s", 1000)
                .await
                .unwrap()
                .is_none()
        );
        let c = store
            .commit_object(&s, &CommitValues::default())
            .await
            .unwrap()
            .expect("a pending object commits");
        assert_eq!(c.object.status, ObjectStatus::Committed);
        assert_eq!(stored_status(&store, &s).await, 3);

        // Stored 3: committed, visible, neither committed again nor
        // aborted as a pending upload.
        assert_eq!(keys(&list(&store, p, "", "", true, 10).await), ["s"]);
        assert!(store.committed_exists(&p, "bkt", b"s").await.unwrap());
        let latest = store.latest_committed(&p, "bkt", b"s", 1000).await;
        assert_eq!(latest.unwrap().unwrap().stream_id, s);
        assert!(
            store
                .commit_object(&s, &CommitValues::default())
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.delete_pending(&s).await.unwrap().is_none());

        // Back to 1: gone from the listing, abortable.
        set_stored_status(&store, &s, 1).await;
        assert!(keys(&list(&store, p, "", "", true, 10).await).is_empty());
        assert!(
            store
                .delete_committed(&p, "bkt", b"s")
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.delete_pending(&s).await.unwrap().is_some());

        // Multipart uploads are listed while their row holds 1.
        let mut mp = new_object(p, b"mp", 0);
        mp.multipart_deadline = i64::MAX;
        let mp = store.begin_object(&mp).await.unwrap();
        let uploads = |store: Store| async move {
            store
                .list_multipart_uploads(&p, "bkt", b"", (b"", b""), 10, 1000)
                .await
                .unwrap()
                .0
                .len()
        };
        assert_eq!(uploads(store.clone()).await, 1);
        set_stored_status(&store, &mp.stream_id, 3).await;
        assert_eq!(uploads(store.clone()).await, 0);
        assert_eq!(keys(&list(&store, p, "", "", true, 10).await), ["mp"]);
    }
}
