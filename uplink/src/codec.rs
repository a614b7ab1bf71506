//! The key and metadata codecs: every object key, listing prefix, cursor
//! and object metadata crosses to the satellite through these functions,
//! encrypted with the access's [`EncryptionStore`].

use std::collections::BTreeMap;

use satstore_proto::metainfo::{ObjectInfo, ObjectListItem};

use crate::encryption::{self, EncryptedMetadata, EncryptionStore, ObjectMetadata};
use crate::error::{Result, UplinkError};

/// Largest total size of custom metadata (keys + values), in bytes.
pub(crate) const MAX_CUSTOM_METADATA: usize = 2048;

/// The custom metadata key whose value is stored as the content type.
pub(crate) const CONTENT_TYPE_KEY: &str = "content-type";

/// The bytes sent as `encrypted_key` for an object key.
pub(crate) fn encrypt_key(store: &EncryptionStore, bucket: &str, key: &str) -> Result<Vec<u8>> {
    Ok(encryption::encrypt_path(store, bucket, key)?)
}

/// The encrypted form of a listing prefix (empty or ending with '/').
pub(crate) fn encrypt_prefix(
    store: &EncryptionStore,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<u8>> {
    Ok(encryption::encrypt_prefix(store, bucket, prefix)?)
}

/// The encrypted listing cursor for the plain `cursor` relative to the
/// plain `prefix` whose encrypted form is `enc_prefix`: relative too. A
/// cursor ending with '/' names a collapsed prefix item.
pub(crate) fn encrypt_cursor(
    store: &EncryptionStore,
    bucket: &str,
    prefix: &str,
    enc_prefix: &[u8],
    cursor: &str,
) -> Result<Vec<u8>> {
    if cursor.is_empty() {
        return Ok(Vec::new());
    }
    let full = format!("{prefix}{cursor}");
    let enc = if full.ends_with('/') {
        encryption::encrypt_prefix(store, bucket, &full)?
    } else {
        encryption::encrypt_path(store, bucket, &full)?
    };
    enc.strip_prefix(enc_prefix)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| UplinkError::Internal("encrypted cursor lost its prefix".into()))
}

/// The plain key (relative to the listed prefix) of a listing item, or
/// `None` when this access cannot decrypt it (written under another key).
pub(crate) fn decrypt_item_key(
    store: &EncryptionStore,
    bucket: &str,
    enc_prefix: &[u8],
    enc_rest: &[u8],
) -> Option<String> {
    match encryption::decrypt_relative(store, bucket, enc_prefix, enc_rest) {
        Ok(k) => Some(k),
        Err(e) => {
            tracing::debug!(bucket, error = %e, "skipping a listing item this access cannot decrypt");
            None
        }
    }
}

/// Checks custom metadata against the size limit.
pub(crate) fn check_custom(custom: &BTreeMap<String, String>) -> Result<()> {
    let total: usize = custom.iter().map(|(k, v)| k.len() + v.len()).sum();
    if total > MAX_CUSTOM_METADATA {
        return Err(UplinkError::InvalidArgument(format!(
            "custom metadata is {total} bytes, at most {MAX_CUSTOM_METADATA} are allowed"
        )));
    }
    if custom.keys().any(String::is_empty) {
        return Err(UplinkError::InvalidArgument(
            "custom metadata keys must not be empty".into(),
        ));
    }
    Ok(())
}

/// The metadata stored for an object: "content-type" moves out of the
/// custom map into its own field.
pub(crate) fn object_metadata(
    custom: &BTreeMap<String, String>,
    plain_size: u64,
    segment_size: u64,
) -> ObjectMetadata {
    let mut custom = custom.clone();
    let content_type = custom.remove(CONTENT_TYPE_KEY).unwrap_or_default();
    ObjectMetadata {
        content_type,
        custom,
        plain_size,
        segment_size,
    }
}

/// The custom map shown to the user for stored metadata.
pub(crate) fn custom_of(meta: &ObjectMetadata) -> BTreeMap<String, String> {
    let mut custom = meta.custom.clone();
    if !meta.content_type.is_empty() {
        custom.insert(CONTENT_TYPE_KEY.to_string(), meta.content_type.clone());
    }
    custom
}

/// Encrypts the metadata of object `key` with its content key.
pub(crate) fn encrypt_metadata(
    store: &EncryptionStore,
    bucket: &str,
    key: &str,
    meta: &ObjectMetadata,
) -> Result<EncryptedMetadata> {
    let content_key = encryption::content_key(store, bucket, key)?;
    Ok(encryption::encrypt_metadata(&content_key, meta)?)
}

/// Decrypts metadata of object `key`; `None` when the satellite sent none
/// (listings without metadata). A wrong key or altered bytes is an error.
fn decrypt_metadata(
    store: &EncryptionStore,
    bucket: &str,
    key: &str,
    enc: EncryptedMetadata,
) -> Result<Option<ObjectMetadata>> {
    if enc.encrypted_metadata.is_empty() && enc.encrypted_metadata_key.is_empty() {
        return Ok(None);
    }
    let content_key = encryption::content_key(store, bucket, key)?;
    Ok(Some(encryption::decrypt_metadata(&content_key, &enc)?))
}

