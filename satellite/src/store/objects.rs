//! Objects: pending uploads and committed versions, their deletion, and
//! listing in encrypted-key order.

use sqlx::Row;

use super::pieces::PieceRef;
use super::rows::{OBJECT_COLUMNS, ObjectRecord, object_from_row};
use super::steps::{commit_pending, delete_streams, select_object};
use super::types::{ObjectStatus, prefix_upper_bound};
use super::{Store, StoreError};

pub use super::steps::{CommitValues, Committed};

/// Parameters of a listing.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    /// Only keys starting with this.
    pub prefix: Vec<u8>,
    /// Keys strictly after prefix + cursor.
    pub cursor: Vec<u8>,
    /// False: collapse at the first '/' after the prefix.
    pub recursive: bool,
    /// Most items to return (>= 1).
    pub limit: usize,
    /// Current time (unix seconds) for skipping expired objects.
    pub now: i64,
}

/// One listing entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListItem {
    /// Key relative to the listing prefix.
    pub key: Vec<u8>,
    /// A collapsed sub-prefix (ends with '/') rather than an object.
    pub is_prefix: bool,
    /// The object, for object items.
    pub object: Option<ObjectRecord>,
}

/// A page of a listing.
#[derive(Clone, Debug, Default)]
pub struct ListPage {
    /// Items in key order.
    pub items: Vec<ListItem>,
    /// Whether more items follow the last one.
    pub more: bool,
}

