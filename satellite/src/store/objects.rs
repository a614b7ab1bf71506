//! Objects: pending uploads and committed versions, their deletion, and
//! listing in encrypted-key order.

use satstore_common::{NodeId, PieceId};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::segments::{SegmentPosition, piece_refs};
use super::{Store, StoreError};

/// Lifecycle state of an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectStatus {
    /// Segments are being uploaded; invisible to readers.
    Pending = 1,
    /// Visible to readers.
    Committed = 3,
}

impl ObjectStatus {
    fn from_i64(v: i64) -> Result<Self, StoreError> {
        match v {
            1 => Ok(Self::Pending),
            3 => Ok(Self::Committed),
            other => Err(StoreError::corrupt("object status", other)),
        }
    }
}

/// An object version as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRecord {
    /// Owning project.
    pub project_id: [u8; 16],
    /// Bucket name.
    pub bucket: String,
    /// Encrypted object key.
    pub encrypted_key: Vec<u8>,
    /// Version, growing per key.
    pub version: i64,
    /// Unique id of this upload.
    pub stream_id: [u8; 16],
    /// Pending or committed.
    pub status: ObjectStatus,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, 0 = never.
    pub expires_at: i64,
    /// Number of segments (set at commit).
    pub segment_count: i64,
    /// Sum of the segments' plain sizes (set at commit).
    pub plain_size: i64,
    /// Sum of the segments' encrypted sizes (set at commit).
    pub encrypted_size: i64,
    /// Encrypted user metadata.
    pub encrypted_metadata: Vec<u8>,
    /// Nonce of the metadata.
    pub encrypted_metadata_nonce: Vec<u8>,
    /// Wrapped metadata key.
    pub encrypted_metadata_key: Vec<u8>,
    /// Cipher suite of the content.
    pub cipher_suite: i64,
    /// Encryption block size.
    pub block_size: i64,
    /// Multipart uploads: unix seconds after which the still-pending upload
    /// is deleted; 0 for plain uploads (and once committed).
    pub multipart_deadline: i64,
}

impl ObjectRecord {
    /// Whether this is a pending multipart upload.
    pub fn is_pending_multipart(&self) -> bool {
        self.status == ObjectStatus::Pending && self.multipart_deadline != 0
    }
}

/// A remote piece that a node may delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PieceRef {
    /// Node holding the piece.
    pub node_id: NodeId,
    /// The piece's id on that node.
    pub piece_id: PieceId,
}

/// Values fixed when an object is committed.
#[derive(Clone, Debug, Default)]
pub struct CommitValues {
    /// Number of segments.
    pub segment_count: i64,
    /// Sum of plain sizes.
    pub plain_size: i64,
    /// Sum of encrypted sizes.
    pub encrypted_size: i64,
    /// Encrypted user metadata.
    pub encrypted_metadata: Vec<u8>,
    /// Nonce of the metadata.
    pub encrypted_metadata_nonce: Vec<u8>,
    /// Wrapped metadata key.
    pub encrypted_metadata_key: Vec<u8>,
    /// Plain offset of each segment.
    pub plain_offsets: Vec<(SegmentPosition, i64)>,
}

/// What a successful commit produced.
#[derive(Clone, Debug)]
pub struct Committed {
    /// The object as now visible.
    pub object: ObjectRecord,
    /// Pieces of replaced older versions, for best-effort deletion.
    pub replaced_pieces: Vec<PieceRef>,
}

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

pub(crate) const OBJECT_COLUMNS: &str = "project_id, bucket, encrypted_key, version, stream_id, status, \
    created_at, expires_at, segment_count, plain_size, encrypted_size, encrypted_metadata, \
    encrypted_metadata_nonce, encrypted_metadata_key, cipher_suite, block_size, multipart_deadline";

pub(crate) fn fixed16(what: &'static str, v: Vec<u8>) -> Result<[u8; 16], StoreError> {
    v.try_into()
        .map_err(|v: Vec<u8>| StoreError::corrupt(what, format!("{} bytes, want 16", v.len())))
}

pub(crate) fn object_from_row(row: &AnyRow) -> Result<ObjectRecord, StoreError> {
    Ok(ObjectRecord {
        project_id: fixed16("project id", row.try_get("project_id")?)?,
        bucket: row.try_get("bucket")?,
        encrypted_key: row.try_get("encrypted_key")?,
        version: row.try_get("version")?,
        stream_id: fixed16("stream id", row.try_get("stream_id")?)?,
        status: ObjectStatus::from_i64(row.try_get("status")?)?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        segment_count: row.try_get("segment_count")?,
        plain_size: row.try_get("plain_size")?,
        encrypted_size: row.try_get("encrypted_size")?,
        encrypted_metadata: row.try_get("encrypted_metadata")?,
        encrypted_metadata_nonce: row.try_get("encrypted_metadata_nonce")?,
        encrypted_metadata_key: row.try_get("encrypted_metadata_key")?,
        cipher_suite: row.try_get("cipher_suite")?,
        block_size: row.try_get("block_size")?,
        multipart_deadline: row.try_get("multipart_deadline")?,
    })
}

/// The smallest byte string greater than every string starting with `p`,
/// or `None` if there is none (empty or all 0xff).
pub fn prefix_upper_bound(p: &[u8]) -> Option<Vec<u8>> {
    let mut v = p.to_vec();
    while let Some(last) = v.pop() {
        if last < 0xff {
            v.push(last + 1);
            return Some(v);
        }
    }
    None
}

