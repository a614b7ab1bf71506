//! RocksDB key layouts. Every key starts with the satellite id so that one
//! satellite's data is contiguous.

use satstore_common::{NodeId, PieceId, SerialNumber};

/// Length of a piece key: satellite id ‖ piece id.
pub(crate) const PIECE_KEY_LEN: usize = 64;

/// `satellite ‖ piece`: key of a header or a pending marker.
pub(crate) fn piece_key(satellite: &NodeId, piece: &PieceId) -> [u8; PIECE_KEY_LEN] {
    let mut k = [0u8; PIECE_KEY_LEN];
    k[..32].copy_from_slice(satellite.as_bytes());
    k[32..].copy_from_slice(piece.as_bytes());
    k
}

/// `satellite ‖ piece ‖ BE u32 index`: key of one data chunk.
pub(crate) fn chunk_key(piece_key: &[u8; PIECE_KEY_LEN], index: u32) -> [u8; PIECE_KEY_LEN + 4] {
    let mut k = [0u8; PIECE_KEY_LEN + 4];
    k[..PIECE_KEY_LEN].copy_from_slice(piece_key);
    k[PIECE_KEY_LEN..].copy_from_slice(&index.to_be_bytes());
    k
}

/// The half-open range `[start, end)` covering every chunk of a piece.
pub(crate) fn chunk_range(piece_key: &[u8; PIECE_KEY_LEN]) -> (Vec<u8>, Vec<u8>) {
    let start = chunk_key(piece_key, 0).to_vec();
    let mut end = piece_key.to_vec();
    end.extend_from_slice(&[0xff; 5]);
    (start, end)
}

/// `satellite ‖ serial`: key of a used serial or a kept order.
pub(crate) fn serial_key(satellite: &NodeId, serial: &SerialNumber) -> [u8; 48] {
    let mut k = [0u8; 48];
    k[..32].copy_from_slice(satellite.as_bytes());
    k[32..].copy_from_slice(serial.as_bytes());
    k
}

/// Splits a piece key back into its ids.
pub(crate) fn split_piece_key(key: &[u8]) -> Option<(NodeId, PieceId)> {
    if key.len() != PIECE_KEY_LEN {
        return None;
    }
    Some((
        NodeId::from_slice(&key[..32]).ok()?,
        PieceId::from_slice(&key[32..]).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_range_covers_all_chunks_of_one_piece_only() {
        let sat = NodeId::from_public_key(&[1; 32]);
        let p = PieceId::random();
        let pk = piece_key(&sat, &p);
        let (start, end) = chunk_range(&pk);
        for i in [0u32, 1, u32::MAX] {
            let k = chunk_key(&pk, i);
            assert!(k.as_slice() >= start.as_slice() && k.as_slice() < end.as_slice());
        }
        assert_eq!(split_piece_key(&pk), Some((sat, p)));
    }
}
