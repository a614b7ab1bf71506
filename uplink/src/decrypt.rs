//! The decryption stage of downloads: receives a segment's ciphertext in
//! order (decoded erasure chunks, or inline data), opens every 64 KiB block
//! in place and forwards only the requested plaintext bytes, as slices of
//! the same buffers (no copy). Any block that fails authentication stops
//! the download with an error: never garbage.

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::encryption::{BlockRange, CIPHER_BLOCK, SegmentDecrypter};
use crate::error::{Result, UplinkError};

/// Where plaintext goes; a send error means the reader is gone.
pub(crate) type Output = mpsc::Sender<Result<Bytes>>;

/// The reader dropped the download; stop quietly.
#[derive(Debug)]
pub(crate) struct ReaderGone;

fn tampered(what: impl std::fmt::Display) -> UplinkError {
    UplinkError::Internal(format!(
        "object data is corrupt or was tampered with: {what}"
    ))
}

/// Decrypts the ciphertext range `[cipher_start, cipher_end)` of one
/// segment into the plaintext range its [`BlockRange`] describes.
pub(crate) struct DecryptSink<'a> {
    out: &'a Output,
    decrypter: SegmentDecrypter,
    /// Index of the next block to open.
    block: u64,
    /// Ciphertext bytes still expected.
    cipher_left: u64,
    /// Bytes of a block split across two pushes.
    carry: Vec<u8>,
    /// Plaintext bytes still to drop at the start.
    skip: u64,
    /// Plaintext bytes still to forward.
    left: u64,
}

impl<'a> DecryptSink<'a> {
    /// A sink for `range` of a segment decrypted with `decrypter`.
    pub(crate) fn new(out: &'a Output, decrypter: SegmentDecrypter, range: &BlockRange) -> Self {
        DecryptSink {
            out,
            decrypter,
            block: range.first_block,
            cipher_left: range.cipher_len(),
            carry: Vec::new(),
            skip: range.skip,
            left: range.len,
        }
    }

    /// Length of the block starting now: a whole block, or the rest.
    fn block_len(&self) -> usize {
        (CIPHER_BLOCK as u64).min(self.cipher_left) as usize
    }

    /// Opens `buf[at..at + len]` as the next block; returns the plaintext
    /// range within `buf` to forward.
    fn open(&mut self, buf: &mut [u8], at: usize, len: usize) -> Result<std::ops::Range<usize>> {
        let plain = self
            .decrypter
            .open_block(self.block, &mut buf[at..at + len])
            .map_err(tampered)?
            .len() as u64;
        self.block += 1;
        self.cipher_left -= len as u64;
        let skip = self.skip.min(plain);
        self.skip -= skip;
        let take = (plain - skip).min(self.left);
        self.left -= take;
        Ok(at + skip as usize..at + (skip + take) as usize)
    }

    /// Takes the next ciphertext bytes `data[range]`.
    pub(crate) async fn push(
        &mut self,
        mut data: Vec<u8>,
        range: std::ops::Range<usize>,
    ) -> Result<std::result::Result<(), ReaderGone>> {
        let mut at = range.start;
        let end = range.end;
        if (end - at) as u64 > self.cipher_left {
            return Err(tampered("more ciphertext than the segment holds"));
        }
        if !self.carry.is_empty() {
            let need = self.block_len() - self.carry.len();
            let n = need.min(end - at);
            self.carry.extend_from_slice(&data[at..at + n]);
            at += n;
            if self.carry.len() == self.block_len() {
                let mut block = std::mem::take(&mut self.carry);
                let len = block.len();
                let keep = self.open(&mut block, 0, len)?;
                if let Err(gone) = self.send(Bytes::from(block).slice(keep)).await {
                    return Ok(Err(gone));
                }
            }
        }
        let mut keep = Vec::new();
        while at < end {
            let len = self.block_len();
            if end - at < len {
                self.carry.extend_from_slice(&data[at..end]);
                break;
            }
            let r = self.open(&mut data, at, len)?;
            if !r.is_empty() {
                keep.push(r);
            }
            at += len;
        }
        let data = Bytes::from(data);
        for r in keep {
            if let Err(gone) = self.send(data.slice(r)).await {
                return Ok(Err(gone));
            }
        }
        Ok(Ok(()))
    }

