//! Queries of the cleanup chores: expired objects and zombie pending
//! objects, deleted in small batches (one short transaction each) with
//! their segments.

use sqlx::Row;

use super::pieces::PieceRef;
use super::steps::delete_stream_segments;
use super::types::{ObjectStatus, fixed16};
use super::{Store, StoreError};

/// An object removed by a cleanup query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedObject {
    /// Owning project.
    pub project_id: [u8; 16],
    /// Bucket name.
    pub bucket: String,
    /// The object's stream id.
    pub stream_id: [u8; 16],
    /// Remote pieces its segments referenced.
    pub pieces: Vec<PieceRef>,
}

/// Which objects a cleanup batch removes.
#[derive(Clone, Copy, Debug)]
enum Selection {
    /// Any status, `expires_at` set and at or before this time.
    ExpiredAt(i64),
    /// Pending plain (not multipart) uploads with no activity (begun, or a
    /// segment committed) since strictly before this time.
    PendingIdleSince(i64),
    /// Pending multipart uploads whose deadline is at or before this time.
    MultipartExpiredAt(i64),
}

impl Selection {
    /// The WHERE clause; `$1` is the time bound and `$3`, where used, the
    /// status ([`Selection::status`]).
    fn condition(self) -> &'static str {
        match self {
            Selection::ExpiredAt(_) => "expires_at <> 0 AND expires_at <= $1",
            Selection::PendingIdleSince(_) => {
                "status = $3 AND multipart_deadline = 0 AND updated_at < $1"
            }
            Selection::MultipartExpiredAt(_) => {
                "status = $3 AND multipart_deadline <> 0 AND multipart_deadline <= $1"
            }
        }
    }

    /// The status the condition selects (bound as `$3`); `None` for any.
    fn status(self) -> Option<ObjectStatus> {
        match self {
            Selection::ExpiredAt(_) => None,
            Selection::PendingIdleSince(_) | Selection::MultipartExpiredAt(_) => {
                Some(ObjectStatus::Pending)
            }
        }
    }

    fn bound(self) -> i64 {
        match self {
            Selection::ExpiredAt(t)
            | Selection::PendingIdleSince(t)
            | Selection::MultipartExpiredAt(t) => t,
        }
    }
}

impl Store {
    /// Deletes up to `limit` objects (committed or pending) whose
    /// expiration is at or before `now`, with their segments. Call again
    /// until fewer than `limit` come back.
    pub async fn delete_expired_objects(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<DeletedObject>, StoreError> {
        self.delete_selected(Selection::ExpiredAt(now), limit).await
    }

    /// Deletes up to `limit` pending objects idle since before `cutoff`
    /// (abandoned uploads: neither begun nor given a segment since), with
    /// their segments. Call again until fewer than `limit` come back.
    pub async fn delete_pending_idle_since(
        &self,
        cutoff: i64,
        limit: i64,
    ) -> Result<Vec<DeletedObject>, StoreError> {
        self.delete_selected(Selection::PendingIdleSince(cutoff), limit)
            .await
    }

    /// Deletes up to `limit` pending multipart uploads whose deadline is
    /// at or before `now`, with their segments and parts. Call again until
    /// fewer than `limit` come back.
    pub async fn delete_expired_multipart(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<DeletedObject>, StoreError> {
        self.delete_selected(Selection::MultipartExpiredAt(now), limit)
            .await
    }

    async fn delete_selected(
        &self,
        sel: Selection,
        limit: i64,
    ) -> Result<Vec<DeletedObject>, StoreError> {
        let mut tx = self.begin_write().await?;
        let select = sqlx::AssertSqlSafe(format!(
            "SELECT project_id, bucket, stream_id FROM objects WHERE {} \
             ORDER BY stream_id LIMIT $2",
            sel.condition()
        ));
        let mut query = sqlx::query(select).bind(sel.bound()).bind(limit.max(1));
        if let Some(status) = sel.status() {
            query = query.bind(status.as_i64());
        }
        let rows = query.fetch_all(&mut *tx).await?;
        // The object row goes first and only if it still matches, so an
        // object committed meanwhile (PostgreSQL) is left alone.
        let delete = format!(
            "DELETE FROM objects WHERE {} AND stream_id = $2",
            sel.condition()
        );
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let stream: Vec<u8> = row.try_get("stream_id")?;
            let mut query = sqlx::query(sqlx::AssertSqlSafe(delete.clone()))
                .bind(sel.bound())
                .bind(stream.clone());
            if let Some(status) = sel.status() {
                query = query.bind(status.as_i64());
            }
            let deleted = query.execute(&mut *tx).await?.rows_affected();
            if deleted == 0 {
                continue;
            }
            let pieces = delete_stream_segments(&mut tx, &stream).await?;
            out.push(DeletedObject {
                project_id: fixed16("project id", row.try_get("project_id")?)?,
                bucket: row.try_get("bucket")?,
                stream_id: fixed16("stream id", stream)?,
                pieces,
            });
        }
        tx.commit().await?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use satstore_common::erasure::RedundancyScheme;
    use satstore_common::{NodeId, PieceId};

    use crate::store::CommitValues;
    use crate::store::testing::all_stores;
    use crate::store::{ObjectRecord, ObjectStatus, ProjectInfo, SegmentPiece, SegmentPosition};
    use crate::store::{SegmentRecord, Store};

    // Timestamps are far below those of every other store test, so running
    // against a shared PostgreSQL database deletes nothing of theirs; and
    // assertions only look at this test's own objects.
    // The two tests use disjoint ranges so they cannot see each other's
    // objects either.
    const NOW: i64 = -1_000_000;
    const ZOMBIE_CUTOFF: i64 = -2_000_000;

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

    /// An object with one remote segment; committed if `commit`.
    async fn object(
        store: &Store,
        project_id: [u8; 16],
        key: &[u8],
        created_at: i64,
        expires_at: i64,
        commit: bool,
    ) -> ObjectRecord {
        let o = store
            .begin_object(&ObjectRecord {
                project_id,
                bucket: "bkt".into(),
                encrypted_key: key.to_vec(),
                version: 0,
                stream_id: rand::random(),
                status: ObjectStatus::Pending,
                created_at,
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
            })
            .await
            .unwrap();
        let seg = SegmentRecord {
            stream_id: o.stream_id,
            position: SegmentPosition { part: 0, index: 0 },
            created_at,
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
                num: 2,
                node: NodeId::from_public_key(&[4; 32]),
            }],
        };
        store.put_segment(&seg).await.unwrap();
        if commit {
            let values = CommitValues {
                segment_count: 1,
                plain_size: 1000,
                encrypted_size: 1024,
                plain_offsets: vec![(seg.position, 0)],
                ..Default::default()
            };
            store
                .commit_object(&o.stream_id, &values)
                .await
                .unwrap()
                .unwrap();
        }
        o
    }

