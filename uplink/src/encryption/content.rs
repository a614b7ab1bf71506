//! Segment data encryption.
//!
//! Each segment gets a fresh random 32-byte content key, wrapped (AES-GCM,
//! random 12-byte nonce) with the object's derived content key and stored
//! with the segment (`encrypted_key`, `encrypted_key_nonce`).
//!
//! Data is cut into plaintext blocks of [`PLAIN_BLOCK`] bytes, each sealed
//! with AES-256-GCM into [`CIPHER_BLOCK`] (64 KiB) bytes. The nonce of block
//! `b` is the little-endian 96-bit counter `(part << 32) + index + 1 + b`.
//! The last block may be shorter; there is no padding, the plain size comes
//! from the (encrypted, authenticated) object metadata and the segment row.
//! Position-derived nonces repeat across segments, which is safe only
//! because every segment has its own random key.

use ring::aead::{Aad, LessSafeKey, NONCE_LEN, Nonce};

use super::error::{EncryptionError, Result, auth_error, random_bytes};
use super::keys::{KEY_SIZE, Key};

/// AES-GCM tag length: the per-block overhead.
pub const TAG_SIZE: usize = 16;
/// Sealed block size (64 KiB).
pub const CIPHER_BLOCK: usize = 64 * 1024;
/// Plaintext bytes per block.
pub const PLAIN_BLOCK: usize = CIPHER_BLOCK - TAG_SIZE;

/// The ciphertext size of a segment of `plain_size` bytes.
pub fn encrypted_size(plain_size: u64) -> u64 {
    let full = plain_size / PLAIN_BLOCK as u64;
    let rem = plain_size % PLAIN_BLOCK as u64;
    full * CIPHER_BLOCK as u64 + if rem == 0 { 0 } else { rem + TAG_SIZE as u64 }
}

/// A content key sealed with the object's derived content key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Sealed key: 32 bytes + 16-byte tag (`encrypted_key`).
    pub encrypted_key: Vec<u8>,
    /// Random nonce (`encrypted_key_nonce`).
    pub nonce: [u8; NONCE_LEN],
}

/// Seals `key` (a segment content key or a metadata key) with `derived_key`
/// under a fresh random nonce.
pub fn wrap_key(derived_key: &Key, key: &Key) -> Result<WrappedKey> {
    let mut nonce = [0u8; NONCE_LEN];
    random_bytes(&mut nonce)?;
    let mut sealed = Vec::with_capacity(KEY_SIZE + TAG_SIZE);
    sealed.extend_from_slice(key.as_bytes());
    derived_key
        .aead()
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::empty(),
            &mut sealed,
        )
        .map_err(|_| EncryptionError::Internal("AES-GCM refused to wrap a key"))?;
    Ok(WrappedKey {
        encrypted_key: sealed,
        nonce,
    })
}

/// Opens a key sealed by [`wrap_key`]; a wrong derived key or any changed
/// byte is an [`EncryptionError::Authentication`].
pub fn unwrap_key(derived_key: &Key, encrypted_key: &[u8], nonce: &[u8]) -> Result<Key> {
    let nonce: [u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| EncryptionError::InvalidLength {
            what: "key nonce",
            expected: NONCE_LEN,
            got: nonce.len(),
        })?;
    if encrypted_key.len() != KEY_SIZE + TAG_SIZE {
        return Err(EncryptionError::InvalidLength {
            what: "encrypted key",
            expected: KEY_SIZE + TAG_SIZE,
            got: encrypted_key.len(),
        });
    }
    let mut buf = encrypted_key.to_vec();
    let plain = derived_key
        .aead()
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
        .map_err(|_| auth_error("encrypted key"))?;
    let key = Key::from_slice(plain);
    buf.fill(0);
    key
}

/// The first block nonce of segment (`part`, `index`) as a counter.
fn first_nonce(part: u32, index: u32) -> u128 {
    ((part as u128) << 32) + index as u128 + 1
}

/// The nonce of block `block` after `first` (little-endian, 96 bits).
fn block_nonce(first: u128, block: u64) -> Nonce {
    let counter = first.wrapping_add(block as u128);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&counter.to_le_bytes()[..NONCE_LEN]);
    Nonce::assume_unique_for_key(nonce)
}

