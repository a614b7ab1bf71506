//! Plaintext byte range of a segment -> sealed blocks to fetch.
//!
//! For plaintext `[start, end)` of a segment of `plain_size` bytes, the
//! blocks `[first_block, end_block)` hold the bytes; their ciphertext is
//! `[first_block * CIPHER_BLOCK, min(end_block * CIPHER_BLOCK,
//! encrypted_size))`, and after decryption the first `skip` bytes are
//! dropped and `len` bytes kept.

use super::content::{PLAIN_BLOCK, SegmentDecrypter, TAG_SIZE};
use super::error::{EncryptionError, Result, auth_error};

/// The blocks and ciphertext bytes that hold a plaintext range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRange {
    /// First block to fetch.
    pub first_block: u64,
    /// One past the last block to fetch (`== first_block` when empty).
    pub end_block: u64,
    /// First ciphertext byte to fetch.
    pub cipher_start: u64,
    /// One past the last ciphertext byte to fetch.
    pub cipher_end: u64,
    /// Plaintext bytes to drop from the start of the first decrypted block.
    pub skip: u64,
    /// Plaintext bytes wanted (`end - start`).
    pub len: u64,
}

impl BlockRange {
    /// Ciphertext bytes to fetch.
    pub fn cipher_len(&self) -> u64 {
        self.cipher_end - self.cipher_start
    }

    /// Decrypts the fetched `ciphertext` (exactly
    /// `cipher_start..cipher_end`) and returns the requested plaintext.
    pub fn decrypt(
        &self,
        decrypter: &SegmentDecrypter,
        mut ciphertext: Vec<u8>,
    ) -> Result<Vec<u8>> {
        if ciphertext.len() as u64 != self.cipher_len() {
            return Err(auth_error(format!(
                "range: got {} bytes of ciphertext, expected {}",
                ciphertext.len(),
                self.cipher_len()
            )));
        }
        decrypter.open_blocks(self.first_block, &mut ciphertext)?;
        let (skip, len) = (to_usize(self.skip)?, to_usize(self.len)?);
        if ciphertext.len() < skip + len {
            return Err(auth_error("range: blocks shorter than the plain size says"));
        }
        ciphertext.truncate(skip + len);
        ciphertext.drain(..skip);
        Ok(ciphertext)
    }
}

fn to_usize(v: u64) -> Result<usize> {
    usize::try_from(v)
        .map_err(|_| EncryptionError::InvalidArgument(format!("{v} bytes do not fit in memory")))
}

/// Maps plaintext `[start, end)` of a segment of `plain_size` bytes to its
/// blocks and ciphertext range; `start <= end <= plain_size` or an error.
pub fn block_range(plain_size: u64, start: u64, end: u64) -> Result<BlockRange> {
    block_range_with(PLAIN_BLOCK as u64, TAG_SIZE as u64, plain_size, start, end)
}

