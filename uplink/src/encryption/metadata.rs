//! Object metadata: a tiny canonical encoding, encrypted with a fresh random
//! metadata key that is wrapped by the object's content key
//! ([`content_key`](super::path::content_key) of its path).
//!
//! On the wire (`ObjectInfo` / `CommitObjectRequest`):
//! - `encrypted_metadata` = AES-256-GCM(metadata key, zero nonce, encoding);
//!   the zero nonce is safe because the metadata key is new every time;
//! - `encrypted_metadata_key` / `encrypted_metadata_nonce` = the metadata key
//!   wrapped by the object's content key (random nonce).
//!
//! Encoding (version 1, integers little-endian): `0x01`, `plain_size` u64,
//! `segment_size` u64, `content_type` (u32 length + UTF-8), custom count
//! u32, then each (key, value) as two length-prefixed UTF-8 strings in
//! strictly ascending key order. Decoding rejects anything else, so every
//! metadata value has exactly one encoding.

use std::collections::BTreeMap;

use ring::aead::{Aad, NONCE_LEN, Nonce};

use super::content::{unwrap_key, wrap_key};
use super::error::{EncryptionError, Result, auth_error};
use super::keys::Key;

/// Encoding version byte.
const VERSION: u8 = 1;

/// What the uplink stores about an object, hidden from the satellite.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMetadata {
    /// MIME type given at upload (may be empty).
    pub content_type: String,
    /// User-defined key/value metadata.
    pub custom: BTreeMap<String, String>,
    /// Plain size of the whole object in bytes.
    pub plain_size: u64,
    /// Plain size of every segment but the last, in bytes.
    pub segment_size: u64,
}

/// Encrypted metadata as carried by `ObjectInfo` and `CommitObjectRequest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncryptedMetadata {
    /// Sealed encoding of the [`ObjectMetadata`].
    pub encrypted_metadata: Vec<u8>,
    /// Nonce that wrapped the metadata key.
    pub encrypted_metadata_nonce: Vec<u8>,
    /// The metadata key wrapped by the object's content key.
    pub encrypted_metadata_key: Vec<u8>,
}

impl ObjectMetadata {
    /// The canonical encoding; fails only for a string over 4 GiB.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let custom_len: usize = self.custom.iter().map(|(k, v)| 8 + k.len() + v.len()).sum();
        let mut out =
            Vec::with_capacity(1 + 16 + 4 + self.content_type.len() + 4 + custom_len + 16);
        out.push(VERSION);
        out.extend_from_slice(&self.plain_size.to_le_bytes());
        out.extend_from_slice(&self.segment_size.to_le_bytes());
        put_str(&mut out, &self.content_type)?;
        out.extend_from_slice(&len_u32(self.custom.len())?.to_le_bytes());
        for (k, v) in &self.custom {
            put_str(&mut out, k)?;
            put_str(&mut out, v)?;
        }
        Ok(out)
    }

    /// Parses the canonical encoding; anything else is an error.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader(bytes);
        if r.take(1)? != [VERSION] {
            return Err(malformed("unknown version"));
        }
        let plain_size = r.u64()?;
        let segment_size = r.u64()?;
        let content_type = r.string()?;
        let count = r.u32()?;
        let mut custom = BTreeMap::new();
        let mut last: Option<String> = None;
        for _ in 0..count {
            let k = r.string()?;
            let v = r.string()?;
            if last
                .as_ref()
                .is_some_and(|prev| prev.as_str() >= k.as_str())
            {
                return Err(malformed("custom keys not in strictly ascending order"));
            }
            last = Some(k.clone());
            custom.insert(k, v);
        }
        if !r.0.is_empty() {
            return Err(malformed("trailing bytes"));
        }
        Ok(Self {
            content_type,
            custom,
            plain_size,
            segment_size,
        })
    }
}

/// Lengths and counts are encoded as u32.
fn len_u32(len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| {
        EncryptionError::InvalidArgument(format!("metadata value of {len} bytes is too large"))
    })
}