    async fn send(&self, b: Bytes) -> std::result::Result<(), ReaderGone> {
        if b.is_empty() {
            return Ok(());
        }
        self.out.send(Ok(b)).await.map_err(|_| ReaderGone)
    }

    /// Checks that the whole range arrived and was forwarded.
    pub(crate) fn finish(self) -> Result<()> {
        if self.cipher_left != 0 || !self.carry.is_empty() || self.left != 0 {
            return Err(tampered(format!(
                "segment data ended {} bytes early",
                self.cipher_left + self.carry.len() as u64
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encryption::{Key, PLAIN_BLOCK, block_range, encrypt_segment};

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 253) as u8).collect()
    }

    async fn run(ct: &[u8], plain: u64, start: u64, end: u64, split: &[usize]) -> Result<Vec<u8>> {
        let key = Key::from_bytes([5; 32]);
        let range = block_range(plain, start, end).unwrap();
        let (tx, mut rx) = mpsc::channel(1024);
        let mut sink = DecryptSink::new(&tx, SegmentDecrypter::new(&key, 0, 3), &range);
        let fetched = &ct[range.cipher_start as usize..range.cipher_end as usize];
        let mut at = 0;
        for &cut in split.iter().chain(std::iter::once(&fetched.len())) {
            let cut = cut.min(fetched.len());
            if cut < at {
                continue;
            }
            // Pad around the range to check only `range` is used.
            let mut buf = vec![9u8; 3];
            buf.extend_from_slice(&fetched[at..cut]);
            let len = buf.len();
            buf.extend_from_slice(&[7, 7]);
            sink.push(buf, 3..len).await?.expect("reader alive");
            at = cut;
        }
        sink.finish()?;
        drop(tx);
        let mut out = Vec::new();
        while let Some(b) = rx.recv().await {
            out.extend_from_slice(&b?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn ranges_and_splits_decrypt_exactly() {
        let n = 3 * PLAIN_BLOCK + 1000;
        let plain = data(n);
        let ct = encrypt_segment(&Key::from_bytes([5; 32]), 0, 3, &plain).unwrap();
        let p = PLAIN_BLOCK;
        for (start, end) in [(0, n), (10, 20), (p - 5, p + 5), (2 * p, n), (n - 1, n)] {
            for split in [vec![], vec![CIPHER_BLOCK], vec![100, CIPHER_BLOCK + 7]] {
                let got = run(&ct, n as u64, start as u64, end as u64, &split)
                    .await
                    .unwrap();
                assert_eq!(got, &plain[start..end], "{start}..{end} split {split:?}");
            }
        }
    }

    #[tokio::test]
    async fn tampering_and_truncation_fail() {
        let n = 2 * PLAIN_BLOCK;
        let plain = data(n);
        let mut ct = encrypt_segment(&Key::from_bytes([5; 32]), 0, 3, &plain).unwrap();
        ct[CIPHER_BLOCK + 5] ^= 1;
        let e = run(&ct, n as u64, 0, n as u64, &[]).await.unwrap_err();
        assert!(e.to_string().contains("tampered"), "{e}");
        // A wrong segment position (nonce) fails too.
        let ct = encrypt_segment(&Key::from_bytes([5; 32]), 0, 4, &plain).unwrap();
        assert!(run(&ct, n as u64, 0, 10, &[]).await.is_err());
        // Missing bytes are reported by finish.
        let ct = encrypt_segment(&Key::from_bytes([5; 32]), 0, 3, &plain).unwrap();
        let key = Key::from_bytes([5; 32]);
        let range = block_range(n as u64, 0, n as u64).unwrap();
        let (tx, _rx) = mpsc::channel(16);
        let mut sink = DecryptSink::new(&tx, SegmentDecrypter::new(&key, 0, 3), &range);
        let half = ct[..CIPHER_BLOCK + 10].to_vec();
        let len = half.len();
        sink.push(half, 0..len).await.unwrap().unwrap();
        assert!(sink.finish().is_err());
    }
}
