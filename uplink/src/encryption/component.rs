//! The per-component primitives of object key encryption: the
//! [`PathCipher`], one component's key, nonce, sealing and opening, and the
//! escaping that keeps '/' out of encrypted components. A leaf under
//! [`super::store`] (which walks prefixes with it) and [`super::path`]
//! (which walks whole object keys): it knows nothing of stores.
//!
//! For component `c` under key `k`: `ck = derive_key(k, "path:" ‖ c)`,
//! `nonce = HMAC-SHA512(ck, "nonce")[..12]`,
//! `ciphertext = nonce ‖ AES-256-GCM_k(c, nonce, aad = "")`, next `k = ck`.

use ring::aead::{Aad, NONCE_LEN, Nonce};
use ring::hmac;

use super::error::{EncryptionError, Result, auth_error};
use super::keys::{Key, derive_key};

/// How object keys are encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathCipher {
    /// Object keys stored in plain text (UTF-8 bytes of the key).
    None,
    /// Deterministic AES-256-GCM per component (the default).
    AesGcm,
}

impl PathCipher {
    /// The proto value (`CipherSuite`): 1 = none, 2 = AES-GCM.
    pub fn to_wire(self) -> u32 {
        match self {
            PathCipher::None => 1,
            PathCipher::AesGcm => 2,
        }
    }

    /// Parses the proto value; 0 (unspecified) means AES-GCM.
    pub fn from_wire(value: u32) -> Result<Self> {
        match value {
            0 | 2 => Ok(PathCipher::AesGcm),
            1 => Ok(PathCipher::None),
            other => Err(EncryptionError::Malformed {
                what: "path cipher",
                reason: format!("unsupported cipher suite {other} (1 = none, 2 = AES-GCM)"),
            }),
        }
    }
}

/// GCM tag length.
const TAG_LEN: usize = 16;

/// `derive_key(k, "path:" ‖ component)`.
fn component_key(key: &Key, component: &[u8]) -> Key {
    let mut msg = Vec::with_capacity(5 + component.len());
    msg.extend_from_slice(b"path:");
    msg.extend_from_slice(component);
    derive_key(key, &msg)
}

/// `HMAC-SHA512(ck, "nonce")[..12]`.
fn component_nonce(ck: &Key) -> [u8; NONCE_LEN] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA512, ck.as_bytes()), b"nonce");
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&tag.as_ref()[..NONCE_LEN]);
    nonce
}

/// Encrypts one component under `key`; returns the encoded ciphertext
/// (appended to `out`) and the child key.
fn encrypt_component(
    key: &Key,
    cipher: PathCipher,
    component: &str,
    out: &mut Vec<u8>,
) -> Result<Key> {
    let ck = component_key(key, component.as_bytes());
    match cipher {
        PathCipher::None => out.extend_from_slice(component.as_bytes()),
        PathCipher::AesGcm => {
            let nonce = component_nonce(&ck);
            let mut sealed = Vec::with_capacity(NONCE_LEN + component.len() + TAG_LEN);
            sealed.extend_from_slice(&nonce);
            sealed.extend_from_slice(component.as_bytes());
            let tag = key
                .aead()
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::empty(),
                    &mut sealed[NONCE_LEN..],
                )
                .map_err(|_| {
                    EncryptionError::Internal("AES-GCM refused an object key component")
                })?;
            sealed.extend_from_slice(tag.as_ref());
            encode_component(&sealed, out);
        }
    }
    Ok(ck)
}

/// Decrypts one encoded component under `key`; returns it and the child key.
pub(crate) fn decrypt_component(
    key: &Key,
    cipher: PathCipher,
    encoded: &[u8],
) -> Result<(String, Key)> {
    let (plain, nonce) = match cipher {
        PathCipher::None => (encoded.to_vec(), None),
        PathCipher::AesGcm => {
            let mut sealed = decode_component(encoded)?;
            if sealed.len() < NONCE_LEN + TAG_LEN {
                return Err(auth_error("object key component (too short)"));
            }
            let mut nonce = [0u8; NONCE_LEN];
            nonce.copy_from_slice(&sealed[..NONCE_LEN]);
            let len = key
                .aead()
                .open_in_place(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::empty(),
                    &mut sealed[NONCE_LEN..],
                )
                .map_err(|_| auth_error("object key component"))?
                .len();
            sealed.copy_within(NONCE_LEN..NONCE_LEN + len, 0);
            sealed.truncate(len);
            (sealed, Some(nonce))
        }
    };
    let ck = component_key(key, &plain);
    if nonce.is_some_and(|n| n != component_nonce(&ck)) {
        // The tag checked out, but the nonce is not the one this plaintext
        // derives: not produced by this scheme.
        return Err(auth_error("object key component (nonce)"));
    }
    let text = String::from_utf8(plain).map_err(|_| EncryptionError::Malformed {
        what: "object key component",
        reason: "not UTF-8".into(),
    })?;
    Ok((text, ck))
}