fn put_str(out: &mut Vec<u8>, s: &str) -> Result<()> {
    out.extend_from_slice(&len_u32(s.len())?.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn malformed(reason: &str) -> EncryptionError {
    EncryptionError::Malformed {
        what: "object metadata",
        reason: reason.into(),
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    fn string(&mut self) -> Result<String> {
        let len = usize::try_from(self.u32()?).map_err(|_| malformed("length overflow"))?;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| malformed("string is not UTF-8"))
    }
}

/// Encrypts `meta` for object whose content key is `object_key` (a new
/// random metadata key each call).
pub fn encrypt_metadata(object_key: &Key, meta: &ObjectMetadata) -> Result<EncryptedMetadata> {
    let meta_key = Key::random()?;
    let wrapped = wrap_key(object_key, &meta_key)?;
    let mut sealed = meta.encode()?;
    meta_key
        .aead()
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key([0; NONCE_LEN]),
            Aad::empty(),
            &mut sealed,
        )
        .map_err(|_| EncryptionError::Internal("AES-GCM refused object metadata"))?;
    Ok(EncryptedMetadata {
        encrypted_metadata: sealed,
        encrypted_metadata_nonce: wrapped.nonce.to_vec(),
        encrypted_metadata_key: wrapped.encrypted_key,
    })
}

/// Decrypts metadata made by [`encrypt_metadata`]; a wrong object key or a
/// changed byte anywhere is an [`EncryptionError::Authentication`].
pub fn decrypt_metadata(object_key: &Key, enc: &EncryptedMetadata) -> Result<ObjectMetadata> {
    let meta_key = unwrap_key(
        object_key,
        &enc.encrypted_metadata_key,
        &enc.encrypted_metadata_nonce,
    )?;
    let mut buf = enc.encrypted_metadata.clone();
    let plain = meta_key
        .aead()
        .open_in_place(
            Nonce::assume_unique_for_key([0; NONCE_LEN]),
            Aad::empty(),
            &mut buf,
        )
        .map_err(|_| auth_error("object metadata"))?;
    ObjectMetadata::decode(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ObjectMetadata {
        ObjectMetadata {
            content_type: "image/jpeg".into(),
            custom: [("camera", "x100"), ("city", "Roma"), ("é", "ü")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            plain_size: 3 * 1024 * 1024 + 7,
            segment_size: 1024 * 1024,
        }
    }

    #[test]
    fn encoding_round_trips_and_is_canonical() {
        for meta in [sample(), ObjectMetadata::default()] {
            let bytes = meta.encode().expect("encode");
            assert_eq!(ObjectMetadata::decode(&bytes).expect("decode"), meta);
        }
        let bytes = sample().encode().expect("encode");
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(ObjectMetadata::decode(&trailing).is_err());
        for cut in 0..bytes.len() {
            assert!(
                ObjectMetadata::decode(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut version = bytes.clone();
        version[0] = 2;
        assert!(ObjectMetadata::decode(&version).is_err());
        // Same key twice / descending order is not canonical.
        let mut dup = vec![1];
        dup.extend_from_slice(&[0; 16]);
        put_str(&mut dup, "").expect("put");
        dup.extend_from_slice(&2u32.to_le_bytes());
        for k in ["b", "a"] {
            put_str(&mut dup, k).expect("put");
            put_str(&mut dup, "v").expect("put");
        }
        assert!(ObjectMetadata::decode(&dup).is_err());
    }

    #[test]
    fn encrypt_decrypt_round_trip() {
        let key = Key::from_bytes([4; 32]);
        let enc = encrypt_metadata(&key, &sample()).expect("enc");
        assert!(!enc.encrypted_metadata.windows(4).any(|w| w == b"Roma"));
        assert_eq!(enc.encrypted_metadata_nonce.len(), 12);
        assert_eq!(enc.encrypted_metadata_key.len(), 48);
        assert_eq!(decrypt_metadata(&key, &enc).expect("dec"), sample());
        assert_ne!(
            encrypt_metadata(&key, &sample()).expect("enc"),
            enc,
            "fresh key each time"
        );
    }

    #[test]
    fn wrong_key_or_tamper_fails() {
        let key = Key::from_bytes([4; 32]);
        let enc = encrypt_metadata(&key, &sample()).expect("enc");
        assert!(matches!(
            decrypt_metadata(&Key::from_bytes([5; 32]), &enc),
            Err(EncryptionError::Authentication { .. })
        ));
        for i in 0..enc.encrypted_metadata.len() {
            let mut t = enc.clone();
            t.encrypted_metadata[i] ^= 0x80;
            assert!(matches!(
                decrypt_metadata(&key, &t),
                Err(EncryptionError::Authentication { .. })
            ));
        }
        let mut t = enc.clone();
        t.encrypted_metadata_key[10] ^= 1;
        assert!(decrypt_metadata(&key, &t).is_err());
        let mut t = enc.clone();
        t.encrypted_metadata_nonce[0] ^= 1;
        assert!(decrypt_metadata(&key, &t).is_err());
        // Metadata of another object (other key) cannot be swapped in.
        let other = encrypt_metadata(&Key::from_bytes([6; 32]), &sample()).expect("enc");
        let swapped = EncryptedMetadata {
            encrypted_metadata: other.encrypted_metadata,
            ..enc.clone()
        };
        assert!(decrypt_metadata(&key, &swapped).is_err());
        assert!(decrypt_metadata(&key, &EncryptedMetadata::default()).is_err());
    }
}
