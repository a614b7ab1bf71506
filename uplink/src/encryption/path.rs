//! Object key ("path") encryption, one '/'-separated component at a time:
//! whole keys and prefixes walked from the store's base key with the
//! per-component primitives of `component` (scheme described there).
//! Deterministic, so the satellite can look keys up, list by prefix and match
//! prefix caveats on ciphertext. Each encrypted component is encoded so it
//! never contains '/' (see [`encode_component`]) and components are re-joined
//! with '/', which keeps prefixes prefixes.
//!
//! With [`PathCipher::None`] the components are stored as-is (the satellite
//! sees object keys, listings stay in lexicographic order) but the key chain
//! is still walked, so content keys are the same kind of derived key.

pub use super::component::{PathCipher, decode_component, encode_component};
use super::component::{decrypt_component, encrypt_components};
use super::error::{EncryptionError, Result};
use super::keys::{Key, derive_key};
use super::store::{EncryptionStore, prefix_key};

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
}
