//! Segments of an object: sizes, encrypted key, redundancy and where the
//! pieces are (or the inline data).

use satstore_common::codec::{Reader, Writer};
use satstore_common::erasure::RedundancyScheme;
use satstore_common::{NodeId, PieceId};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::objects::{ObjectStatus, PieceRef};
use super::{Store, StoreError};

/// Most segments one object may have (6.4 TiB at the default 64 MiB
/// segment size): bounds what a pending upload may make the database hold.
pub const MAX_SEGMENTS_PER_OBJECT: i64 = 100_000;

const TAG_PIECES: u8 = 0x70;
const TAG_REDUNDANCY: u8 = 0x71;

/// Position of a segment: multipart part and index within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SegmentPosition {
    /// Multipart part number (0 for plain uploads).
    pub part: u32,
    /// Index within the part.
    pub index: u32,
}

impl SegmentPosition {
    /// The stored form: `part << 32 | index`.
    pub fn encode(self) -> i64 {
        ((self.part as u64) << 32 | self.index as u64) as i64
    }
    /// Parses the stored form.
    pub fn decode(v: i64) -> Self {
        let v = v as u64;
        SegmentPosition {
            part: (v >> 32) as u32,
            index: v as u32,
        }
    }
}

/// One stored piece of a remote segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentPiece {
    /// Piece number (share index).
    pub num: u16,
    /// Node holding it.
    pub node: NodeId,
}

/// A segment as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentRecord {
    /// Stream the segment belongs to.
    pub stream_id: [u8; 16],
    /// Position within the object.
    pub position: SegmentPosition,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, 0 = never.
    pub expires_at: i64,
    /// Root piece id (all zero for inline segments).
    pub root_piece_id: PieceId,
    /// Wrapped content key.
    pub encrypted_key: Vec<u8>,
    /// Nonce of the wrapped key.
    pub encrypted_key_nonce: Vec<u8>,
    /// Size after encryption.
    pub encrypted_size: i64,
    /// Offset of the first plaintext byte within the object (set at commit).
    pub plain_offset: i64,
    /// Plaintext size.
    pub plain_size: i64,
    /// Redundancy of the pieces.
    pub redundancy: RedundancyScheme,
    /// Data of an inline segment.
    pub inline_data: Option<Vec<u8>>,
    /// Pieces of a remote segment.
    pub pieces: Vec<SegmentPiece>,
}

impl SegmentRecord {
    /// The piece id stored on the node holding `piece`.
    pub fn piece_id(&self, piece: &SegmentPiece) -> PieceId {
        self.root_piece_id.derive(&piece.node, piece.num as u32)
    }
}

/// Encodes a piece list: count, then (num, node id) each.
pub fn encode_pieces(pieces: &[SegmentPiece]) -> Vec<u8> {
    let mut w = Writer::new(TAG_PIECES);
    w.u32(pieces.len() as u32);
    for p in pieces {
        w.u32(p.num as u32).fixed(p.node.as_bytes());
    }
    w.finish()
}

/// Decodes a piece list made by [`encode_pieces`].
pub fn decode_pieces(b: &[u8]) -> Result<Vec<SegmentPiece>, StoreError> {
    let bad = |e: &dyn std::fmt::Display| StoreError::corrupt("segment pieces", e);
    let mut r = Reader::new(b, TAG_PIECES).map_err(|e| bad(&e))?;
    let n = r.u32().map_err(|e| bad(&e))? as usize;
    let mut out = Vec::with_capacity(n.min(256));
    for _ in 0..n {
        let num = r.u32().map_err(|e| bad(&e))?;
        let node = r.fixed::<32>().map_err(|e| bad(&e))?;
        out.push(SegmentPiece {
            num: u16::try_from(num).map_err(|e| bad(&e))?,
            node: NodeId::from_slice(&node).map_err(|e| bad(&e))?,
        });
    }
    r.finish().map_err(|e| bad(&e))?;
    Ok(out)
}

/// Encodes a redundancy scheme.
pub fn encode_redundancy(rs: &RedundancyScheme) -> Vec<u8> {
    let mut w = Writer::new(TAG_REDUNDANCY);
    w.u32(rs.required as u32)
        .u32(rs.repair as u32)
        .u32(rs.success as u32)
        .u32(rs.total as u32)
        .u32(rs.share_size);
    w.finish()
}

/// Decodes a scheme made by [`encode_redundancy`].
pub fn decode_redundancy(b: &[u8]) -> Result<RedundancyScheme, StoreError> {
    let bad = |e: &dyn std::fmt::Display| StoreError::corrupt("segment redundancy", e);
    let mut r = Reader::new(b, TAG_REDUNDANCY).map_err(|e| bad(&e))?;
    let mut next16 = || -> Result<u16, StoreError> {
        let v = r.u32().map_err(|e| bad(&e))?;
        u16::try_from(v).map_err(|e| bad(&e))
    };
    let required = next16()?;
    let repair = next16()?;
    let success = next16()?;
    let total = next16()?;
    let share_size = r.u32().map_err(|e| bad(&e))?;
    r.finish().map_err(|e| bad(&e))?;
    Ok(RedundancyScheme {
        required,
        repair,
        success,
        total,
        share_size,
    })
}

