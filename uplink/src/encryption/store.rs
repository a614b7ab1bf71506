//! The encryption store of an access grant: which key encrypts which
//! (bucket, prefix), and its conversion to and from proto
//! `access.v1.EncryptionAccess`.
//!
//! Lookup: the entry with the longest unencrypted prefix that is a
//! component-wise prefix of the path wins; otherwise the default key chain
//! (`derive_key(default, "path:" ‖ bucket)`, then one step per component).
//! [`EncryptionStore::limit_to`] makes a store with only the keys *at* the
//! shared prefixes, so its holder can decrypt inside them and nowhere else.
//! `prefix_key` walks a plain prefix from its base with the component
//! primitives: the encrypted prefix and the key at its end.

use satstore_proto::access::{
    EncryptionAccess as EncryptionAccessWire, StoreEntry as StoreEntryWire,
};

use super::component::{PathCipher, encrypt_components};
use super::error::{EncryptionError, Result};
use super::keys::{Key, derive_key};

/// A key override: everything in `bucket` under `unencrypted_prefix` is
/// encrypted starting from `key` with `cipher`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreEntry {
    /// Bucket name.
    pub bucket: String,
    /// Plain prefix, ending with '/' (or empty = the whole bucket).
    pub unencrypted_prefix: String,
    /// The same prefix as stored on the satellite (ends with '/' or empty).
    pub encrypted_prefix: Vec<u8>,
    /// The key at the prefix: the next component is encrypted with it.
    pub key: Key,
    /// Path cipher below the prefix.
    pub cipher: PathCipher,
}

/// The keys an access grant holds (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionStore {
    default_key: Option<Key>,
    default_cipher: PathCipher,
    entries: Vec<StoreEntry>,
}

/// Where a path's encryption starts: the matched entry (or the bucket key
/// of the default chain) and the part of the path it covers.
#[derive(Debug)]
pub(crate) struct Base<'a> {
    /// Key at the end of the matched prefix.
    pub key: Key,
    /// Cipher for the components after the prefix.
    pub cipher: PathCipher,
    /// The matched plain prefix (empty for the default chain).
    pub plain_prefix: &'a str,
    /// The matched encrypted prefix (empty for the default chain).
    pub enc_prefix: &'a [u8],
}

/// True when `prefix` is a component-wise prefix of `path`: empty, or
/// ending with '/' and a byte prefix.
fn is_component_prefix(prefix: &[u8], path: &[u8]) -> bool {
    prefix.is_empty() || (prefix.last() == Some(&b'/') && path.starts_with(prefix))
}

