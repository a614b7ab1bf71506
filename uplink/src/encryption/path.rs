//! Object key ("path") encryption, one '/'-separated component at a time.
//!
//! For component `c` under key `k`: `ck = derive_key(k, "path:" ‖ c)`,
//! `nonce = HMAC-SHA512(ck, "nonce")[..12]`,
//! `ciphertext = nonce ‖ AES-256-GCM_k(c, nonce, aad = "")`, next `k = ck`.
//! Deterministic, so the satellite can look keys up, list by prefix and match
//! prefix caveats on ciphertext. Each encrypted component is encoded so it
//! never contains '/' (see [`encode_component`]) and components are re-joined
//! with '/', which keeps prefixes prefixes.
//!
//! With [`PathCipher::None`] the components are stored as-is (the satellite
//! sees object keys, listings stay in lexicographic order) but the key chain
//! is still walked, so content keys are the same kind of derived key.

use ring::aead::{Aad, NONCE_LEN, Nonce};
use ring::hmac;

use super::keys::{Key, derive_key};
use super::store::{EncryptionStore, check_prefix};
use super::{EncryptionError, Result, auth_error};

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
fn decrypt_component(key: &Key, cipher: PathCipher, encoded: &[u8]) -> Result<(String, Key)> {
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
fn encrypt_components(
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

/// Walks `prefix` (ends with '/' or empty) through the store: its encrypted
/// form, the key at its end and the cipher below it.
pub(crate) fn prefix_key(
    store: &EncryptionStore,
    bucket: &str,
    prefix: &str,
) -> Result<(Vec<u8>, Key, PathCipher)> {
    check_prefix(prefix)?;
    let base = store.lookup_plain(bucket, prefix)?;
    let mut out = base.enc_prefix.to_vec();
    let rest = &prefix[base.plain_prefix.len()..];
    let mut key = base.key;
    if let Some(body) = rest.strip_suffix('/') {
        key = encrypt_components(key, base.cipher, body, &mut out)?;
        out.push(b'/');
    }
    Ok((out, key, base.cipher))
}

/// Walks the object key `path`: its encrypted form and the key after its
/// last component.
fn walk_path(store: &EncryptionStore, bucket: &str, path: &str) -> Result<(Vec<u8>, Key)> {
    if path.is_empty() {
        return Err(EncryptionError::InvalidArgument(
            "object key is empty".into(),
        ));
    }
    let base = store.lookup_plain(bucket, path)?;
    let mut out = Vec::with_capacity(base.enc_prefix.len() + 2 * path.len() + 32);
    out.extend_from_slice(base.enc_prefix);
    let rest = &path[base.plain_prefix.len()..];
    let key = encrypt_components(base.key, base.cipher, rest, &mut out)?;
    Ok((out, key))
}

/// The encrypted form of object key `path` in `bucket`, as sent to the
/// satellite.
pub fn encrypt_path(store: &EncryptionStore, bucket: &str, path: &str) -> Result<Vec<u8>> {
    Ok(walk_path(store, bucket, path)?.0)
}

/// The encrypted form of `prefix` (ends with '/', or empty for the whole
/// bucket) for listings and caveats: a byte prefix of the encrypted form of
/// every object key under it. Needs a key unless the prefix is empty.
pub fn encrypt_prefix(store: &EncryptionStore, bucket: &str, prefix: &str) -> Result<Vec<u8>> {
    if prefix.is_empty() {
        return Ok(Vec::new());
    }
    Ok(prefix_key(store, bucket, prefix)?.0)
}

/// The key that wraps the content keys of object `path`:
/// `derive_key(key after the last component, "content")`.
pub fn content_key(store: &EncryptionStore, bucket: &str, path: &str) -> Result<Key> {
    let (_, key) = walk_path(store, bucket, path)?;
    Ok(derive_key(&key, b"content"))
}

/// Decrypts an encrypted object key (or an encrypted prefix ending with
/// '/', which decrypts to a plain prefix ending with '/'). A wrong key or a
/// changed byte is an error, never a wrong key string.
pub fn decrypt_path(store: &EncryptionStore, bucket: &str, enc: &[u8]) -> Result<String> {
    if enc.is_empty() {
        return Ok(String::new());
    }
    let base = store.lookup_encrypted(bucket, enc)?;
    let rest = &enc[base.enc_prefix.len()..];
    let mut out = String::with_capacity(base.plain_prefix.len() + rest.len());
    out.push_str(base.plain_prefix);
    let (body, is_prefix) = match rest.strip_suffix(b"/") {
        Some(body) => (body, true),
        None => (rest, false),
    };
    if rest.is_empty() {
        return Ok(out);
    }
    let mut key = base.key;
    for (i, component) in body.split(|&b| b == b'/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let (plain, next) = decrypt_component(&key, base.cipher, component)?;
        out.push_str(&plain);
        key = next;
    }
    if is_prefix {
        out.push('/');
    }
    Ok(out)
}

/// Decrypts a listing item: `enc_rest` is relative to the listed encrypted
/// prefix `enc_prefix` (ends with '/' or empty), as the satellite returns
/// it; the result is relative to the plain prefix. Keys for the rest are
/// derived from the prefix's key, so a store limited to that prefix works.
pub fn decrypt_relative(
    store: &EncryptionStore,
    bucket: &str,
    enc_prefix: &[u8],
    enc_rest: &[u8],
) -> Result<String> {
    if !(enc_prefix.is_empty() || enc_prefix.ends_with(b"/")) {
        return Err(EncryptionError::InvalidArgument(
            "encrypted prefix must end with '/' or be empty".into(),
        ));
    }
    let mut full = Vec::with_capacity(enc_prefix.len() + enc_rest.len());
    full.extend_from_slice(enc_prefix);
    full.extend_from_slice(enc_rest);
    let plain = decrypt_path(store, bucket, &full)?;
    // Plain and encrypted components correspond one to one and neither
    // contains '/', so the plain prefix is the first `n` components.
    let n = enc_prefix.iter().filter(|&&b| b == b'/').count();
    let mut cut = 0;
    for _ in 0..n {
        let Some(i) = plain[cut..].find('/') else {
            return Err(EncryptionError::Malformed {
                what: "listing item",
                reason: "decrypted key is shorter than its prefix".into(),
            });
        };
        cut += i + 1;
    }
    Ok(plain[cut..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(cipher: PathCipher) -> EncryptionStore {
        EncryptionStore::new(Key::from_bytes([1; 32]), cipher)
    }

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
    fn aes_paths_are_deterministic_and_round_trip() {
        let s = store(PathCipher::AesGcm);
        for path in [
            "a",
            "a/b/c.txt",
            "a/b/",
            "/leading",
            "a//b",
            "ünï/cødé/😀",
            "x.y/z",
        ] {
            let enc = encrypt_path(&s, "bkt", path).expect("enc");
            assert_eq!(
                enc,
                encrypt_path(&s, "bkt", path).expect("enc"),
                "deterministic"
            );
            assert_eq!(enc.split(|&b| b == b'/').count(), path.split('/').count());
            if path.len() >= 6 {
                assert!(
                    !enc.windows(path.len()).any(|w| w == path.as_bytes()),
                    "{path} leaks"
                );
            }
            assert_eq!(decrypt_path(&s, "bkt", &enc).expect("dec"), path);
        }
        // The bucket is part of the chain.
        assert_ne!(
            encrypt_path(&s, "b1", "k").expect("enc"),
            encrypt_path(&s, "b2", "k").expect("enc")
        );
        assert!(decrypt_path(&s, "b2", &encrypt_path(&s, "b1", "k").expect("enc")).is_err());
        assert!(encrypt_path(&s, "bkt", "").is_err());
    }

    #[test]
    fn prefixes_stay_prefixes() {
        let s = store(PathCipher::AesGcm);
        let prefix = encrypt_prefix(&s, "b", "a/b/").expect("prefix");
        assert!(prefix.ends_with(b"/"));
        assert_eq!(prefix.iter().filter(|&&b| b == b'/').count(), 2);
        for path in ["a/b/", "a/b/c", "a/b/c/d/e"] {
            let enc = encrypt_path(&s, "b", path).expect("enc");
            assert!(enc.starts_with(&prefix), "{path}");
        }
        let a = encrypt_prefix(&s, "b", "a/").expect("prefix");
        assert!(prefix.starts_with(&a));
        assert!(
            !encrypt_path(&s, "b", "a/bc")
                .expect("enc")
                .starts_with(&prefix)
        );
        assert_eq!(decrypt_path(&s, "b", &prefix).expect("dec prefix"), "a/b/");
        assert_eq!(encrypt_prefix(&s, "b", "").expect("root"), b"");
        assert!(matches!(
            encrypt_prefix(&s, "b", "a/b"),
            Err(EncryptionError::InvalidArgument(_))
        ));
    }

    #[test]
    fn decrypt_relative_items() {
        let s = store(PathCipher::AesGcm);
        let prefix = encrypt_prefix(&s, "b", "docs/2024/").expect("prefix");
        let full = encrypt_path(&s, "b", "docs/2024/q1/report.pdf").expect("enc");
        let rest = &full[prefix.len()..];
        assert_eq!(
            decrypt_relative(&s, "b", &prefix, rest).expect("rel"),
            "q1/report.pdf"
        );
        // A collapsed sub-prefix as a delimiter listing returns it.
        let sub = encrypt_prefix(&s, "b", "docs/2024/q1/").expect("prefix");
        assert_eq!(
            decrypt_relative(&s, "b", &prefix, &sub[prefix.len()..]).expect("rel"),
            "q1/"
        );
        // Root listing: the whole key.
        assert_eq!(
            decrypt_relative(&s, "b", b"", &full).expect("rel"),
            "docs/2024/q1/report.pdf"
        );
        assert!(decrypt_relative(&s, "b", b"docs", rest).is_err());
        // A rest listed under another prefix does not decrypt.
        let other = encrypt_prefix(&s, "b", "docs/2023/").expect("prefix");
        assert!(decrypt_relative(&s, "b", &other, rest).is_err());
    }

    #[test]
    fn flipped_bit_or_wrong_key_fails() {
        let s = store(PathCipher::AesGcm);
        let enc = encrypt_path(&s, "b", "secret/plan.txt").expect("enc");
        let mut flips = 0;
        for i in 0..enc.len() {
            for bit in 0..8 {
                let mut t = enc.clone();
                t[i] ^= 1 << bit;
                if t == enc {
                    continue;
                }
                flips += 1;
                let got = decrypt_path(&s, "b", &t);
                assert!(got.is_err(), "byte {i} bit {bit} decrypted to {got:?}");
            }
        }
        assert!(flips > 400);
        let other = EncryptionStore::new(Key::from_bytes([2; 32]), PathCipher::AesGcm);
        assert!(matches!(
            decrypt_path(&other, "b", &enc),
            Err(EncryptionError::Authentication { .. })
        ));
    }

    #[test]
    fn none_cipher_keeps_keys_and_order() {
        let s = store(PathCipher::None);
        let mut keys = vec![
            "b/2", "a", "a/b", "a0", "a/", "A", "z/y/x", "é", "a.b", "a-b",
        ];
        for k in &keys {
            let enc = encrypt_path(&s, "b", k).expect("enc");
            assert_eq!(enc, k.as_bytes(), "passes through");
            assert_eq!(decrypt_path(&s, "b", &enc).expect("dec"), *k);
        }
        let mut encrypted: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| encrypt_path(&s, "b", k).expect("enc"))
            .collect();
        keys.sort();
        encrypted.sort();
        let decrypted: Vec<String> = encrypted
            .iter()
            .map(|e| decrypt_path(&s, "b", e).expect("dec"))
            .collect();
        assert_eq!(decrypted, keys, "lexicographic order is kept");
        assert_eq!(encrypt_prefix(&s, "b", "a/b/").expect("prefix"), b"a/b/");
        // Content keys still come from the (secret) key chain, the same
        // chain whatever the path cipher.
        let ck = content_key(&s, "b", "a/b").expect("ck");
        assert_eq!(
            ck,
            content_key(&store(PathCipher::AesGcm), "b", "a/b").expect("ck")
        );
        let other = EncryptionStore::new(Key::from_bytes([2; 32]), PathCipher::None);
        assert_ne!(ck, content_key(&other, "b", "a/b").expect("ck"));
        assert!(decrypt_path(&s, "b", &[0xff, 0xfe]).is_err(), "not UTF-8");
    }

    #[test]
    fn content_keys_depend_on_the_full_path() {
        let s = store(PathCipher::AesGcm);
        let k = content_key(&s, "b", "a/b").expect("ck");
        assert_eq!(k, content_key(&s, "b", "a/b").expect("ck"));
        assert_ne!(k, content_key(&s, "b", "a/c").expect("ck"));
        assert_ne!(k, content_key(&s, "b", "a/b/").expect("ck"));
        assert_ne!(k, content_key(&s, "c", "a/b").expect("ck"));
        let other = EncryptionStore::new(Key::from_bytes([2; 32]), PathCipher::AesGcm);
        assert_ne!(k, content_key(&other, "b", "a/b").expect("ck"));
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