/// Appends `bytes` encoded so the result never contains '/' (0x2f):
/// empty -> `[0x01]`; otherwise `0x02` then the bytes with
/// 0x2e,0x2f -> 0x2e 0x01 / 0x2e 0x02; 0xfe,0xff -> 0xfe 0x01 / 0xfe 0x02;
/// 0x00,0x01 -> 0x01 0x01 / 0x01 0x02 (Storj's encoding; 0x00 and 0xff stay
/// free for listing cursors).
pub fn encode_component(bytes: &[u8], out: &mut Vec<u8>) {
    if bytes.is_empty() {
        out.push(0x01);
        return;
    }
    out.reserve(bytes.len() + bytes.len() / 8 + 1);
    out.push(0x02);
    for &b in bytes {
        match b {
            0x2e => out.extend_from_slice(&[0x2e, 0x01]),
            0x2f => out.extend_from_slice(&[0x2e, 0x02]),
            0xfe => out.extend_from_slice(&[0xfe, 0x01]),
            0xff => out.extend_from_slice(&[0xfe, 0x02]),
            0x00 => out.extend_from_slice(&[0x01, 0x01]),
            0x01 => out.extend_from_slice(&[0x01, 0x02]),
            other => out.push(other),
        }
    }
}

/// Reverses [`encode_component`]; rejects anything it cannot produce.
pub fn decode_component(encoded: &[u8]) -> Result<Vec<u8>> {
    let bad = |reason: &str| EncryptionError::Malformed {
        what: "encrypted object key component",
        reason: reason.into(),
    };
    match encoded.split_first() {
        Some((0x01, [])) => Ok(Vec::new()),
        Some((0x02, rest)) if !rest.is_empty() => {
            let mut out = Vec::with_capacity(rest.len());
            let mut iter = rest.iter();
            while let Some(&b) = iter.next() {
                let mut escaped = |pair: [u8; 2]| match iter.next() {
                    Some(0x01) => Ok(pair[0]),
                    Some(0x02) => Ok(pair[1]),
                    _ => Err(bad("bad escape sequence")),
                };
                out.push(match b {
                    0x2e => escaped([0x2e, 0x2f])?,
                    0xfe => escaped([0xfe, 0xff])?,
                    0x01 => escaped([0x00, 0x01])?,
                    0x2f | 0xff | 0x00 => return Err(bad("unescaped reserved byte")),
                    other => other,
                });
            }
            Ok(out)
        }
        _ => Err(bad("unknown component prefix")),
    }
}

/// Encrypts the components of `rest` (an object key tail, no trailing
/// '/') from `base`, appending to `out`; returns the key after the last one.
pub(crate) fn encrypt_components(
    mut key: Key,
    cipher: PathCipher,
    rest: &str,
    out: &mut Vec<u8>,
) -> Result<Key> {
    for (i, component) in rest.split('/').enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        key = encrypt_component(&key, cipher, component, out)?;
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_never_emits_a_slash() {
        let mut all: Vec<u8> = (0..=255u8).collect();
        all.extend_from_slice(&[0x2e, 0x2f, 0x2f, 0xfe, 0xff, 0x00, 0x01, 0x01]);
        let samples: Vec<Vec<u8>> = vec![vec![], vec![0x2f], vec![0x01], vec![0x2e, 0x01], all];
        for bytes in samples {
            let mut enc = Vec::new();
            encode_component(&bytes, &mut enc);
            assert!(!enc.contains(&b'/'), "{enc:?}");
            assert!(!enc.contains(&0x00) && !enc.contains(&0xff));
            assert_eq!(decode_component(&enc).expect("decode"), bytes);
        }
        for bad in [
            &[][..],
            &[0x03],
            &[0x02],
            &[0x02, 0x2e],
            &[0x02, 0x2e, 0x03],
            &[0x02, b'/'],
            &[0x01, 0x01],
        ] {
            assert!(decode_component(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cipher_wire_values() {
        assert_eq!(PathCipher::from_wire(0), Ok(PathCipher::AesGcm));
        assert_eq!(PathCipher::from_wire(1), Ok(PathCipher::None));
        assert_eq!(PathCipher::from_wire(2), Ok(PathCipher::AesGcm));
        assert!(PathCipher::from_wire(3).is_err());
        assert_eq!(PathCipher::None.to_wire(), 1);
        assert_eq!(PathCipher::AesGcm.to_wire(), 2);
    }
}