/// Streaming encrypter of one segment: push plaintext of any size, get whole
/// sealed blocks appended to an output buffer; [`finish`](Self::finish)
/// seals the last partial block.
pub struct SegmentEncrypter {
    key: LessSafeKey,
    first_nonce: u128,
    next_block: u64,
    /// Plaintext of the current, not yet full block.
    pending: Vec<u8>,
    plain_len: u64,
}

impl std::fmt::Debug for SegmentEncrypter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentEncrypter")
            .field("next_block", &self.next_block)
            .field("plain_len", &self.plain_len)
            .finish_non_exhaustive()
    }
}

impl SegmentEncrypter {
    /// An encrypter for segment (`part`, `index`) under its content key.
    pub fn new(content_key: &Key, part: u32, index: u32) -> Self {
        Self {
            key: content_key.aead(),
            first_nonce: first_nonce(part, index),
            next_block: 0,
            pending: Vec::new(),
            plain_len: 0,
        }
    }

    /// Plaintext bytes pushed so far.
    pub fn plain_len(&self) -> u64 {
        self.plain_len
    }

    /// Seals `out[start..]` (one plaintext block) in place and appends its tag.
    fn seal_tail(&mut self, out: &mut Vec<u8>, start: usize) -> Result<()> {
        let nonce = block_nonce(self.first_nonce, self.next_block);
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::empty(), &mut out[start..])
            .map_err(|_| EncryptionError::Internal("AES-GCM refused a data block"))?;
        out.extend_from_slice(tag.as_ref());
        self.next_block += 1;
        Ok(())
    }

    /// Encrypts `data`, appending every block it completes to `out` (each
    /// [`CIPHER_BLOCK`] bytes). Plaintext is copied once, straight into
    /// `out`, and sealed there.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.plain_len += data.len() as u64;
        if !self.pending.is_empty() {
            let need = PLAIN_BLOCK - self.pending.len();
            if data.len() < need {
                self.pending.extend_from_slice(data);
                return Ok(());
            }
            let start = out.len();
            out.reserve(CIPHER_BLOCK);
            out.extend_from_slice(&self.pending);
            out.extend_from_slice(&data[..need]);
            self.pending.clear();
            data = &data[need..];
            self.seal_tail(out, start)?;
        }
        let whole = data.len() / PLAIN_BLOCK;
        out.reserve(whole * CIPHER_BLOCK);
        for block in data[..whole * PLAIN_BLOCK].chunks_exact(PLAIN_BLOCK) {
            let start = out.len();
            out.extend_from_slice(block);
            self.seal_tail(out, start)?;
        }
        let rest = &data[whole * PLAIN_BLOCK..];
        if !rest.is_empty() {
            self.pending.reserve_exact(PLAIN_BLOCK);
            self.pending.extend_from_slice(rest);
        }
        Ok(())
    }

    /// Seals the last partial block (if any) into `out`; returns the
    /// segment's plain size.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<u64> {
        if !self.pending.is_empty() {
            let start = out.len();
            out.reserve(self.pending.len() + TAG_SIZE);
            out.extend_from_slice(&self.pending);
            self.seal_tail(out, start)?;
        }
        Ok(self.plain_len)
    }
}

/// Decrypter of one segment's blocks, in any order (ranged downloads).
pub struct SegmentDecrypter {
    key: LessSafeKey,
    first_nonce: u128,
}

impl std::fmt::Debug for SegmentDecrypter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentDecrypter").finish_non_exhaustive()
    }
}

impl SegmentDecrypter {
    /// A decrypter for segment (`part`, `index`) under its content key.
    pub fn new(content_key: &Key, part: u32, index: u32) -> Self {
        Self {
            key: content_key.aead(),
            first_nonce: first_nonce(part, index),
        }
    }

