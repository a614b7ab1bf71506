//! Segments of an object: sizes, encrypted key, redundancy and where the
//! pieces are (or the inline data).

use sqlx::Row;

use super::pieces::{PieceRef, piece_refs, unreferenced};
use super::rows::{SEGMENT_COLUMNS, SegmentRecord, segment_from_row};
use super::steps::{lock_object, upsert_segment};
use super::types::{ObjectStatus, SegmentPosition};
use super::{Store, StoreError};

/// Most segments one object may have (6.4 TiB at the default 64 MiB
/// segment size): bounds what a pending upload may make the database hold.
pub const MAX_SEGMENTS_PER_OBJECT: i64 = 100_000;

/// Where a segment sits in its object and how large it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentLayout {
    /// Position within the object.
    pub position: SegmentPosition,
    /// Offset of its first plaintext byte (set at commit).
    pub plain_offset: i64,
    /// Plaintext size.
    pub plain_size: i64,
    /// Size after encryption.
    pub encrypted_size: i64,
    /// Stored inline in the database.
    pub inline: bool,
}

impl Store {
    /// Stores (or replaces) a segment of a stream; returns the remote
    /// pieces the replaced segment held that the new one does not (for
    /// best-effort deletion): storing the same segment twice (a retried
    /// commit) returns none, so a retry never deletes what it stored. A
    /// segment of a multipart part (part > 0) also drops that part's
    /// committed record: the part must be committed again (CommitPart).
    /// The object's last activity becomes the segment's `created_at`.
    /// `Ok(None)` (nothing stored) if the stream's object exists but is no
    /// longer pending; the object row is locked meanwhile, so a segment
    /// never lands in an object being committed. A new position beyond
    /// [`MAX_SEGMENTS_PER_OBJECT`] segments fails with `TooManySegments`.
    pub async fn put_segment(
        &self,
        s: &SegmentRecord,
    ) -> Result<Option<Vec<PieceRef>>, StoreError> {
        let mut tx = self.begin_write().await?;
        let object = lock_object(&mut tx, self.engine(), &s.stream_id).await?;
        if let Some(o) = &object
            && o.status != ObjectStatus::Pending
        {
            tx.rollback().await?;
            return Ok(None);
        }
        let old = sqlx::query(
            "SELECT root_piece_id, pieces FROM segments WHERE stream_id = $1 AND position = $2",
        )
        .bind(s.stream_id.to_vec())
        .bind(s.position.encode())
        .fetch_optional(&mut *tx)
        .await?;
        if old.is_none() {
            // A new position: count it on the pending object (its
            // segment_count is recomputed at commit).
            if let Some(o) = &object
                && o.segment_count >= MAX_SEGMENTS_PER_OBJECT
            {
                tx.rollback().await?;
                return Err(StoreError::TooManySegments(MAX_SEGMENTS_PER_OBJECT));
            }
            sqlx::query(
                "UPDATE objects SET segment_count = segment_count + 1 WHERE stream_id = $1",
            )
            .bind(s.stream_id.to_vec())
            .execute(&mut *tx)
            .await?;
        }
        let replaced = match &old {
            Some(row) => unreferenced(piece_refs(row)?, &s.piece_refs()),
            None => Vec::new(),
        };
        upsert_segment(&mut tx, s).await?;
        sqlx::query("UPDATE objects SET updated_at = $1 WHERE stream_id = $2 AND updated_at < $1")
            .bind(s.created_at)
            .bind(s.stream_id.to_vec())
            .execute(&mut *tx)
            .await?;
        if s.position.part != 0 {
            sqlx::query("DELETE FROM parts WHERE stream_id = $1 AND part_number = $2")
                .bind(s.stream_id.to_vec())
                .bind(s.position.part as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(replaced))
    }

    /// Positions, offsets and sizes of the segments of a stream overlapping
    /// the plaintext range `[start, end)`, in position order: what commits
    /// and download plans need, never the inline data.
    pub async fn segment_layout(
        &self,
        stream_id: &[u8; 16],
        start: i64,
        end: i64,
    ) -> Result<Vec<SegmentLayout>, StoreError> {
        let rows = sqlx::query(
            "SELECT position, plain_offset, plain_size, encrypted_size, \
             CASE WHEN inline_data IS NULL THEN 0 ELSE 1 END AS is_inline \
             FROM segments WHERE stream_id = $1 AND plain_offset < $3 \
             AND plain_offset + plain_size > $2 ORDER BY position",
        )
        .bind(stream_id.to_vec())
        .bind(start)
        .bind(end)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SegmentLayout {
                    position: SegmentPosition::decode(r.try_get("position")?),
                    plain_offset: r.try_get("plain_offset")?,
                    plain_size: r.try_get("plain_size")?,
                    encrypted_size: r.try_get("encrypted_size")?,
                    inline: r.try_get::<i64, _>("is_inline")? != 0,
                })
            })
            .collect()
    }

    /// Positions and sizes of every segment of a stream (for a commit: its
    /// segments' offsets are still unset, so every range covers them).
    pub async fn segment_sizes(
        &self,
        stream_id: &[u8; 16],
    ) -> Result<Vec<SegmentLayout>, StoreError> {
        self.segment_layout(stream_id, i64::MIN, i64::MAX).await
    }

    /// All segments of a stream in position order.
    pub async fn list_segments(
        &self,
        stream_id: &[u8; 16],
    ) -> Result<Vec<SegmentRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {SEGMENT_COLUMNS} FROM segments WHERE stream_id = $1 ORDER BY position"
        ));
        let rows = sqlx::query(sql)
            .bind(stream_id.to_vec())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(segment_from_row).collect()
    }

    /// One segment of a stream.
    pub async fn get_segment(
        &self,
        stream_id: &[u8; 16],
        position: SegmentPosition,
    ) -> Result<Option<SegmentRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {SEGMENT_COLUMNS} FROM segments WHERE stream_id = $1 AND position = $2"
        ));
        let row = sqlx::query(sql)
            .bind(stream_id.to_vec())
            .bind(position.encode())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(segment_from_row).transpose()
    }
}