/// Rejects a prefix that is neither empty nor ends with '/'.
pub(crate) fn check_prefix(prefix: &str) -> Result<()> {
    if prefix.is_empty() || prefix.ends_with('/') {
        Ok(())
    } else {
        Err(EncryptionError::InvalidArgument(format!(
            "prefix {prefix:?} must end with '/' (or be empty for the whole bucket)"
        )))
    }
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

impl EncryptionStore {
    /// A store whose default key encrypts every bucket (a passphrase access).
    pub fn new(default_key: Key, default_cipher: PathCipher) -> Self {
        Self {
            default_key: Some(default_key),
            default_cipher,
            entries: Vec::new(),
        }
    }

    /// A store with no keys yet: add some with
    /// [`override_encryption_key`](Self::override_encryption_key).
    pub fn empty(default_cipher: PathCipher) -> Self {
        Self {
            default_key: None,
            default_cipher,
            entries: Vec::new(),
        }
    }

    /// The default (root) key, if the store has one.
    pub fn default_key(&self) -> Option<&Key> {
        self.default_key.as_ref()
    }

    /// The path cipher of the default key chain.
    pub fn default_cipher(&self) -> PathCipher {
        self.default_cipher
    }

    /// The key overrides.
    pub fn entries(&self) -> &[StoreEntry] {
        &self.entries
    }

    /// The base for encrypting the plain `path` (object key or prefix).
    pub(crate) fn lookup_plain<'a>(&'a self, bucket: &str, path: &str) -> Result<Base<'a>> {
        let best = self
            .entries
            .iter()
            .filter(|e| e.bucket == bucket)
            .filter(|e| is_component_prefix(e.unencrypted_prefix.as_bytes(), path.as_bytes()))
            .max_by_key(|e| e.unencrypted_prefix.len());
        self.base(bucket, best)
    }

    /// The base for decrypting the encrypted `enc` (object key or prefix).
    pub(crate) fn lookup_encrypted<'a>(&'a self, bucket: &str, enc: &[u8]) -> Result<Base<'a>> {
        let best = self
            .entries
            .iter()
            .filter(|e| e.bucket == bucket)
            .filter(|e| is_component_prefix(&e.encrypted_prefix, enc))
            .max_by_key(|e| e.encrypted_prefix.len());
        self.base(bucket, best)
    }

    fn base<'a>(&'a self, bucket: &str, entry: Option<&'a StoreEntry>) -> Result<Base<'a>> {
        match (entry, &self.default_key) {
            (Some(e), _) => Ok(Base {
                key: e.key.clone(),
                cipher: e.cipher,
                plain_prefix: &e.unencrypted_prefix,
                enc_prefix: &e.encrypted_prefix,
            }),
            (None, Some(default)) => {
                let mut msg = Vec::with_capacity(5 + bucket.len());
                msg.extend_from_slice(b"path:");
                msg.extend_from_slice(bucket.as_bytes());
                Ok(Base {
                    key: derive_key(default, &msg),
                    cipher: self.default_cipher,
                    plain_prefix: "",
                    enc_prefix: &[],
                })
            }
            (None, None) => Err(EncryptionError::NoKey {
                bucket: bucket.to_owned(),
            }),
        }
    }

    /// Makes `key` the key at `prefix` of `bucket` (ends with '/' or is empty
    /// for the whole bucket): objects below it are encrypted from `key`
    /// instead of the default chain. The encrypted prefix is computed with
    /// the store as it is; an existing entry for the same prefix is replaced.
    pub fn override_encryption_key(&mut self, bucket: &str, prefix: &str, key: Key) -> Result<()> {
        check_prefix(prefix)?;
        if bucket.is_empty() {
            return Err(EncryptionError::InvalidArgument(
                "bucket name is empty".into(),
            ));
        }
        let (encrypted_prefix, cipher) = if prefix.is_empty() {
            let cipher = match self.lookup_plain(bucket, "") {
                Ok(base) => base.cipher,
                Err(_) => self.default_cipher,
            };
            (Vec::new(), cipher)
        } else {
            let (enc, _, cipher) = prefix_key(self, bucket, prefix)?;
            (enc, cipher)
        };
        self.entries
            .retain(|e| !(e.bucket == bucket && e.unencrypted_prefix == prefix));
        self.entries.push(StoreEntry {
            bucket: bucket.to_owned(),
            unencrypted_prefix: prefix.to_owned(),
            encrypted_prefix,
            key,
            cipher,
        });
        Ok(())
    }

    /// A store holding only the keys at the given (bucket, prefix) pairs
    /// (prefix ends with '/' or is empty = whole bucket) and no default key:
    /// the recipient of a shared access decrypts inside those prefixes and
    /// gets [`EncryptionError::NoKey`] everywhere else.
    pub fn limit_to(&self, prefixes: &[(&str, &str)]) -> Result<EncryptionStore> {
        let mut limited = EncryptionStore::empty(self.default_cipher);
        for &(bucket, prefix) in prefixes {
            check_prefix(prefix)?;
            let (encrypted_prefix, key, cipher) = prefix_key(self, bucket, prefix)?;
            limited
                .entries
                .retain(|e| !(e.bucket == bucket && e.unencrypted_prefix == prefix));
            limited.entries.push(StoreEntry {
                bucket: bucket.to_owned(),
                unencrypted_prefix: prefix.to_owned(),
                encrypted_prefix,
                key,
                cipher,
            });
        }
        Ok(limited)
    }

    /// The wire form (proto `access.v1.EncryptionAccess`).
    pub fn to_wire(&self) -> EncryptionAccessWire {
        EncryptionAccessWire {
            default_key: self
                .default_key
                .as_ref()
                .map(|k| k.as_bytes().to_vec())
                .unwrap_or_default(),
            store_entries: self
                .entries
                .iter()
                .map(|e| StoreEntryWire {
                    bucket: e.bucket.clone(),
                    unencrypted_prefix: e.unencrypted_prefix.as_bytes().to_vec(),
                    encrypted_prefix: e.encrypted_prefix.clone(),
                    key: e.key.as_bytes().to_vec(),
                    path_cipher: e.cipher.to_wire(),
                })
                .collect(),
            default_path_cipher: self.default_cipher.to_wire(),
        }
    }

    /// Parses and validates the wire form received in an access grant.
    pub fn from_wire(wire: &EncryptionAccessWire) -> Result<Self> {
        let default_key = if wire.default_key.is_empty() {
            None
        } else {
            Some(Key::from_slice(&wire.default_key)?)
        };
        let default_cipher = PathCipher::from_wire(wire.default_path_cipher)?;
        let bad = |reason: String| EncryptionError::Malformed {
            what: "encryption access entry",
            reason,
        };
        let mut entries = Vec::with_capacity(wire.store_entries.len());
        for e in &wire.store_entries {
            if e.bucket.is_empty() {
                return Err(bad("empty bucket name".into()));
            }
            let unencrypted_prefix = String::from_utf8(e.unencrypted_prefix.clone())
                .map_err(|_| bad("unencrypted prefix is not UTF-8".into()))?;
            check_prefix(&unencrypted_prefix).map_err(|err| bad(err.to_string()))?;
            let enc = &e.encrypted_prefix;
            if !(enc.is_empty() || enc.ends_with(b"/")) {
                return Err(bad("encrypted prefix must end with '/' or be empty".into()));
            }
            let plain_parts = unencrypted_prefix.bytes().filter(|&b| b == b'/').count();
            let enc_parts = enc.iter().filter(|&&b| b == b'/').count();
            if plain_parts != enc_parts {
                return Err(bad(format!(
                    "prefixes have {plain_parts} plain and {enc_parts} encrypted components"
                )));
            }
            entries.push(StoreEntry {
                bucket: e.bucket.clone(),
                unencrypted_prefix,
                encrypted_prefix: enc.clone(),
                key: Key::from_slice(&e.key)?,
                cipher: PathCipher::from_wire(e.path_cipher)?,
            });
        }
        Ok(Self {
            default_key,
            default_cipher,
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encryption::path::{content_key, decrypt_relative};
    use crate::encryption::path::{decrypt_path, encrypt_path, encrypt_prefix};

    fn owner() -> EncryptionStore {
        EncryptionStore::new(Key::from_bytes([3; 32]), PathCipher::AesGcm)
    }

    #[test]
    fn shared_prefix_store_decrypts_inside_and_not_outside() {
        let owner = owner();
        let shared = owner.limit_to(&[("photos", "2024/trips/")]).expect("limit");
        assert!(
            shared.default_key().is_none(),
            "the root key must not be shared"
        );
        assert_eq!(shared.entries().len(), 1);

        // Inside: same ciphertext as the owner's, and both decrypt it.
        let inside = "2024/trips/rome/colosseum.jpg";
        let enc = encrypt_path(&owner, "photos", inside).expect("owner encrypts");
        assert_eq!(
            encrypt_path(&shared, "photos", inside).expect("recipient encrypts"),
            enc
        );
        assert_eq!(
            decrypt_path(&shared, "photos", &enc).expect("recipient decrypts"),
            inside
        );
        assert_eq!(
            content_key(&shared, "photos", inside).expect("content key"),
            content_key(&owner, "photos", inside).expect("content key")
        );

        // Outside: a sibling prefix, the parent, another bucket.
        for (bucket, outside) in [
            ("photos", "2024/work/payslip.pdf"),
            ("photos", "2024/trips"),
            ("photos", "2024/tripsX/a"),
            ("docs", "2024/trips/rome/colosseum.jpg"),
        ] {
            let enc = encrypt_path(&owner, bucket, outside).expect("owner encrypts");
            assert_eq!(
                decrypt_path(&shared, bucket, &enc),
                Err(EncryptionError::NoKey {
                    bucket: bucket.into()
                }),
                "{bucket}/{outside} must stay unreadable"
            );
            assert!(encrypt_path(&shared, bucket, outside).is_err());
            assert!(content_key(&shared, bucket, outside).is_err());
        }
        // Listing the shared prefix works, listing its parent does not.
        let enc_prefix = encrypt_prefix(&owner, "photos", "2024/trips/").expect("prefix");
        assert_eq!(
            encrypt_prefix(&shared, "photos", "2024/trips/").expect("prefix"),
            enc_prefix
        );
        let rest = &encrypt_path(&owner, "photos", inside).expect("enc")[enc_prefix.len()..];
        assert_eq!(
            decrypt_relative(&shared, "photos", &enc_prefix, rest).expect("relative"),
            "rome/colosseum.jpg"
        );
        assert!(encrypt_prefix(&shared, "photos", "2024/").is_err());
    }

    #[test]
    fn whole_bucket_share_and_reshare() {
        let owner = owner();
        let bucket_only = owner.limit_to(&[("photos", "")]).expect("limit");
        let enc = encrypt_path(&owner, "photos", "a/b").expect("enc");
        assert_eq!(
            decrypt_path(&bucket_only, "photos", &enc).expect("dec"),
            "a/b"
        );
        let other = encrypt_path(&owner, "docs", "a/b").expect("enc");
        assert!(decrypt_path(&bucket_only, "docs", &other).is_err());

        // A recipient can narrow further but never widen.
        let narrower = bucket_only.limit_to(&[("photos", "a/")]).expect("narrow");
        assert_eq!(decrypt_path(&narrower, "photos", &enc).expect("dec"), "a/b");
        assert!(bucket_only.limit_to(&[("docs", "")]).is_err());
        assert!(narrower.limit_to(&[("photos", "")]).is_err());
    }

    #[test]
    fn override_key_is_used_below_its_prefix_only() {
        let mut store = owner();
        let before = encrypt_path(&store, "b", "users/alice/notes.txt").expect("enc");
        let tenant = Key::from_bytes([9; 32]);
        store
            .override_encryption_key("b", "users/alice/", tenant.clone())
            .expect("override");

        let after = encrypt_path(&store, "b", "users/alice/notes.txt").expect("enc");
        let enc_prefix = encrypt_prefix(&store, "b", "users/alice/").expect("prefix");
        assert!(after.starts_with(&enc_prefix), "the prefix is kept");
        assert_ne!(after, before, "the component below uses the tenant key");
        assert_eq!(
            decrypt_path(&store, "b", &after).expect("dec"),
            "users/alice/notes.txt"
        );

        // A store with only the tenant key (as the app would build it for
        // the user) reads the same objects.
        let mut app = EncryptionStore::empty(PathCipher::AesGcm);
        app.entries.push(store.entries()[0].clone());
        assert_eq!(
            decrypt_path(&app, "b", &after).expect("dec"),
            "users/alice/notes.txt"
        );

        // Other users still use the default chain.
        let bob = encrypt_path(&store, "b", "users/bob/x").expect("enc");
        assert_eq!(
            bob,
            encrypt_path(&owner(), "b", "users/bob/x").expect("enc")
        );

        // Overriding again replaces the entry.
        store
            .override_encryption_key("b", "users/alice/", Key::from_bytes([8; 32]))
            .expect("again");
        assert_eq!(store.entries().len(), 1);
        assert!(
            decrypt_path(&store, "b", &after).is_err(),
            "old ciphertext, new key"
        );
    }

    #[test]
    fn override_rejects_bad_prefixes() {
        let mut store = owner();
        for bad in ["users", "users/alice"] {
            assert!(matches!(
                store.override_encryption_key("b", bad, Key::from_bytes([1; 32])),
                Err(EncryptionError::InvalidArgument(_))
            ));
        }
        assert!(
            store
                .override_encryption_key("", "a/", Key::from_bytes([1; 32]))
                .is_err()
        );
        assert!(store.limit_to(&[("b", "no-slash")]).is_err());
        // Without any key the encrypted prefix cannot be computed.
        let mut empty = EncryptionStore::empty(PathCipher::AesGcm);
        assert!(
            empty
                .override_encryption_key("b", "x/", Key::from_bytes([1; 32]))
                .is_err()
        );
        empty
            .override_encryption_key("b", "", Key::from_bytes([1; 32]))
            .expect("whole bucket");
        assert!(encrypt_path(&empty, "b", "x/y").is_ok());
    }

    #[test]
    fn longest_prefix_wins() {
        let mut store = owner();
        store
            .override_encryption_key("b", "a/", Key::from_bytes([4; 32]))
            .expect("a");
        store
            .override_encryption_key("b", "a/b/", Key::from_bytes([5; 32]))
            .expect("a/b");
        let only_ab = EncryptionStore {
            default_key: None,
            default_cipher: PathCipher::AesGcm,
            entries: store
                .entries()
                .iter()
                .filter(|e| e.unencrypted_prefix == "a/b/")
                .cloned()
                .collect(),
        };
        let enc = encrypt_path(&store, "b", "a/b/c").expect("enc");
        assert_eq!(
            decrypt_path(&only_ab, "b", &enc).expect("the a/b/ key suffices"),
            "a/b/c"
        );
        let enc_a = encrypt_path(&store, "b", "a/x").expect("enc");
        assert!(decrypt_path(&only_ab, "b", &enc_a).is_err());
        assert_eq!(decrypt_path(&store, "b", &enc_a).expect("dec"), "a/x");
    }

    #[test]
    fn wire_round_trip_and_validation() {
        let mut store = owner();
        store
            .override_encryption_key("b", "x/", Key::from_bytes([6; 32]))
            .expect("override");
        let limited = store.limit_to(&[("b", "x/y/"), ("c", "")]).expect("limit");
        for s in [&store, &limited, &EncryptionStore::empty(PathCipher::None)] {
            let wire = s.to_wire();
            assert_eq!(&EncryptionStore::from_wire(&wire).expect("parse"), s);
        }
        let wire = store.to_wire();
        assert_eq!(wire.default_path_cipher, 2);
        assert_eq!(wire.default_key, vec![3; 32]);

        let unspecified = EncryptionAccessWire {
            default_path_cipher: 0,
            ..wire.clone()
        };
        assert_eq!(
            EncryptionStore::from_wire(&unspecified)
                .expect("parse")
                .default_cipher(),
            PathCipher::AesGcm
        );
        let broken = [
            EncryptionAccessWire {
                default_key: vec![1; 31],
                ..wire.clone()
            },
            EncryptionAccessWire {
                default_path_cipher: 3,
                ..wire.clone()
            },
        ];
        for w in broken {
            assert!(EncryptionStore::from_wire(&w).is_err());
        }
        let entry = wire.store_entries[0].clone();
        let bad_entries = [
            StoreEntryWire {
                key: vec![0; 16],
                ..entry.clone()
            },
            StoreEntryWire {
                bucket: String::new(),
                ..entry.clone()
            },
            StoreEntryWire {
                unencrypted_prefix: b"x".to_vec(),
                ..entry.clone()
            },
            StoreEntryWire {
                unencrypted_prefix: vec![0xff, b'/'],
                ..entry.clone()
            },
            StoreEntryWire {
                encrypted_prefix: b"abc".to_vec(),
                ..entry.clone()
            },
            StoreEntryWire {
                encrypted_prefix: b"a/b/".to_vec(),
                ..entry.clone()
            },
            StoreEntryWire {
                path_cipher: 9,
                ..entry.clone()
            },
        ];
        for e in bad_entries {
            let w = EncryptionAccessWire {
                store_entries: vec![e.clone()],
                ..wire.clone()
            };
            assert!(
                EncryptionStore::from_wire(&w).is_err(),
                "{e:?} must be rejected"
            );
        }
    }
}