    /// Opens sealed block `block` in place; returns its plaintext (a prefix
    /// of `sealed`). A wrong key, a changed byte or a block at the wrong
    /// position is an [`EncryptionError::Authentication`].
    pub fn open_block<'a>(&self, block: u64, sealed: &'a mut [u8]) -> Result<&'a mut [u8]> {
        if sealed.len() <= TAG_SIZE || sealed.len() > CIPHER_BLOCK {
            return Err(auth_error(format!(
                "block {block} ({} bytes)",
                sealed.len()
            )));
        }
        self.key
            .open_in_place(block_nonce(self.first_nonce, block), Aad::empty(), sealed)
            .map_err(|_| auth_error(format!("block {block}")))
    }

    /// Opens consecutive sealed blocks starting at `first_block` in place:
    /// on success `data` holds their plaintext (every block whole except
    /// possibly the last).
    pub fn open_blocks(&self, first_block: u64, data: &mut Vec<u8>) -> Result<()> {
        let mut read = 0;
        let mut write = 0;
        let mut block = first_block;
        while read < data.len() {
            let end = (read + CIPHER_BLOCK).min(data.len());
            let len = self.open_block(block, &mut data[read..end])?.len();
            data.copy_within(read..read + len, write);
            write += len;
            read = end;
            block += 1;
        }
        data.truncate(write);
        Ok(())
    }
}

/// Encrypts a whole segment (inline segments, tests).
pub fn encrypt_segment(
    content_key: &Key,
    part: u32,
    index: u32,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut enc = SegmentEncrypter::new(content_key, part, index);
    let mut out =
        Vec::with_capacity(usize::try_from(encrypted_size(plaintext.len() as u64)).unwrap_or(0));
    enc.push(plaintext, &mut out)?;
    enc.finish(&mut out)?;
    Ok(out)
}

