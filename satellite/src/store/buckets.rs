//! Buckets of a project.

use sqlx::Row;

use super::pieces::PieceRef;
use super::steps::{delete_streams, lock_clause};
use super::{Store, StoreError};

/// A bucket as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketRecord {
    /// Bucket name (validated by the metainfo layer).
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// What deleting a bucket removed.
#[derive(Clone, Debug, Default)]
pub struct DeletedBucket {
    /// Nothing was deleted: the bucket holds objects and had to be empty.
    pub not_empty: bool,
    /// Objects (committed or pending) deleted with it.
    pub deleted_objects: u64,
    /// Remote pieces that nodes may now delete.
    pub pieces: Vec<PieceRef>,
}

impl Store {
    /// Creates a bucket; `Ok(false)` if it already exists.
    pub async fn create_bucket(
        &self,
        project_id: &[u8; 16],
        name: &str,
        created_at: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "INSERT INTO buckets (project_id, name, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (project_id, name) DO NOTHING",
        )
        .bind(project_id.to_vec())
        .bind(name.to_string())
        .bind(created_at)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The bucket with this name.
    pub async fn get_bucket(
        &self,
        project_id: &[u8; 16],
        name: &str,
    ) -> Result<Option<BucketRecord>, StoreError> {
        let row =
            sqlx::query("SELECT name, created_at FROM buckets WHERE project_id = $1 AND name = $2")
                .bind(project_id.to_vec())
                .bind(name.to_string())
                .fetch_optional(self.pool())
                .await?;
        Ok(match row {
            Some(r) => Some(BucketRecord {
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
            }),
            None => None,
        })
    }

    /// Buckets sorting after `cursor`, in name order, at most `limit`.
    pub async fn list_buckets(
        &self,
        project_id: &[u8; 16],
        cursor: &str,
        limit: i64,
    ) -> Result<Vec<BucketRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, created_at FROM buckets WHERE project_id = $1 AND name > $2 \
             ORDER BY name LIMIT $3",
        )
        .bind(project_id.to_vec())
        .bind(cursor.to_string())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(BucketRecord {
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Deletes a bucket with all its objects and segments in one
    /// transaction. `Ok(None)` if the bucket does not exist. With
    /// `only_if_empty`, a bucket holding any object (pending uploads
    /// included) is left alone: `Ok(Some)` with `not_empty` set; the check
    /// is made inside the deleting transaction, so nothing that arrives
    /// meanwhile is lost.
    pub async fn delete_bucket(
        &self,
        project_id: &[u8; 16],
        name: &str,
        only_if_empty: bool,
    ) -> Result<Option<DeletedBucket>, StoreError> {
        let mut tx = self.begin_write().await?;
        // Lock the bucket row first (PostgreSQL): object inserts reference
        // it, so none can slip in until this transaction ends.
        let lock = lock_clause(self.engine());
        let exists = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM buckets WHERE project_id = $1 AND name = $2{lock}"
        )))
        .bind(project_id.to_vec())
        .bind(name.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            tx.rollback().await?;
            return Ok(None);
        }
        let streams: Vec<Vec<u8>> =
            sqlx::query("SELECT stream_id FROM objects WHERE project_id = $1 AND bucket = $2")
                .bind(project_id.to_vec())
                .bind(name.to_string())
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get("stream_id"))
                .collect::<Result<_, _>>()?;
        if only_if_empty && !streams.is_empty() {
            tx.rollback().await?;
            return Ok(Some(DeletedBucket {
                not_empty: true,
                deleted_objects: 0,
                pieces: Vec::new(),
            }));
        }
        let pieces = delete_streams(&mut tx, &streams).await?;
        let r = sqlx::query("DELETE FROM buckets WHERE project_id = $1 AND name = $2")
            .bind(project_id.to_vec())
            .bind(name.to_string())
            .execute(&mut *tx)
            .await?;
        if r.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(DeletedBucket {
            not_empty: false,
            deleted_objects: streams.len() as u64,
            pieces,
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::store::ProjectInfo;

    #[tokio::test]
    async fn bucket_round_trip() {
        for (store, _dir) in crate::store::testing::all_stores().await {
            let p = ProjectInfo {
                id: rand::random(),
                name: format!("p-{}", rand::random::<u64>()),
                salt: rand::random(),
                created_at: 1,
            };
            store.insert_project(&p).await.unwrap();
            assert!(store.create_bucket(&p.id, "bbb", 5).await.unwrap());
            assert!(store.create_bucket(&p.id, "aaa", 6).await.unwrap());
            assert!(!store.create_bucket(&p.id, "aaa", 7).await.unwrap());
            let b = store.get_bucket(&p.id, "aaa").await.unwrap().unwrap();
            assert_eq!(b.created_at, 6);
            let names: Vec<_> = store
                .list_buckets(&p.id, "", 10)
                .await
                .unwrap()
                .into_iter()
                .map(|b| b.name)
                .collect();
            assert_eq!(names, vec!["aaa", "bbb"]);
            assert_eq!(store.list_buckets(&p.id, "aaa", 10).await.unwrap().len(), 1);
            let d = store
                .delete_bucket(&p.id, "aaa", true)
                .await
                .unwrap()
                .unwrap();
            assert!(!d.not_empty);
            assert_eq!(d.deleted_objects, 0);
            assert!(
                store
                    .delete_bucket(&p.id, "aaa", true)
                    .await
                    .unwrap()
                    .is_none()
            );
            assert!(store.get_bucket(&p.id, "aaa").await.unwrap().is_none());
        }
    }
}