    async fn exists(store: &Store, o: &ObjectRecord) -> bool {
        let obj = store.object_by_stream(&o.stream_id).await.unwrap();
        let segs = store.list_segments(&o.stream_id).await.unwrap();
        assert_eq!(obj.is_some(), !segs.is_empty(), "segments follow objects");
        obj.is_some()
    }

    #[tokio::test]
    async fn expired_objects_go_with_their_segments() {
        for (store, _dir) in all_stores().await {
            let p = project(&store).await;
            let expired = object(&store, p, b"a", NOW - 10, NOW - 1, true).await;
            let expired_pending = object(&store, p, b"b", NOW - 10, NOW, false).await;
            let later = object(&store, p, b"c", NOW - 10, NOW + 1, true).await;
            let never = object(&store, p, b"d", NOW - 10, 0, true).await;

            let mut deleted = Vec::new();
            loop {
                let batch = store.delete_expired_objects(NOW, 1).await.unwrap();
                let done = batch.is_empty();
                deleted.extend(batch);
                if done {
                    break;
                }
            }
            let mine: Vec<_> = deleted.iter().filter(|d| d.project_id == p).collect();
            assert_eq!(mine.len(), 2, "{mine:?}");
            let a = mine
                .iter()
                .find(|d| d.stream_id == expired.stream_id)
                .expect("expired committed object deleted");
            assert_eq!(a.bucket, "bkt");
            assert_eq!(a.pieces.len(), 1);
            assert_eq!(a.pieces[0].node_id, NodeId::from_public_key(&[4; 32]));
            assert!(!exists(&store, &expired).await);
            assert!(!exists(&store, &expired_pending).await);
            assert!(exists(&store, &later).await);
            assert!(exists(&store, &never).await);
        }
    }

    #[tokio::test]
    async fn only_old_pending_objects_are_zombies() {
        for (store, _dir) in all_stores().await {
            let p = project(&store).await;
            let zombie = object(&store, p, b"z", ZOMBIE_CUTOFF - 100, 0, false).await;
            let fresh = object(&store, p, b"f", ZOMBIE_CUTOFF, 0, false).await;
            let old_committed = object(&store, p, b"c", ZOMBIE_CUTOFF - 100, 0, true).await;
            // Begun long ago, but a segment was committed since: still alive.
            let active = object(&store, p, b"a", ZOMBIE_CUTOFF - 100, 0, false).await;
            let mut seg = store.list_segments(&active.stream_id).await.unwrap()[0].clone();
            seg.position.index = 1;
            seg.created_at = ZOMBIE_CUTOFF + 5;
            store.put_segment(&seg).await.unwrap();
            let deleted = store
                .delete_pending_idle_since(ZOMBIE_CUTOFF, 100)
                .await
                .unwrap();
            let mine: Vec<_> = deleted.iter().filter(|d| d.project_id == p).collect();
            assert_eq!(mine.len(), 1, "{mine:?}");
            assert_eq!(mine[0].stream_id, zombie.stream_id);
            assert_eq!(mine[0].pieces.len(), 1);
            assert!(!exists(&store, &zombie).await);
            assert!(exists(&store, &fresh).await);
            assert!(exists(&store, &old_committed).await);
            assert!(exists(&store, &active).await);
        }
    }
}