/// Decrypts the metadata of an `ObjectInfo`.
pub(crate) fn info_metadata(
    store: &EncryptionStore,
    bucket: &str,
    key: &str,
    o: &ObjectInfo,
) -> Result<Option<ObjectMetadata>> {
    decrypt_metadata(
        store,
        bucket,
        key,
        EncryptedMetadata {
            encrypted_metadata: o.encrypted_metadata.clone(),
            encrypted_metadata_nonce: o.encrypted_metadata_nonce.clone(),
            encrypted_metadata_key: o.encrypted_metadata_key.clone(),
        },
    )
}

/// Decrypts the metadata of a listing item.
pub(crate) fn item_metadata(
    store: &EncryptionStore,
    bucket: &str,
    key: &str,
    o: &ObjectListItem,
) -> Result<Option<ObjectMetadata>> {
    decrypt_metadata(
        store,
        bucket,
        key,
        EncryptedMetadata {
            encrypted_metadata: o.encrypted_metadata.clone(),
            encrypted_metadata_nonce: o.encrypted_metadata_nonce.clone(),
            encrypted_metadata_key: o.encrypted_metadata_key.clone(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encryption::{Key, PathCipher};

    fn store(cipher: PathCipher) -> EncryptionStore {
        EncryptionStore::new(Key::from_bytes([2; 32]), cipher)
    }

    #[test]
    fn keys_prefixes_and_cursors() {
        let s = store(PathCipher::AesGcm);
        let enc = encrypt_key(&s, "b", "dir/sub/file").unwrap();
        assert!(!enc.windows(4).any(|w| w == b"file"));
        let p = encrypt_prefix(&s, "b", "dir/").unwrap();
        assert!(enc.starts_with(&p));
        let rel = &enc[p.len()..];
        assert_eq!(decrypt_item_key(&s, "b", &p, rel).unwrap(), "sub/file");
        assert_eq!(
            encrypt_cursor(&s, "b", "dir/", &p, "sub/file").unwrap(),
            rel
        );
        let sub = encrypt_cursor(&s, "b", "dir/", &p, "sub/").unwrap();
        assert!(rel.starts_with(&sub));
        assert!(encrypt_cursor(&s, "b", "dir/", &p, "").unwrap().is_empty());
        // Another key: the item is skipped, not garbage.
        let other = EncryptionStore::new(Key::from_bytes([3; 32]), PathCipher::AesGcm);
        let p2 = encrypt_prefix(&other, "b", "dir/").unwrap();
        assert!(decrypt_item_key(&other, "b", &p2, rel).is_none());
        // The none cipher keeps keys in the clear.
        let plain = store(PathCipher::None);
        assert_eq!(encrypt_key(&plain, "b", "a/b").unwrap(), b"a/b");
        assert_eq!(encrypt_cursor(&plain, "b", "a/", b"a/", "x").unwrap(), b"x");
    }

    #[test]
    fn metadata_round_trips_and_detects_tampering() {
        let s = store(PathCipher::AesGcm);
        let mut custom = BTreeMap::new();
        custom.insert("note".to_string(), "hi".to_string());
        custom.insert(CONTENT_TYPE_KEY.to_string(), "text/plain".to_string());
        let meta = object_metadata(&custom, 10, 64);
        assert_eq!(meta.content_type, "text/plain");
        assert!(!meta.custom.contains_key(CONTENT_TYPE_KEY));
        assert_eq!(custom_of(&meta), custom);
        let enc = encrypt_metadata(&s, "b", "k", &meta).unwrap();
        assert!(!enc.encrypted_metadata.windows(2).any(|w| w == b"hi"));
        assert_eq!(
            decrypt_metadata(&s, "b", "k", enc.clone()).unwrap(),
            Some(meta)
        );
        // Under another key name, or altered: errors.
        assert!(decrypt_metadata(&s, "b", "other", enc.clone()).is_err());
        let mut bad = enc;
        bad.encrypted_metadata[0] ^= 1;
        let e = decrypt_metadata(&s, "b", "k", bad).unwrap_err();
        assert!(e.to_string().contains("tampered"), "{e}");
        assert_eq!(
            decrypt_metadata(&s, "b", "k", EncryptedMetadata::default()).unwrap(),
            None
        );
    }

    #[test]
    fn custom_metadata_limits() {
        let mut m = BTreeMap::new();
        m.insert("k".to_string(), "v".repeat(MAX_CUSTOM_METADATA - 1));
        assert!(check_custom(&m).is_ok());
        m.insert("k2".to_string(), "v".into());
        assert!(check_custom(&m).is_err());
        let mut empty_key = BTreeMap::new();
        empty_key.insert(String::new(), "v".to_string());
        assert!(check_custom(&empty_key).is_err());
    }
}
