//! Multipart uploads: a pending object with a deadline
//! (`objects.multipart_deadline`), its committed parts (`parts`), and the
//! commit that turns chosen parts' segments into the object, in (part,
//! index) order, without copying data.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::pieces::{PieceRef, piece_refs};
use super::rows::{OBJECT_COLUMNS, ObjectRecord, object_from_row};
use super::steps::{CommitValues, Committed, commit_pending, delete_parts, lock_object};
use super::types::{ObjectStatus, SegmentPosition, prefix_upper_bound};
use super::{Store, StoreError};

/// Highest part number (S3's limit).
pub const MAX_PART_NUMBER: u32 = 10_000;

/// A committed part of a multipart upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartRecord {
    /// Part number, 1..=[`MAX_PART_NUMBER`].
    pub part_number: u32,
    /// Number of segments (indexes 0..segment_count).
    pub segment_count: u32,
    /// Sum of the segments' plain sizes.
    pub plain_size: i64,
    /// Sum of the segments' encrypted sizes.
    pub encrypted_size: i64,
    /// When the part was committed (unix seconds).
    pub created_at: i64,
    /// Client-encrypted ETag.
    pub encrypted_etag: Vec<u8>,
}

/// Outcome of [`Store::commit_part`].
#[derive(Clone, Debug)]
pub enum PartCommit {
    /// The part is recorded; pieces of its leftover segments (of an earlier,
    /// longer upload of the same part number) are to be deleted.
    Committed {
        /// The part as recorded.
        part: PartRecord,
        /// Pieces of the removed leftover segments.
        removed_pieces: Vec<PieceRef>,
    },
    /// No pending multipart upload has this stream id.
    UploadNotFound,
    /// The stored segments are not the ones the client uploaded (missing,
    /// or replaced by a concurrent upload of the same part number).
    SegmentsDiffer(String),
}

/// What [`Store::commit_multipart`] needs besides the stream id.
#[derive(Clone, Debug, Default)]
pub struct MultipartCommitValues {
    /// Parts to keep, strictly ascending; empty = every committed part.
    pub parts: Vec<u32>,
    /// The total plain size the client sealed into the metadata.
    pub plain_size: i64,
    /// Encrypted user metadata.
    pub encrypted_metadata: Vec<u8>,
    /// Nonce of the metadata.
    pub encrypted_metadata_nonce: Vec<u8>,
    /// Wrapped metadata key.
    pub encrypted_metadata_key: Vec<u8>,
}

/// Outcome of [`Store::commit_multipart`].
#[derive(Clone, Debug)]
pub enum MultipartCommit {
    /// The object is visible; `replaced_pieces` also holds the pieces of
    /// the parts left out.
    Committed(Box<Committed>),
    /// No pending multipart upload has this stream id.
    UploadNotFound,
    /// These requested parts were never committed (or are being re-uploaded).
    MissingParts(Vec<u32>),
    /// A part's segments no longer match its record.
    IncompletePart(u32),
    /// The kept parts hold a different number of bytes than the client said.
    SizeMismatch {
        /// What the client sealed into the metadata.
        expected: i64,
        /// What the kept parts hold.
        actual: i64,
    },
}

fn part_from_row(row: &AnyRow) -> Result<PartRecord, StoreError> {
    let num: i64 = row.try_get("part_number")?;
    let count: i64 = row.try_get("segment_count")?;
    Ok(PartRecord {
        part_number: u32::try_from(num).map_err(|e| StoreError::corrupt("part number", e))?,
        segment_count: u32::try_from(count)
            .map_err(|e| StoreError::corrupt("part segment count", e))?,
        plain_size: row.try_get("plain_size")?,
        encrypted_size: row.try_get("encrypted_size")?,
        created_at: row.try_get("created_at")?,
        encrypted_etag: row.try_get("encrypted_etag")?,
    })
}

const PART_COLUMNS: &str =
    "part_number, segment_count, plain_size, encrypted_size, created_at, encrypted_etag";

