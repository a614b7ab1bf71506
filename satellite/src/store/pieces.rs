//! Remote pieces referenced by segments: the stored piece list of a
//! segment (`segments.pieces`), the [`PieceRef`]s derived from a segment
//! row, and which of them a change leaves unreferenced (for best-effort
//! deletion on the nodes). Imports no other store module.

use std::collections::HashSet;

use satstore_common::codec::{Reader, Writer};
use satstore_common::{NodeId, PieceId};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::StoreError;

const TAG_PIECES: u8 = 0x70;

/// A remote piece that a node may delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PieceRef {
    /// Node holding the piece.
    pub node_id: NodeId,
    /// The piece's id on that node.
    pub piece_id: PieceId,
}

/// One stored piece of a remote segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentPiece {
    /// Piece number (share index).
    pub num: u16,
    /// Node holding it.
    pub node: NodeId,
}

impl SegmentPiece {
    /// The reference to this piece of the segment with root `root`.
    pub fn piece_ref(&self, root: &PieceId) -> PieceRef {
        PieceRef {
            node_id: self.node,
            piece_id: root.derive(&self.node, self.num as u32),
        }
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

/// The remote pieces of a segment row (columns `root_piece_id`, `pieces`).
pub(crate) fn piece_refs(row: &AnyRow) -> Result<Vec<PieceRef>, StoreError> {
    let root: Vec<u8> = row.try_get("root_piece_id")?;
    let root = PieceId::from_slice(&root).map_err(|e| StoreError::corrupt("root piece id", e))?;
    let blob: Vec<u8> = row.try_get("pieces")?;
    Ok(decode_pieces(&blob)?
        .iter()
        .map(|p| p.piece_ref(&root))
        .collect())
}

/// The pieces of `old` that `kept` no longer references, in `old`'s order:
/// what replacing a segment frees (none if it is stored again as it was).
pub(crate) fn unreferenced(old: Vec<PieceRef>, kept: &[PieceRef]) -> Vec<PieceRef> {
    let kept: HashSet<&PieceRef> = kept.iter().collect();
    old.into_iter().filter(|p| !kept.contains(p)).collect()
}
