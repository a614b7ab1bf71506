//! Part ETags, sealed with AES-256-GCM (random nonce) under a key derived
//! from the object's content key, so the satellite stores them encrypted.
//! A leaf of `multipart`.

use ring::aead::{Aad, NONCE_LEN, Nonce};

use crate::encryption::{self, EncryptionStore, Key};
use crate::error::{Result, UplinkError};

/// The key sealing part ETags of one object.
pub(super) fn etag_key(store: &EncryptionStore, bucket: &str, key: &str) -> Result<Key> {
    let content = encryption::content_key(store, bucket, key)?;
    Ok(encryption::derive_key(&content, b"multipart part etag"))
}

/// Seals an ETag: nonce ‖ ciphertext ‖ tag (empty stays empty).
pub(super) fn seal_etag(key: &Key, etag: &[u8]) -> Result<Vec<u8>> {
    if etag.is_empty() {
        return Ok(Vec::new());
    }
    let mut nonce = [0u8; NONCE_LEN];
    encryption::random_bytes(&mut nonce)?;
    let mut buf = etag.to_vec();
    key.aead()
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(b"etag"),
            &mut buf,
        )
        .map_err(|_| UplinkError::Internal("AES-GCM refused to seal an etag".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buf);
    Ok(out)
}

/// Opens an ETag sealed by [`seal_etag`].
pub(super) fn open_etag(key: &Key, sealed: &[u8]) -> Result<Vec<u8>> {
    if sealed.is_empty() {
        return Ok(Vec::new());
    }
    let tampered = || {
        UplinkError::Internal(
            "object data is corrupt or was tampered with: a part etag does not decrypt".into(),
        )
    };
    if sealed.len() < NONCE_LEN {
        return Err(tampered());
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| tampered())?;
    let mut buf = body.to_vec();
    let plain = key
        .aead()
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(b"etag"),
            &mut buf,
        )
        .map_err(|_| tampered())?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_seal_open_and_detect_tampering() {
        let key = Key::from_bytes([4; 32]);
        assert!(seal_etag(&key, b"").unwrap().is_empty());
        assert!(open_etag(&key, b"").unwrap().is_empty());
        let sealed = seal_etag(&key, b"0123abcd").unwrap();
        assert!(!sealed.windows(8).any(|w| w == b"0123abcd"));
        assert_ne!(sealed, seal_etag(&key, b"0123abcd").unwrap(), "fresh nonce");
        assert_eq!(open_etag(&key, &sealed).unwrap(), b"0123abcd");
        let other = Key::from_bytes([5; 32]);
        assert!(open_etag(&other, &sealed).is_err());
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        let e = open_etag(&key, &bad).unwrap_err();
        assert!(e.to_string().contains("tampered"), "{e}");
        assert!(open_etag(&key, &[1, 2, 3]).is_err());
    }
}
