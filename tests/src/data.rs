//! Deterministic pseudo-random data, generated and hashed as a stream so
//! that large objects never sit whole in the test's memory.

/// An endless deterministic byte stream (BLAKE3 in XOF mode, keyed by seed).
pub struct DataStream {
    reader: blake3::OutputReader,
    remaining: u64,
}

impl DataStream {
    /// `len` bytes derived from `seed`.
    pub fn new(seed: u64, len: u64) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        DataStream {
            reader: blake3::Hasher::new_keyed(&key).finalize_xof(),
            remaining: len,
        }
    }

    /// Fills `buf` with the next bytes; returns how many (0 at the end).
    pub fn fill(&mut self, buf: &mut [u8]) -> usize {
        let n = (buf.len() as u64).min(self.remaining) as usize;
        self.reader.fill(&mut buf[..n]);
        self.remaining -= n as u64;
        n
    }

    /// The whole stream in memory (for small objects only).
    pub fn to_vec(mut self) -> Vec<u8> {
        let mut v = vec![0u8; self.remaining as usize];
        self.fill(&mut v);
        v
    }

    /// The BLAKE3 hash of the whole stream and its length.
    pub fn hash(mut self) -> ([u8; 32], u64) {
        let mut h = blake3::Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0;
        loop {
            let n = self.fill(&mut buf);
            if n == 0 {
                return (*h.finalize().as_bytes(), total);
            }
            total += n as u64;
            h.update(&buf[..n]);
        }
    }

    /// The bytes of the range [start, end) of a stream of `seed`.
    pub fn range(seed: u64, start: u64, end: u64) -> Vec<u8> {
        let mut s = DataStream::new(seed, end);
        let mut skip = vec![0u8; 1 << 20];
        let mut left = start;
        while left > 0 {
            let n = (left as usize).min(skip.len());
            s.fill(&mut skip[..n]);
            left -= n as u64;
        }
        s.to_vec()
    }
}

/// BLAKE3 of a byte slice.
pub fn hash_of(data: &[u8]) -> [u8; 32] {
    *blake3::hash(data).as_bytes()
}