/// Decrypts a whole segment whose plain size is `plain_size`; a ciphertext of
/// any other length (truncated, extended) is an error.
pub fn decrypt_segment(
    content_key: &Key,
    part: u32,
    index: u32,
    mut ciphertext: Vec<u8>,
    plain_size: u64,
) -> Result<Vec<u8>> {
    if ciphertext.len() as u64 != encrypted_size(plain_size) {
        return Err(auth_error(format!(
            "segment: {} bytes of ciphertext for {plain_size} plain bytes",
            ciphertext.len()
        )));
    }
    SegmentDecrypter::new(content_key, part, index).open_blocks(0, &mut ciphertext)?;
    Ok(ciphertext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Key {
        Key::from_bytes([b; 32])
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn sizes() {
        assert_eq!(PLAIN_BLOCK, 65520);
        assert_eq!(encrypted_size(0), 0);
        assert_eq!(encrypted_size(1), 17);
        assert_eq!(
            encrypted_size(PLAIN_BLOCK as u64 - 1),
            CIPHER_BLOCK as u64 - 1
        );
        assert_eq!(encrypted_size(PLAIN_BLOCK as u64), CIPHER_BLOCK as u64);
        assert_eq!(
            encrypted_size(PLAIN_BLOCK as u64 + 1),
            CIPHER_BLOCK as u64 + 17
        );
        // 64 MiB = 1024 full blocks + 16384 bytes.
        assert_eq!(encrypted_size(64 << 20), 1024 * 65536 + 16384 + 16);
        for n in [
            0usize,
            1,
            100,
            PLAIN_BLOCK,
            PLAIN_BLOCK + 1,
            3 * PLAIN_BLOCK - 5,
        ] {
            let ct = encrypt_segment(&key(1), 0, 0, &data(n)).expect("enc");
            assert_eq!(ct.len() as u64, encrypted_size(n as u64), "n = {n}");
        }
    }

    #[test]
    fn wrap_and_unwrap() {
        let derived = key(5);
        let content = Key::random().expect("rng");
        let w = wrap_key(&derived, &content).expect("wrap");
        assert_eq!(w.encrypted_key.len(), 48);
        assert!(
            !w.encrypted_key
                .windows(32)
                .any(|win| win == content.as_bytes())
        );
        assert_eq!(
            unwrap_key(&derived, &w.encrypted_key, &w.nonce).expect("unwrap"),
            content
        );
        assert_ne!(
            wrap_key(&derived, &content).expect("wrap"),
            w,
            "random nonce each time"
        );

        assert!(matches!(
            unwrap_key(&key(6), &w.encrypted_key, &w.nonce),
            Err(EncryptionError::Authentication { .. })
        ));
        for i in 0..w.encrypted_key.len() {
            let mut t = w.encrypted_key.clone();
            t[i] ^= 0x10;
            assert!(matches!(
                unwrap_key(&derived, &t, &w.nonce),
                Err(EncryptionError::Authentication { .. })
            ));
        }
        let mut n = w.nonce;
        n[0] ^= 1;
        assert!(unwrap_key(&derived, &w.encrypted_key, &n).is_err());
        assert!(matches!(
            unwrap_key(&derived, &w.encrypted_key, &w.nonce[..11]),
            Err(EncryptionError::InvalidLength { .. })
        ));
        assert!(matches!(
            unwrap_key(&derived, &w.encrypted_key[..47], &w.nonce),
            Err(EncryptionError::InvalidLength { .. })
        ));
    }

    #[test]
    fn streaming_matches_one_shot_for_any_push_sizes() {
        let plain = data(3 * PLAIN_BLOCK + 1234);
        let expected = encrypt_segment(&key(2), 1, 7, &plain).expect("enc");
        for step in [
            1usize,
            7,
            4096,
            PLAIN_BLOCK - 1,
            PLAIN_BLOCK,
            PLAIN_BLOCK + 1,
            200_000,
        ] {
            let mut enc = SegmentEncrypter::new(&key(2), 1, 7);
            let mut out = Vec::new();
            for chunk in plain.chunks(step) {
                enc.push(chunk, &mut out).expect("push");
                assert_eq!(
                    out.len() % CIPHER_BLOCK,
                    0,
                    "only whole blocks before finish"
                );
            }
            assert_eq!(enc.finish(&mut out).expect("finish"), plain.len() as u64);
            assert_eq!(out, expected, "step {step}");
        }
        assert_eq!(
            decrypt_segment(&key(2), 1, 7, expected, plain.len() as u64).expect("dec"),
            plain
        );
    }

    #[test]
    fn empty_and_short_segments_round_trip() {
        for n in [
            0usize,
            1,
            16,
            17,
            PLAIN_BLOCK - 1,
            PLAIN_BLOCK,
            2 * PLAIN_BLOCK,
        ] {
            let plain = data(n);
            let ct = encrypt_segment(&key(3), 0, 0, &plain).expect("enc");
            assert_eq!(
                decrypt_segment(&key(3), 0, 0, ct, n as u64).expect("dec"),
                plain
            );
        }
    }

    #[test]
    fn tamper_wrong_key_wrong_position_and_truncation_fail() {
        let plain = data(2 * PLAIN_BLOCK + 100);
        let ct = encrypt_segment(&key(4), 0, 3, &plain).expect("enc");
        let size = plain.len() as u64;
        for pos in [
            0,
            1000,
            CIPHER_BLOCK - 1,
            CIPHER_BLOCK,
            2 * CIPHER_BLOCK + 50,
            ct.len() - 1,
        ] {
            let mut t = ct.clone();
            t[pos] ^= 0x04;
            let err = decrypt_segment(&key(4), 0, 3, t, size).expect_err("tampered");
            assert!(
                matches!(err, EncryptionError::Authentication { .. }),
                "{err}"
            );
        }
        assert!(
            decrypt_segment(&key(9), 0, 3, ct.clone(), size).is_err(),
            "wrong key"
        );
        assert!(
            decrypt_segment(&key(4), 0, 4, ct.clone(), size).is_err(),
            "other segment index"
        );
        assert!(
            decrypt_segment(&key(4), 1, 3, ct.clone(), size).is_err(),
            "other part"
        );
        // Truncation at a block boundary is caught by the size check.
        assert!(decrypt_segment(&key(4), 0, 3, ct[..2 * CIPHER_BLOCK].to_vec(), size).is_err());
        // Swapping two blocks fails (nonces are positional).
        let dec = SegmentDecrypter::new(&key(4), 0, 3);
        let mut swapped = ct[CIPHER_BLOCK..2 * CIPHER_BLOCK].to_vec();
        assert!(dec.open_block(0, &mut swapped).is_err());
        let mut right = ct[CIPHER_BLOCK..2 * CIPHER_BLOCK].to_vec();
        assert_eq!(
            dec.open_block(1, &mut right).expect("open"),
            &plain[PLAIN_BLOCK..2 * PLAIN_BLOCK]
        );
        assert!(dec.open_block(2, &mut [0u8; 16]).is_err(), "tag-only block");
    }

    #[test]
    fn nonces_are_little_endian_counters() {
        let first = first_nonce(2, 5);
        assert_eq!(first, (2u128 << 32) + 6);
        let n = block_nonce(first, 3);
        let expected: [u8; 12] = [9, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(n.as_ref(), &expected);
        let carry = block_nonce(first_nonce(0, u32::MAX), 1);
        assert_eq!(carry.as_ref(), &[1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    }
}