pub(crate) const SEGMENT_COLUMNS: &str = "stream_id, position, created_at, expires_at, root_piece_id, \
     encrypted_key, encrypted_key_nonce, encrypted_size, plain_offset, plain_size, redundancy, \
     inline_data, pieces";

pub(crate) fn segment_from_row(row: &AnyRow) -> Result<SegmentRecord, StoreError> {
    let stream_id: Vec<u8> = row.try_get("stream_id")?;
    let root: Vec<u8> = row.try_get("root_piece_id")?;
    let redundancy: Vec<u8> = row.try_get("redundancy")?;
    let pieces: Vec<u8> = row.try_get("pieces")?;
    Ok(SegmentRecord {
        stream_id: stream_id
            .try_into()
            .map_err(|_| StoreError::corrupt("segment stream id", "want 16 bytes"))?,
        position: SegmentPosition::decode(row.try_get("position")?),
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        root_piece_id: PieceId::from_slice(&root)
            .map_err(|e| StoreError::corrupt("root piece id", e))?,
        encrypted_key: row.try_get("encrypted_key")?,
        encrypted_key_nonce: row.try_get("encrypted_key_nonce")?,
        encrypted_size: row.try_get("encrypted_size")?,
        plain_offset: row.try_get("plain_offset")?,
        plain_size: row.try_get("plain_size")?,
        redundancy: decode_redundancy(&redundancy)?,
        inline_data: row.try_get("inline_data")?,
        pieces: decode_pieces(&pieces)?,
    })
}

/// The remote pieces of a segment row (columns `root_piece_id`, `pieces`).
pub(crate) fn piece_refs(row: &AnyRow) -> Result<Vec<PieceRef>, StoreError> {
    let root: Vec<u8> = row.try_get("root_piece_id")?;
    let root = PieceId::from_slice(&root).map_err(|e| StoreError::corrupt("root piece id", e))?;
    let blob: Vec<u8> = row.try_get("pieces")?;
    Ok(decode_pieces(&blob)?
        .into_iter()
        .map(|p| PieceRef {
            node_id: p.node,
            piece_id: root.derive(&p.node, p.num as u32),
        })
        .collect())
}

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

impl SegmentRecord {
    /// The remote pieces this segment references.
    pub fn piece_refs(&self) -> Vec<PieceRef> {
        self.pieces
            .iter()
            .map(|p| PieceRef {
                node_id: p.node,
                piece_id: self.piece_id(p),
            })
            .collect()
    }
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
        let lock = match self.engine() {
            super::Engine::Sqlite => "",
            super::Engine::Postgres => " FOR UPDATE",
        };
        let status = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT status, segment_count FROM objects WHERE stream_id = $1{lock}"
        )))
        .bind(s.stream_id.to_vec())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = &status
            && row.try_get::<i64, _>("status")? != ObjectStatus::Pending as i64
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
            if let Some(row) = &status
                && row.try_get::<i64, _>("segment_count")? >= MAX_SEGMENTS_PER_OBJECT
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
        let kept: std::collections::HashSet<PieceRef> = s.piece_refs().into_iter().collect();
        let replaced = match &old {
            Some(row) => piece_refs(row)?
                .into_iter()
                .filter(|p| !kept.contains(p))
                .collect(),
            None => Vec::new(),
        };
        sqlx::query(
            "INSERT INTO segments (stream_id, position, created_at, expires_at, root_piece_id, \
             encrypted_key, encrypted_key_nonce, encrypted_size, plain_offset, plain_size, \
             redundancy, inline_data, pieces) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (stream_id, position) DO UPDATE SET created_at = excluded.created_at, \
             expires_at = excluded.expires_at, root_piece_id = excluded.root_piece_id, \
             encrypted_key = excluded.encrypted_key, \
             encrypted_key_nonce = excluded.encrypted_key_nonce, \
             encrypted_size = excluded.encrypted_size, plain_offset = excluded.plain_offset, \
             plain_size = excluded.plain_size, redundancy = excluded.redundancy, \
             inline_data = excluded.inline_data, pieces = excluded.pieces",
        )
        .bind(s.stream_id.to_vec())
        .bind(s.position.encode())
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(s.root_piece_id.as_bytes().to_vec())
        .bind(s.encrypted_key.clone())
        .bind(s.encrypted_key_nonce.clone())
        .bind(s.encrypted_size)
        .bind(s.plain_offset)
        .bind(s.plain_size)
        .bind(encode_redundancy(&s.redundancy))
        .bind(s.inline_data.clone())
        .bind(encode_pieces(&s.pieces))
        .execute(&mut *tx)
        .await?;
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
    use super::*;

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