/// Encoded position range of every segment of `part`.
fn part_range(part: u32) -> (i64, i64) {
    (
        SegmentPosition { part, index: 0 }.encode(),
        SegmentPosition {
            part,
            index: u32::MAX,
        }
        .encode(),
    )
}

impl Store {
    /// Locks and returns the pending multipart upload of `stream_id` in `tx`.
    async fn lock_multipart(
        &self,
        tx: &mut Transaction<'static, Any>,
        stream_id: &[u8; 16],
    ) -> Result<Option<ObjectRecord>, StoreError> {
        Ok(lock_object(tx, self.engine(), stream_id)
            .await?
            .filter(ObjectRecord::is_pending_multipart))
    }

    /// Records part `part_number` of the pending multipart upload
    /// `stream_id`: its segments must be exactly indexes
    /// `0..nonces.len()` with these wrapped-key nonces; segments of the part
    /// beyond them (an earlier, longer upload) are removed. Replaces an
    /// earlier record of the same part.
    pub async fn commit_part(
        &self,
        stream_id: &[u8; 16],
        part_number: u32,
        nonces: &[Vec<u8>],
        encrypted_etag: &[u8],
        now: i64,
    ) -> Result<PartCommit, StoreError> {
        let mut tx = self.begin_write().await?;
        if self.lock_multipart(&mut tx, stream_id).await?.is_none() {
            tx.rollback().await?;
            return Ok(PartCommit::UploadNotFound);
        }
        let (lo, hi) = part_range(part_number);
        let rows = sqlx::query(
            "SELECT position, encrypted_key_nonce, plain_size, encrypted_size, root_piece_id, \
             pieces FROM segments WHERE stream_id = $1 AND position >= $2 AND position <= $3",
        )
        .bind(stream_id.to_vec())
        .bind(lo)
        .bind(hi)
        .fetch_all(&mut *tx)
        .await?;
        let mut found = BTreeSet::new();
        let (mut plain_size, mut encrypted_size) = (0i64, 0i64);
        let mut removed_pieces = Vec::new();
        for row in &rows {
            let index = SegmentPosition::decode(row.try_get("position")?).index as usize;
            if index >= nonces.len() {
                removed_pieces.extend(piece_refs(row)?);
                continue;
            }
            let nonce: Vec<u8> = row.try_get("encrypted_key_nonce")?;
            if nonce != nonces[index] {
                tx.rollback().await?;
                return Ok(PartCommit::SegmentsDiffer(format!(
                    "segment {index} of part {part_number} was replaced by another upload of \
                     the same part; upload the part again"
                )));
            }
            found.insert(index);
            plain_size = plain_size
                .checked_add(row.try_get::<i64, _>("plain_size")?)
                .ok_or_else(|| StoreError::corrupt("segment sizes", "sum overflows"))?;
            encrypted_size = encrypted_size
                .checked_add(row.try_get::<i64, _>("encrypted_size")?)
                .ok_or_else(|| StoreError::corrupt("segment sizes", "sum overflows"))?;
        }
        if let Some(missing) = (0..nonces.len()).find(|i| !found.contains(i)) {
            tx.rollback().await?;
            return Ok(PartCommit::SegmentsDiffer(format!(
                "segment {missing} of part {part_number} is not stored; upload the part again"
            )));
        }
        let first_extra = SegmentPosition {
            part: part_number,
            index: nonces.len() as u32,
        }
        .encode();
        let extra = sqlx::query(
            "DELETE FROM segments WHERE stream_id = $1 AND position >= $2 AND position <= $3",
        )
        .bind(stream_id.to_vec())
        .bind(first_extra)
        .bind(hi)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if extra > 0 {
            // Keep the pending object's running segment count honest.
            sqlx::query(
                "UPDATE objects SET segment_count = segment_count - $1 WHERE stream_id = $2 \
                 AND segment_count >= $1",
            )
            .bind(extra as i64)
            .bind(stream_id.to_vec())
            .execute(&mut *tx)
            .await?;
        }
        let part = PartRecord {
            part_number,
            segment_count: nonces.len() as u32,
            plain_size,
            encrypted_size,
            created_at: now,
            encrypted_etag: encrypted_etag.to_vec(),
        };
        sqlx::query(
            "INSERT INTO parts (stream_id, part_number, segment_count, plain_size, \
             encrypted_size, created_at, encrypted_etag) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (stream_id, part_number) DO UPDATE SET \
             segment_count = excluded.segment_count, plain_size = excluded.plain_size, \
             encrypted_size = excluded.encrypted_size, created_at = excluded.created_at, \
             encrypted_etag = excluded.encrypted_etag",
        )
        .bind(stream_id.to_vec())
        .bind(part.part_number as i64)
        .bind(part.segment_count as i64)
        .bind(part.plain_size)
        .bind(part.encrypted_size)
        .bind(part.created_at)
        .bind(part.encrypted_etag.clone())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(PartCommit::Committed {
            part,
            removed_pieces,
        })
    }

