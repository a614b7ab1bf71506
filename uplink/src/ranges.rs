//! Range arithmetic of downloads: a plaintext byte range of a segment maps
//! to whole stripes, and stripes map to a piece byte range aligned to the
//! 64 KiB hash chunks (the unit nodes serve and uplinks verify).

use satstore_common::erasure::RedundancyScheme;
use satstore_common::piece::HASH_CHUNK_SIZE;

/// The part of every piece needed to rebuild a segment byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PieceRange {
    /// Size of each piece of the segment.
    pub piece_size: u64,
    /// First piece byte to fetch (a multiple of the hash chunk size).
    pub offset: u64,
    /// Bytes to fetch from `offset` (whole chunks, or up to the piece end).
    pub size: u64,
    /// Index of the first hash chunk fetched.
    pub first_chunk: u64,
    /// Number of hash chunks fetched.
    pub chunks: u64,
}

impl PieceRange {
    /// Maps `[start, end)` of a segment of `segment_size` (encrypted) bytes.
    /// Requires `start < end <= segment_size`.
    pub(crate) fn new(scheme: &RedundancyScheme, segment_size: u64, start: u64, end: u64) -> Self {
        debug_assert!(start < end && end <= segment_size);
        let stripe = scheme.stripe_size();
        let share = scheme.share_size as u64;
        let piece_size = scheme.piece_size(segment_size);
        let first_stripe = start / stripe;
        let end_stripe = end.div_ceil(stripe);
        let first_chunk = first_stripe * share / HASH_CHUNK_SIZE;
        let offset = first_chunk * HASH_CHUNK_SIZE;
        let piece_end = (end_stripe * share).div_ceil(HASH_CHUNK_SIZE) * HASH_CHUNK_SIZE;
        let piece_end = piece_end.min(piece_size);
        PieceRange {
            piece_size,
            offset,
            size: piece_end - offset,
            first_chunk,
            chunks: (piece_end - offset).div_ceil(HASH_CHUNK_SIZE),
        }
    }

    /// Length of hash chunk `index` of the piece (the last may be short).
    pub(crate) fn chunk_len(&self, index: u64) -> u64 {
        HASH_CHUNK_SIZE.min(self.piece_size - index * HASH_CHUNK_SIZE)
    }

    /// Piece byte offset where chunk `index` starts.
    pub(crate) fn chunk_offset(index: u64) -> u64 {
        index * HASH_CHUNK_SIZE
    }
}

/// The segment bytes `[start, end)` decoded from hash chunk `index` of
/// every piece (`chunk_len` bytes each) cover `[index * 64 KiB * k, + chunk_len * k)`;
/// returns the slice of that decoded buffer inside the requested range.
pub(crate) fn trim(
    scheme: &RedundancyScheme,
    index: u64,
    chunk_len: u64,
    start: u64,
    end: u64,
) -> std::ops::Range<usize> {
    let k = scheme.required as u64;
    let decoded_start = index * HASH_CHUNK_SIZE * k;
    let decoded_end = decoded_start + chunk_len * k;
    let a = start.clamp(decoded_start, decoded_end) - decoded_start;
    let b = end.clamp(decoded_start, decoded_end) - decoded_start;
    a as usize..b as usize
}

/// The object range `[start, end)` for download options, given the object
/// size; `None` when the offset lies beyond the end.
pub(crate) fn object_range(size: u64, offset: i64, length: i64) -> Option<(u64, u64)> {
    let start = if offset < 0 {
        size.saturating_sub(offset.unsigned_abs())
    } else {
        offset as u64
    };
    if start > size {
        return None;
    }
    let end = if length < 0 {
        size
    } else {
        start.saturating_add(length as u64).min(size)
    };
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: u64 = HASH_CHUNK_SIZE;

    fn scheme() -> RedundancyScheme {
        RedundancyScheme::default() // k = 4, share 256: stripe 1 KiB
    }

    #[test]
    fn whole_segment_maps_to_whole_pieces() {
        let s = scheme();
        let seg = 10 * C + 100; // padded to 10 * C + 1024; piece = 2.5 C + 256
        let r = PieceRange::new(&s, seg, 0, seg);
        assert_eq!(r.piece_size, (10 * C + 1024) / 4);
        assert_eq!(r.offset, 0);
        assert_eq!(r.size, r.piece_size);
        assert_eq!(r.first_chunk, 0);
        assert_eq!(r.chunks, 3);
        assert_eq!(r.chunk_len(0), C);
        assert_eq!(r.chunk_len(2), r.piece_size - 2 * C, "last chunk is short");
    }

    #[test]
    fn inner_range_is_chunk_aligned() {
        let s = scheme();
        let seg = 64 * C;
        // One byte in the middle of decoded chunk 3 (segment bytes [12C, 16C)).
        let r = PieceRange::new(&s, seg, 13 * C, 13 * C + 1);
        assert_eq!(
            (r.offset, r.size, r.first_chunk, r.chunks),
            (3 * C, C, 3, 1)
        );
        // A range ending exactly on a chunk boundary needs no extra chunk.
        let r = PieceRange::new(&s, seg, 4 * C, 8 * C);
        assert_eq!((r.offset, r.size, r.first_chunk, r.chunks), (C, C, 1, 1));
        // One byte past the boundary needs the next chunk.
        let r = PieceRange::new(&s, seg, 4 * C, 8 * C + 1);
        assert_eq!((r.offset, r.size, r.chunks), (C, 2 * C, 2));
        // The very last byte of a short segment: capped at the piece size.
        let seg = 5000;
        let r = PieceRange::new(&s, seg, 4999, 5000);
        assert_eq!(r.piece_size, 5 * 256);
        assert_eq!((r.offset, r.size, r.chunks), (0, 5 * 256, 1));
    }

    #[test]
    fn trim_cuts_decoded_chunks_to_the_range() {
        let s = scheme();
        assert_eq!(trim(&s, 0, C, 10, 20), 10..20);
        assert_eq!(trim(&s, 1, C, 10, 5 * C), 0..C as usize);
        assert_eq!(trim(&s, 1, C, 4 * C + 7, 100 * C), 7..(4 * C) as usize);
        // Short last chunk: padding beyond the segment end is dropped.
        assert_eq!(trim(&s, 2, 256, 8 * C, 8 * C + 1000), 0..1000);
        // Chunk entirely outside the range.
        assert_eq!(trim(&s, 5, C, 0, 10), 0..0);
    }

    #[test]
    fn object_ranges() {
        assert_eq!(object_range(100, 0, -1), Some((0, 100)));
        assert_eq!(object_range(100, 10, 20), Some((10, 30)));
        assert_eq!(object_range(100, 90, 20), Some((90, 100)));
        assert_eq!(object_range(100, 100, -1), Some((100, 100)));
        assert_eq!(object_range(100, 101, -1), None);
        assert_eq!(object_range(100, -10, -1), Some((90, 100)));
        assert_eq!(object_range(100, -1000, -1), Some((0, 100)));
        assert_eq!(object_range(100, -10, 5), Some((90, 95)));
        assert_eq!(object_range(0, 0, -1), Some((0, 0)));
        assert_eq!(object_range(100, 5, 0), Some((5, 5)));
    }
}