/// [`block_range`] for any block geometry (tiny blocks make exhaustive tests
/// possible).
fn block_range_with(
    plain_block: u64,
    overhead: u64,
    plain_size: u64,
    start: u64,
    end: u64,
) -> Result<BlockRange> {
    if start > end || end > plain_size {
        return Err(EncryptionError::InvalidArgument(format!(
            "range {start}..{end} is outside a segment of {plain_size} bytes"
        )));
    }
    let cipher_block = plain_block + overhead;
    let rem = plain_size % plain_block;
    let enc_size =
        (plain_size / plain_block) * cipher_block + if rem == 0 { 0 } else { rem + overhead };
    let first_block = start / plain_block;
    let end_block = if start == end {
        first_block
    } else {
        end.div_ceil(plain_block)
    };
    let cipher_start = (first_block * cipher_block).min(enc_size);
    let cipher_end = (end_block * cipher_block).min(enc_size);
    Ok(BlockRange {
        first_block,
        end_block,
        cipher_start,
        cipher_end,
        skip: if start == end {
            0
        } else {
            start - first_block * plain_block
        },
        len: end - start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encryption::content::{CIPHER_BLOCK, encrypt_segment, encrypted_size};
    use crate::encryption::keys::Key;

    /// Exhaustive check against a byte-by-byte model with tiny blocks:
    /// fetched blocks are exactly those holding a wanted byte, the cipher
    /// range is exactly those blocks' bytes, and skip/len select the bytes.
    #[test]
    fn exhaustive_small_geometry() {
        let (pb, ov) = (5u64, 2u64);
        let cb = pb + ov;
        for size in 0..=17u64 {
            // Model: sealed blocks as (cipher start, cipher len, plain start).
            let mut blocks = Vec::new();
            let (mut p, mut c) = (0, 0);
            while p < size {
                let n = pb.min(size - p);
                blocks.push((c, n + ov, p));
                p += n;
                c += n + ov;
            }
            let enc_size = c;
            for start in 0..=size {
                for end in start..=size {
                    let r = block_range_with(pb, ov, size, start, end).expect("valid range");
                    assert_eq!(r.len, end - start);
                    assert!(r.cipher_end <= enc_size);
                    let wanted: Vec<u64> = (0..blocks.len() as u64)
                        .filter(|&b| {
                            let (_, cl, ps) = blocks[b as usize];
                            start < end && ps < end && start < ps + (cl - ov)
                        })
                        .collect();
                    if wanted.is_empty() {
                        assert_eq!((r.first_block, r.end_block), (start / pb, start / pb));
                        assert_eq!(r.cipher_len(), 0, "size {size} {start}..{end}");
                        assert_eq!(r.skip, 0);
                        continue;
                    }
                    let (f, l) = (wanted[0], *wanted.last().expect("non-empty"));
                    assert_eq!(
                        (r.first_block, r.end_block),
                        (f, l + 1),
                        "size {size} {start}..{end}"
                    );
                    assert_eq!(r.cipher_start, blocks[f as usize].0);
                    assert_eq!(r.cipher_end, blocks[l as usize].0 + blocks[l as usize].1);
                    assert_eq!(r.cipher_start, f * cb);
                    assert_eq!(r.skip, start - blocks[f as usize].2);
                    let plain_in_blocks: u64 =
                        wanted.iter().map(|&b| blocks[b as usize].1 - ov).sum();
                    assert!(r.skip + r.len <= plain_in_blocks);
                }
            }
            assert!(block_range_with(pb, ov, size, 0, size + 1).is_err());
            if size > 0 {
                assert!(block_range_with(pb, ov, size, size, size - 1).is_err());
            }
        }
    }

    #[test]
    fn real_geometry_boundaries() {
        let p = PLAIN_BLOCK as u64;
        let c = CIPHER_BLOCK as u64;
        let size = 2 * p + 10;
        let r = block_range(size, 0, size).expect("whole");
        assert_eq!(
            (r.first_block, r.end_block, r.cipher_start, r.cipher_end),
            (0, 3, 0, encrypted_size(size))
        );
        let r = block_range(size, p, p + 1).expect("first byte of block 1");
        assert_eq!(
            (
                r.first_block,
                r.end_block,
                r.cipher_start,
                r.cipher_end,
                r.skip
            ),
            (1, 2, c, 2 * c, 0)
        );
        let r = block_range(size, p - 1, p + 1).expect("straddle");
        assert_eq!(
            (r.first_block, r.end_block, r.skip, r.len),
            (0, 2, p - 1, 2)
        );
        let r = block_range(size, size - 1, size).expect("last byte");
        assert_eq!(
            (r.first_block, r.cipher_start, r.cipher_end, r.skip),
            (2, 2 * c, 2 * c + 26, 9)
        );
        let r = block_range(0, 0, 0).expect("empty segment");
        assert_eq!(r.cipher_len(), 0);
        assert!(block_range(0, 0, 1).is_err());
        assert!(block_range(size, 5, 4).is_err());
    }

    #[test]
    fn ranges_decrypt_to_the_plaintext_slice() {
        let key = Key::from_bytes([8; 32]);
        let p = PLAIN_BLOCK as u64;
        let size = 2 * p + 500;
        let plain: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
        let ct = encrypt_segment(&key, 0, 1, &plain).expect("enc");
        let dec = SegmentDecrypter::new(&key, 0, 1);
        let points = [
            0,
            1,
            p - 1,
            p,
            p + 1,
            2 * p - 1,
            2 * p,
            2 * p + 1,
            size - 1,
            size,
        ];
        for &start in &points {
            for &end in points.iter().filter(|&&e| e >= start) {
                let r = block_range(size, start, end).expect("range");
                let fetched = ct[r.cipher_start as usize..r.cipher_end as usize].to_vec();
                let got = r.decrypt(&dec, fetched).expect("decrypt");
                assert_eq!(got, &plain[start as usize..end as usize], "{start}..{end}");
            }
        }
        // Tampered, short or misplaced ciphertext fails.
        let r = block_range(size, p, p + 10).expect("range");
        let mut fetched = ct[r.cipher_start as usize..r.cipher_end as usize].to_vec();
        fetched[3] ^= 1;
        assert!(r.decrypt(&dec, fetched).is_err());
        let fetched = ct[r.cipher_start as usize..r.cipher_end as usize - 1].to_vec();
        assert!(r.decrypt(&dec, fetched).is_err());
        let wrong_blocks = ct[..CIPHER_BLOCK].to_vec();
        assert!(r.decrypt(&dec, wrong_blocks).is_err());
    }
}