#[cfg(test)]
mod tests {
    use satstore_common::erasure::RedundancyScheme;
    use satstore_common::{NodeId, PieceId};

    use super::*;
    use crate::store::pieces::{SegmentPiece, decode_pieces, encode_pieces};
    use crate::store::rows::{decode_redundancy, encode_redundancy};

    #[test]
    fn position_and_blob_encodings_round_trip() {
        let p = SegmentPosition {
            part: 3,
            index: u32::MAX,
        };
        assert_eq!(SegmentPosition::decode(p.encode()), p);
        let pieces = vec![
            SegmentPiece {
                num: 0,
                node: NodeId::from_public_key(&[1; 32]),
            },
            SegmentPiece {
                num: 9,
                node: NodeId::from_public_key(&[2; 32]),
            },
        ];
        assert_eq!(decode_pieces(&encode_pieces(&pieces)).unwrap(), pieces);
        let rs = RedundancyScheme::default();
        assert_eq!(decode_redundancy(&encode_redundancy(&rs)).unwrap(), rs);
        assert!(decode_pieces(&encode_redundancy(&rs)).is_err());
    }

    #[tokio::test]
    async fn segment_round_trip_and_replace() {
        for (store, _dir) in crate::store::testing::all_stores().await {
            let stream: [u8; 16] = rand::random();
            let mut s = SegmentRecord {
                stream_id: stream,
                position: SegmentPosition { part: 0, index: 1 },
                created_at: 10,
                expires_at: 0,
                root_piece_id: PieceId::random(),
                encrypted_key: vec![1, 2],
                encrypted_key_nonce: vec![3],
                encrypted_size: 1024,
                plain_offset: 0,
                plain_size: 1000,
                redundancy: RedundancyScheme::default(),
                inline_data: None,
                pieces: vec![SegmentPiece {
                    num: 2,
                    node: NodeId::from_public_key(&[5; 32]),
                }],
            };
            store.put_segment(&s).await.unwrap();
            let inline = SegmentRecord {
                position: SegmentPosition { part: 0, index: 0 },
                inline_data: Some(vec![9; 10]),
                pieces: vec![],
                ..s.clone()
            };
            store.put_segment(&inline).await.unwrap();
            assert_eq!(
                store.get_segment(&stream, s.position).await.unwrap(),
                Some(s.clone())
            );
            // Stored again (a retried commit): nothing to delete.
            assert_eq!(store.put_segment(&s).await.unwrap(), Some(vec![]));
            s.plain_size = 999;
            store.put_segment(&s).await.unwrap();
            let all = store.list_segments(&stream).await.unwrap();
            assert_eq!(all, vec![inline, s.clone()]);
            // Replaced by an upload to other pieces: the old ones are freed.
            let old = s.piece_refs();
            s.root_piece_id = PieceId::random();
            assert_eq!(store.put_segment(&s).await.unwrap(), Some(old));
        }
    }
}
