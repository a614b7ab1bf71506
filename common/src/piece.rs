//! Piece integrity: a piece is hashed in fixed chunks so that any byte range
//! read back can be verified without reading the whole piece. The piece hash
//! that uplink and node sign is the BLAKE3 of the concatenated chunk hashes.

/// Bytes of piece data covered by one chunk hash.
pub const HASH_CHUNK_SIZE: u64 = 64 * 1024;

/// Number of hash chunks of a piece of `piece_size` bytes.
pub fn chunk_count(piece_size: u64) -> u64 {
    piece_size.div_ceil(HASH_CHUNK_SIZE)
}

/// The signed piece hash: BLAKE3 over the concatenated chunk hashes.
pub fn root_hash(chunk_hashes: &[u8]) -> [u8; 32] {
    *blake3::hash(chunk_hashes).as_bytes()
}

/// Hashes a stream of piece bytes chunk by chunk.
#[derive(Default)]
pub struct ChunkHasher {
    current: blake3::Hasher,
    in_current: u64,
    hashes: Vec<u8>,
    total: u64,
}

impl ChunkHasher {
    /// A hasher for a new piece.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes of the piece.
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = (HASH_CHUNK_SIZE - self.in_current) as usize;
            let n = room.min(data.len());
            self.current.update(&data[..n]);
            self.in_current += n as u64;
            self.total += n as u64;
            data = &data[n..];
            if self.in_current == HASH_CHUNK_SIZE {
                self.close_chunk();
            }
        }
    }

    fn close_chunk(&mut self) {
        let h = std::mem::take(&mut self.current).finalize();
        self.hashes.extend_from_slice(h.as_bytes());
        self.in_current = 0;
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True when nothing was fed.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Finishes: the concatenated chunk hashes and their root.
    pub fn finish(mut self) -> (Vec<u8>, [u8; 32]) {
        if self.in_current > 0 {
            self.close_chunk();
        }
        let root = root_hash(&self.hashes);
        (self.hashes, root)
    }
}

/// Checks one chunk of piece data (chunk number `index`) against the list of
/// chunk hashes.
pub fn verify_chunk(chunk_hashes: &[u8], index: u64, data: &[u8]) -> bool {
    let start = (index * 32) as usize;
    match chunk_hashes.get(start..start + 32) {
        Some(expected) => blake3::hash(data).as_bytes() == expected,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunking_is_independent_of_write_sizes() {
        let data: Vec<u8> = (0..(HASH_CHUNK_SIZE * 2 + 100))
            .map(|i| (i % 251) as u8)
            .collect();
        let mut a = ChunkHasher::new();
        a.update(&data);
        let mut b = ChunkHasher::new();
        for part in data.chunks(1000) {
            b.update(part);
        }
        let (ha, ra) = a.finish();
        let (hb, rb) = b.finish();
        assert_eq!(ha, hb);
        assert_eq!(ra, rb);
        assert_eq!(ha.len() as u64, chunk_count(data.len() as u64) * 32);
        let cs = HASH_CHUNK_SIZE as usize;
        assert!(verify_chunk(&ha, 2, &data[2 * cs..]));
        assert!(!verify_chunk(&ha, 1, &data[2 * cs..]));
        assert!(!verify_chunk(&ha, 3, &data[2 * cs..]));
    }
}