/// Deletes the segments and object rows of these streams inside `tx`,
/// returning the remote pieces they referenced.
pub(crate) async fn delete_streams_tx(
    tx: &mut Transaction<'static, Any>,
    streams: &[Vec<u8>],
) -> Result<Vec<PieceRef>, StoreError> {
    let mut pieces = Vec::new();
    for stream in streams {
        pieces.extend(delete_segments_tx(tx, stream).await?);
        sqlx::query("DELETE FROM objects WHERE stream_id = $1")
            .bind(stream.clone())
            .execute(&mut **tx)
            .await?;
    }
    Ok(pieces)
}

/// Deletes the segments (and multipart part records) of one stream inside
/// `tx`, returning the remote pieces they referenced.
pub(crate) async fn delete_segments_tx(
    tx: &mut Transaction<'static, Any>,
    stream: &[u8],
) -> Result<Vec<PieceRef>, StoreError> {
    let mut pieces = Vec::new();
    let rows = sqlx::query("SELECT root_piece_id, pieces FROM segments WHERE stream_id = $1")
        .bind(stream.to_vec())
        .fetch_all(&mut **tx)
        .await?;
    for row in &rows {
        pieces.extend(piece_refs(row)?);
    }
    sqlx::query("DELETE FROM segments WHERE stream_id = $1")
        .bind(stream.to_vec())
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM parts WHERE stream_id = $1")
        .bind(stream.to_vec())
        .execute(&mut **tx)
        .await?;
    Ok(pieces)
}

/// The commit of a pending object inside `tx` (see
/// [`Store::commit_object`]); `None` (nothing changed) if no pending object
/// has this stream id. Also clears the multipart deadline.
pub(crate) async fn commit_tx(
    tx: &mut Transaction<'static, Any>,
    stream_id: &[u8; 16],
    values: &CommitValues,
) -> Result<Option<Committed>, StoreError> {
    let r = sqlx::query(
        "UPDATE objects SET status = 3, segment_count = $1, plain_size = $2, \
         encrypted_size = $3, encrypted_metadata = $4, encrypted_metadata_nonce = $5, \
         encrypted_metadata_key = $6, multipart_deadline = 0 WHERE stream_id = $7 AND status = 1",
    )
    .bind(values.segment_count)
    .bind(values.plain_size)
    .bind(values.encrypted_size)
    .bind(values.encrypted_metadata.clone())
    .bind(values.encrypted_metadata_nonce.clone())
    .bind(values.encrypted_metadata_key.clone())
    .bind(stream_id.to_vec())
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() == 0 {
        return Ok(None);
    }
    for (pos, offset) in &values.plain_offsets {
        sqlx::query("UPDATE segments SET plain_offset = $1 WHERE stream_id = $2 AND position = $3")
            .bind(*offset)
            .bind(stream_id.to_vec())
            .bind(pos.encode())
            .execute(&mut **tx)
            .await?;
    }
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {OBJECT_COLUMNS} FROM objects WHERE stream_id = $1"
    ));
    let object = object_from_row(
        &sqlx::query(sql)
            .bind(stream_id.to_vec())
            .fetch_one(&mut **tx)
            .await?,
    )?;
    let older: Vec<Vec<u8>> = sqlx::query(
        "SELECT stream_id FROM objects WHERE project_id = $1 AND bucket = $2 \
         AND encrypted_key = $3 AND status = 3 AND stream_id <> $4",
    )
    .bind(object.project_id.to_vec())
    .bind(object.bucket.clone())
    .bind(object.encrypted_key.clone())
    .bind(stream_id.to_vec())
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.try_get("stream_id"))
    .collect::<Result<_, _>>()?;
    let replaced_pieces = delete_streams_tx(tx, &older).await?;
    Ok(Some(Committed {
        object,
        replaced_pieces,
    }))
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
            .bind(rec.status as i64)
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
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {OBJECT_COLUMNS} FROM objects WHERE stream_id = $1"
        ));
        let row = sqlx::query(sql)
            .bind(stream_id.to_vec())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(object_from_row).transpose()
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
             AND encrypted_key = $3 AND status = 3 AND (expires_at = 0 OR expires_at > $4) \
             ORDER BY version DESC LIMIT 1"
        ));
        let row = sqlx::query(sql)
            .bind(project_id.to_vec())
            .bind(bucket.to_string())
            .bind(key.to_vec())
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
             AND encrypted_key = $3 AND status = 3 LIMIT 1",
        )
        .bind(project_id.to_vec())
        .bind(bucket.to_string())
        .bind(key.to_vec())
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
        let committed = commit_tx(&mut tx, stream_id, values).await?;
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
             AND encrypted_key = $3 AND status = 3 ORDER BY version DESC"
        ));
        let rows = sqlx::query(sql)
            .bind(project_id.to_vec())
            .bind(bucket.to_string())
            .bind(key.to_vec())
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
        let pieces = delete_streams_tx(&mut tx, &streams).await?;
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
        let row = sqlx::query("SELECT stream_id FROM objects WHERE stream_id = $1 AND status = 1")
            .bind(stream_id.to_vec())
            .fetch_optional(&mut *tx)
            .await?;
        if row.is_none() {
            tx.rollback().await?;
            return Ok(None);
        }
        let pieces = delete_streams_tx(&mut tx, &[stream_id.to_vec()]).await?;
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
             AND status = 3 AND (expires_at = 0 OR expires_at > $3) AND encrypted_key >= $4 \
             AND ($5 = 0 OR encrypted_key < $6) ORDER BY encrypted_key, version DESC LIMIT $7"
        );
        let mut page = ListPage::default();
        'outer: while let Some(from) = lower.take() {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(project_id.to_vec())
                .bind(bucket.to_string())
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