    /// Committed parts of a stream numbered above `cursor`, ascending, at
    /// most `limit`; the bool says whether more follow.
    pub async fn list_parts(
        &self,
        stream_id: &[u8; 16],
        cursor: u32,
        limit: usize,
    ) -> Result<(Vec<PartRecord>, bool), StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {PART_COLUMNS} FROM parts WHERE stream_id = $1 AND part_number > $2 \
             ORDER BY part_number LIMIT $3"
        ));
        let rows = sqlx::query(sql)
            .bind(stream_id.to_vec())
            .bind(cursor as i64)
            .bind(limit as i64 + 1)
            .fetch_all(self.pool())
            .await?;
        let mut parts = rows
            .iter()
            .map(part_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let more = parts.len() > limit;
        parts.truncate(limit);
        Ok((parts, more))
    }

    /// Commits a pending multipart upload from the chosen parts: their
    /// segments get plain offsets in (part, index) order, every other
    /// segment of the stream is deleted, the object becomes visible and
    /// replaces older committed versions, all in one transaction.
    pub async fn commit_multipart(
        &self,
        stream_id: &[u8; 16],
        values: &MultipartCommitValues,
    ) -> Result<MultipartCommit, StoreError> {
        let mut tx = self.begin_write().await?;
        let outcome = self.commit_multipart_tx(&mut tx, stream_id, values).await?;
        match outcome {
            MultipartCommit::Committed(_) => tx.commit().await?,
            _ => tx.rollback().await?,
        }
        Ok(outcome)
    }

    async fn commit_multipart_tx(
        &self,
        tx: &mut Transaction<'static, Any>,
        stream_id: &[u8; 16],
        values: &MultipartCommitValues,
    ) -> Result<MultipartCommit, StoreError> {
        if self.lock_multipart(tx, stream_id).await?.is_none() {
            return Ok(MultipartCommit::UploadNotFound);
        }
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {PART_COLUMNS} FROM parts WHERE stream_id = $1 ORDER BY part_number"
        ));
        let parts: BTreeMap<u32, PartRecord> = sqlx::query(sql)
            .bind(stream_id.to_vec())
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| part_from_row(r).map(|p| (p.part_number, p)))
            .collect::<Result<_, _>>()?;
        let chosen: Vec<u32> = if values.parts.is_empty() {
            parts.keys().copied().collect()
        } else {
            values.parts.clone()
        };
        let missing: Vec<u32> = chosen
            .iter()
            .copied()
            .filter(|p| !parts.contains_key(p))
            .collect();
        if !missing.is_empty() {
            return Ok(MultipartCommit::MissingParts(missing));
        }
        let rows = sqlx::query(
            "SELECT position, plain_size, encrypted_size, root_piece_id, pieces FROM segments \
             WHERE stream_id = $1 ORDER BY position",
        )
        .bind(stream_id.to_vec())
        .fetch_all(&mut **tx)
        .await?;
        let keep_parts: BTreeMap<u32, u32> = chosen
            .iter()
            .map(|p| (*p, parts[p].segment_count))
            .collect();
        let mut commit = CommitValues {
            encrypted_metadata: values.encrypted_metadata.clone(),
            encrypted_metadata_nonce: values.encrypted_metadata_nonce.clone(),
            encrypted_metadata_key: values.encrypted_metadata_key.clone(),
            ..Default::default()
        };
        let mut dropped = Vec::new();
        let mut dropped_pieces = Vec::new();
        let mut per_part: BTreeMap<u32, u32> = BTreeMap::new();
        // Rows come in (part, index) order, so offsets follow that order.
        for row in &rows {
            let pos = SegmentPosition::decode(row.try_get("position")?);
            let keep = keep_parts
                .get(&pos.part)
                .is_some_and(|count| pos.index < *count);
            if !keep {
                dropped.push(pos);
                dropped_pieces.extend(piece_refs(row)?);
                continue;
            }
            *per_part.entry(pos.part).or_default() += 1;
            commit.plain_offsets.push((pos, commit.plain_size));
            // Sizes were bounded at each segment's commit; still, never wrap.
            commit.plain_size = commit
                .plain_size
                .checked_add(row.try_get::<i64, _>("plain_size")?)
                .ok_or_else(|| StoreError::corrupt("segment sizes", "sum overflows"))?;
            commit.encrypted_size = commit
                .encrypted_size
                .checked_add(row.try_get::<i64, _>("encrypted_size")?)
                .ok_or_else(|| StoreError::corrupt("segment sizes", "sum overflows"))?;
            commit.segment_count += 1;
        }
        for (part, count) in &keep_parts {
            if per_part.get(part).copied().unwrap_or(0) != *count {
                return Ok(MultipartCommit::IncompletePart(*part));
            }
        }
        if commit.plain_size != values.plain_size {
            return Ok(MultipartCommit::SizeMismatch {
                expected: values.plain_size,
                actual: commit.plain_size,
            });
        }
        for pos in &dropped {
            sqlx::query("DELETE FROM segments WHERE stream_id = $1 AND position = $2")
                .bind(stream_id.to_vec())
                .bind(pos.encode())
                .execute(&mut **tx)
                .await?;
        }
        delete_parts(tx, stream_id).await?;
        match commit_pending(tx, stream_id, &commit).await? {
            Some(mut c) => {
                c.replaced_pieces.extend(dropped_pieces);
                Ok(MultipartCommit::Committed(Box::new(c)))
            }
            None => Ok(MultipartCommit::UploadNotFound),
        }
    }

    /// Pending multipart uploads of a bucket whose deadline is after `now`,
    /// with encrypted keys starting with `prefix`, sorting strictly after
    /// (`cursor_key`, `cursor_stream`), in (key, stream id) order; at most
    /// `limit`, and whether more follow.
    pub async fn list_multipart_uploads(
        &self,
        project_id: &[u8; 16],
        bucket: &str,
        prefix: &[u8],
        cursor: (&[u8], &[u8]),
        limit: usize,
        now: i64,
    ) -> Result<(Vec<ObjectRecord>, bool), StoreError> {
        let upper = prefix_upper_bound(prefix);
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {OBJECT_COLUMNS} FROM objects WHERE project_id = $1 AND bucket = $2 \
             AND status = $3 AND multipart_deadline <> 0 AND multipart_deadline > $4 \
             AND encrypted_key >= $5 AND ($6 = 0 OR encrypted_key < $7) \
             AND (encrypted_key > $8 OR (encrypted_key = $8 AND stream_id > $9)) \
             ORDER BY encrypted_key, stream_id LIMIT $10"
        ));
        let rows = sqlx::query(sql)
            .bind(project_id.to_vec())
            .bind(bucket.to_string())
            .bind(ObjectStatus::Pending.as_i64())
            .bind(now)
            .bind(prefix.to_vec())
            .bind(upper.is_some() as i64)
            .bind(upper.unwrap_or_default())
            .bind(cursor.0.to_vec())
            .bind(cursor.1.to_vec())
            .bind(limit as i64 + 1)
            .fetch_all(self.pool())
            .await?;
        let mut out = rows
            .iter()
            .map(object_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let more = out.len() > limit;
        out.truncate(limit);
        Ok((out, more))
    }
}

#[cfg(test)]
mod tests;