impl Store {
    /// Inserts a pending object with the next version for its key; the
    /// given `version` is ignored and the stored record returned.
    pub async fn begin_object(&self, new: &ObjectRecord) -> Result<ObjectRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let max: i64 = sqlx::query(
            "SELECT COALESCE(MAX(version), 0) AS v FROM objects \
             WHERE project_id = $1 AND bucket = $2 AND encrypted_key = $3",
        )
        .bind(new.project_id.to_vec())
        .bind(new.bucket.clone())
        .bind(new.encrypted_key.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("v")?;
        let rec = ObjectRecord {
            version: max + 1,
            status: ObjectStatus::Pending,
            ..new.clone()
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO objects ({OBJECT_COLUMNS}, updated_at) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        ));
        sqlx::query(sql)
            .bind(rec.project_id.to_vec())
            .bind(rec.bucket.clone())
            .bind(rec.encrypted_key.clone())
            .bind(rec.version)
            .bind(rec.stream_id.to_vec())
            .bind(rec.status.as_i64())
            .bind(rec.created_at)
            .bind(rec.expires_at)
            .bind(rec.segment_count)
            .bind(rec.plain_size)
            .bind(rec.encrypted_size)
            .bind(rec.encrypted_metadata.clone())
            .bind(rec.encrypted_metadata_nonce.clone())
            .bind(rec.encrypted_metadata_key.clone())
            .bind(rec.cipher_suite)
            .bind(rec.block_size)
            .bind(rec.multipart_deadline)
            .bind(rec.created_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// The object (pending or committed) of this stream.
    pub async fn object_by_stream(
        &self,
        stream_id: &[u8; 16],
    ) -> Result<Option<ObjectRecord>, StoreError> {
        select_object(self.pool(), stream_id, "").await
    }

    /// The latest committed version of a key that has not expired at `now`.
    pub async fn latest_committed(
        &self,
        project_id: &[u8; 16],
        bucket: &str,
        key: &[u8],
        now: i64,
    ) -> Result<Option<ObjectRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {OBJECT_COLUMNS} FROM objects WHERE project_id = $1 AND bucket = $2 \
             AND encrypted_key = $3 AND status = $4 AND (expires_at = 0 OR expires_at > $5) \
             ORDER BY version DESC LIMIT 1"
        ));
        let row = sqlx::query(sql)
            .bind(project_id.to_vec())
            .bind(bucket.to_string())
            .bind(key.to_vec())
            .bind(ObjectStatus::Committed.as_i64())
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(object_from_row).transpose()
    }

    /// Whether a committed version of the key exists (expired or not).
    pub async fn committed_exists(
        &self,
        project_id: &[u8; 16],
        bucket: &str,
        key: &[u8],
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT version FROM objects WHERE project_id = $1 AND bucket = $2 \
             AND encrypted_key = $3 AND status = $4 LIMIT 1",
        )
        .bind(project_id.to_vec())
        .bind(bucket.to_string())
        .bind(key.to_vec())
        .bind(ObjectStatus::Committed.as_i64())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }

    /// Commits the pending object of `stream_id`: sets its sizes, metadata
    /// and segment offsets, makes it visible and deletes older committed
    /// versions of its key, in one transaction. `Ok(None)` if no pending
    /// object has this stream id.
    pub async fn commit_object(
        &self,
        stream_id: &[u8; 16],
        values: &CommitValues,
    ) -> Result<Option<Committed>, StoreError> {
        let mut tx = self.begin_write().await?;
        let committed = commit_pending(&mut tx, stream_id, values).await?;
        match committed {
            Some(c) => {
                tx.commit().await?;
                Ok(Some(c))
            }
            None => {
                tx.rollback().await?;
                Ok(None)
            }
        }
    }

    /// Deletes every committed version of a key (and their segments);
    /// returns the latest deleted version and the pieces to delete, or
    /// `None` if there was none.
    pub async fn delete_committed(
        &self,
        project_id: &[u8; 16],
        bucket: &str,
        key: &[u8],
    ) -> Result<Option<(ObjectRecord, Vec<PieceRef>)>, StoreError> {
        let mut tx = self.begin_write().await?;
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {OBJECT_COLUMNS} FROM objects WHERE project_id = $1 AND bucket = $2 \
             AND encrypted_key = $3 AND status = $4 ORDER BY version DESC"
        ));
        let rows = sqlx::query(sql)
            .bind(project_id.to_vec())
            .bind(bucket.to_string())
            .bind(key.to_vec())
            .bind(ObjectStatus::Committed.as_i64())
            .fetch_all(&mut *tx)
            .await?;
        let objects = rows
            .iter()
            .map(object_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let Some(latest) = objects.first().cloned() else {
            tx.rollback().await?;
            return Ok(None);
        };
        let streams: Vec<Vec<u8>> = objects.iter().map(|o| o.stream_id.to_vec()).collect();
        let pieces = delete_streams(&mut tx, &streams).await?;
        tx.commit().await?;
        Ok(Some((latest, pieces)))
    }

    /// Deletes a pending object and its segments; `None` if no pending
    /// object has this stream id.
    pub async fn delete_pending(
        &self,
        stream_id: &[u8; 16],
    ) -> Result<Option<Vec<PieceRef>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT stream_id FROM objects WHERE stream_id = $1 AND status = $2")
            .bind(stream_id.to_vec())
            .bind(ObjectStatus::Pending.as_i64())
            .fetch_optional(&mut *tx)
            .await?;
        if row.is_none() {
            tx.rollback().await?;
            return Ok(None);
        }
        let pieces = delete_streams(&mut tx, &[stream_id.to_vec()]).await?;
        tx.commit().await?;
        Ok(Some(pieces))
    }

    /// Lists committed, unexpired objects of a bucket in encrypted-key
    /// byte order (see [`ListOptions`] for prefix, cursor and collapsing).
    pub async fn list_objects(
        &self,
        project_id: &[u8; 16],
        bucket: &str,
        opts: &ListOptions,
    ) -> Result<ListPage, StoreError> {
        const BATCH: i64 = 256;
        let limit = opts.limit.max(1);
        let prefix = &opts.prefix;
        let upper = prefix_upper_bound(prefix);
        let mut full_cursor = prefix.clone();
        full_cursor.extend_from_slice(&opts.cursor);
        // Inclusive lower bound of the next query; None = nothing left.
        let mut lower: Option<Vec<u8>> = if opts.cursor.is_empty() {
            Some(prefix.clone())
        } else if !opts.recursive && opts.cursor.ends_with(b"/") {
            prefix_upper_bound(&full_cursor)
        } else {
            full_cursor.push(0);
            Some(full_cursor)
        };
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM objects WHERE project_id = $1 AND bucket = $2 \
             AND status = $3 AND (expires_at = 0 OR expires_at > $4) AND encrypted_key >= $5 \
             AND ($6 = 0 OR encrypted_key < $7) ORDER BY encrypted_key, version DESC LIMIT $8"
        );
        let mut page = ListPage::default();
        'outer: while let Some(from) = lower.take() {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(project_id.to_vec())
                .bind(bucket.to_string())
                .bind(ObjectStatus::Committed.as_i64())
                .bind(opts.now)
                .bind(from)
                .bind(upper.is_some() as i64)
                .bind(upper.clone().unwrap_or_default())
                .bind(BATCH)
                .fetch_all(self.pool())
                .await?;
            let full_batch = rows.len() as i64 == BATCH;
            for row in &rows {
                let obj = object_from_row(row)?;
                let rel = obj.encrypted_key[prefix.len()..].to_vec();
                if let Some(last) = page.items.last()
                    && !last.is_prefix
                    && last.key == rel
                {
                    continue; // an older committed version of the same key
                }
                if page.items.len() == limit {
                    page.more = true;
                    break 'outer;
                }
                let slash = if opts.recursive {
                    None
                } else {
                    rel.iter().position(|b| *b == b'/')
                };
                if let Some(i) = slash {
                    let sub = rel[..=i].to_vec();
                    let mut full = prefix.clone();
                    full.extend_from_slice(&sub);
                    page.items.push(ListItem {
                        key: sub,
                        is_prefix: true,
                        object: None,
                    });
                    lower = prefix_upper_bound(&full);
                    continue 'outer;
                }
                let mut next = obj.encrypted_key.clone();
                next.push(0);
                page.items.push(ListItem {
                    key: rel,
                    is_prefix: false,
                    object: Some(obj),
                });
                lower = Some(next);
            }
            if !full_batch {
                break;
            }
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests;
