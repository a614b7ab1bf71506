//! Client-side encryption: keys never leave the uplink.
//!
//! - [`keys`]: the 32-byte [`Key`], `derive_key` (HMAC-SHA512) and the
//!   passphrase -> root key derivation (Argon2id).
//! - `component`: the [`PathCipher`] and the per-component primitives of
//!   object key encryption (a leaf under `store` and `path`).
//! - [`store`]: the [`EncryptionStore`] of an access grant (default key,
//!   per-(bucket, prefix) overrides), prefix walks and its proto conversion.
//! - [`path`]: deterministic per-component object key encryption, so
//!   encrypted prefixes stay prefixes (listings, caveats).
//! - [`content`]: per-segment random content keys, key wrapping and the
//!   AES-256-GCM block stream of segment data.
//! - [`ranges`]: plaintext byte range -> block and ciphertext range.
//! - [`metadata`]: object metadata, encoded canonically and encrypted.
//! - `error`: [`EncryptionError`] and the helpers all of the above share.
//!
//! Imports run one way: `error` <- `keys` <- `component` <- `store` <-
//! `path`; `content` <- `ranges`, `metadata`. This file only re-exports.
//!
//! Everything here is pure: no I/O, no networking. Every decryption is
//! authenticated: a wrong key or a flipped bit is an
//! [`EncryptionError`], never garbage output.

mod component;
pub mod content;
mod error;
pub mod keys;
pub mod metadata;
pub mod path;
pub mod ranges;
pub mod store;

pub use component::PathCipher;
pub use content::{
    CIPHER_BLOCK, PLAIN_BLOCK, SegmentDecrypter, SegmentEncrypter, TAG_SIZE, WrappedKey,
    decrypt_segment, encrypt_segment, encrypted_size, unwrap_key, wrap_key,
};
pub(crate) use error::random_bytes;
pub use error::{EncryptionError, Result};
pub use keys::{
    KEY_SIZE, Key, derive_encryption_key, derive_key, derive_root_key, root_key_for_access,
};
pub use metadata::{EncryptedMetadata, ObjectMetadata, decrypt_metadata, encrypt_metadata};
pub use path::{content_key, decrypt_path, decrypt_relative, encrypt_path, encrypt_prefix};
pub use ranges::{BlockRange, block_range};
pub use store::{EncryptionStore, StoreEntry};

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole client-side flow: an owner uploads an object of two
    /// segments; a recipient of a prefix share lists, reads metadata and
    /// downloads a range; a stranger and a tamperer get errors.
    #[test]
    fn upload_share_download_flow() {
        let root = root_key_for_access(b"passphrase", b"project salt").expect("root key");
        let owner = EncryptionStore::new(root, PathCipher::AesGcm);
        let (bucket, key) = ("photos", "2024/rome/colosseum.jpg");

        // Upload: object key, segments with their own wrapped keys, metadata.
        let enc_key = encrypt_path(&owner, bucket, key).expect("object key");
        let derived = content_key(&owner, bucket, key).expect("content key");
        let seg_size = 2 * PLAIN_BLOCK as u64 + 100;
        let plain: Vec<u8> = (0..seg_size + PLAIN_BLOCK as u64 + 5000)
            .map(|i| (i % 241) as u8)
            .collect();
        let mut segments = Vec::new();
        for (index, chunk) in plain.chunks(seg_size as usize).enumerate() {
            let index = u32::try_from(index).expect("few segments");
            let seg_key = Key::random().expect("rng");
            let wrapped = wrap_key(&derived, &seg_key).expect("wrap");
            let mut enc = SegmentEncrypter::new(&seg_key, 0, index);
            let mut out = Vec::new();
            for piece in chunk.chunks(10_000) {
                enc.push(piece, &mut out).expect("push");
            }
            let size = enc.finish(&mut out).expect("finish");
            segments.push((index, wrapped, out, size));
        }
        let meta = ObjectMetadata {
            content_type: "image/jpeg".into(),
            plain_size: plain.len() as u64,
            segment_size: seg_size,
            ..Default::default()
        };
        let enc_meta = encrypt_metadata(&derived, &meta).expect("metadata");

        // Share "2024/" and download bytes that straddle a block boundary of
        // the second segment through the recipient's store only.
        let shared = owner.limit_to(&[(bucket, "2024/")]).expect("share");
        let prefix = encrypt_prefix(&shared, bucket, "2024/").expect("prefix");
        let listed =
            decrypt_relative(&shared, bucket, &prefix, &enc_key[prefix.len()..]).expect("list");
        assert_eq!(listed, "rome/colosseum.jpg");
        let name = decrypt_path(&shared, bucket, &enc_key).expect("name");
        let derived2 = content_key(&shared, bucket, &name).expect("content key");
        assert_eq!(
            decrypt_metadata(&derived2, &enc_meta).expect("metadata"),
            meta
        );

        let (index, wrapped, ciphertext, size) = &segments[1];
        let seg_key =
            unwrap_key(&derived2, &wrapped.encrypted_key, &wrapped.nonce).expect("unwrap");
        let range =
            block_range(*size, PLAIN_BLOCK as u64 - 10, PLAIN_BLOCK as u64 + 10).expect("range");
        let fetched = ciphertext[range.cipher_start as usize..range.cipher_end as usize].to_vec();
        let got = range
            .decrypt(&SegmentDecrypter::new(&seg_key, 0, *index), fetched)
            .expect("range");
        let at = seg_size as usize + PLAIN_BLOCK - 10;
        assert_eq!(got, &plain[at..at + 20]);

        // Someone with another passphrase learns nothing.
        let stranger = EncryptionStore::new(
            derive_encryption_key(b"passphrase", b"project salt").expect("key"),
            PathCipher::AesGcm,
        );
        assert!(matches!(
            decrypt_path(&stranger, bucket, &enc_key),
            Err(EncryptionError::Authentication { .. })
        ));
        let wrong = content_key(&stranger, bucket, key).expect("key");
        assert!(unwrap_key(&wrong, &wrapped.encrypted_key, &wrapped.nonce).is_err());
        assert!(decrypt_metadata(&wrong, &enc_meta).is_err());

        // A flipped bit in stored segment data is caught.
        let mut tampered = ciphertext.clone();
        tampered[CIPHER_BLOCK + 3] ^= 0x01;
        assert!(decrypt_segment(&seg_key, 0, *index, tampered, *size).is_err());
        assert_eq!(
            decrypt_segment(&seg_key, 0, *index, ciphertext.clone(), *size).expect("intact"),
            &plain[seg_size as usize..]
        );
    }
}
