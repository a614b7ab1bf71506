//! Restricting and sharing an access offline: [`Access::share`] adds a
//! macaroon caveat (allowed actions, time window, allowed encrypted
//! prefixes) to the API key and keeps only the encryption keys of the
//! shared prefixes; [`Access::share_objects`] limits the caveat to exact
//! object keys instead. Parsing a grant re-limits its keys to the caveats.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use satstore_common::macaroon::{ApiKey, ApiKeyError, Caveat};

use crate::access::Access;
use crate::encryption::{self, EncryptionStore};
use crate::error::{Result, UplinkError};

/// What a shared access may do, and when (uplink-python's `Permission`).
/// At least one `allow_*` must be set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permission {
    /// Download objects (and stat them).
    pub allow_download: bool,
    /// Upload objects (and create buckets).
    pub allow_upload: bool,
    /// List objects and buckets.
    pub allow_list: bool,
    /// Delete objects and buckets.
    pub allow_delete: bool,
    /// The access is refused before this time.
    pub not_before: Option<SystemTime>,
    /// The access is refused after this time.
    pub not_after: Option<SystemTime>,
}

impl Permission {
    /// Every action, no time limit.
    pub fn full() -> Self {
        Permission {
            allow_download: true,
            allow_upload: true,
            allow_list: true,
            allow_delete: true,
            ..Default::default()
        }
    }

    /// Download and list only.
    pub fn read_only() -> Self {
        Permission {
            allow_download: true,
            allow_list: true,
            ..Default::default()
        }
    }

    /// Upload and list only.
    pub fn write_only() -> Self {
        Permission {
            allow_upload: true,
            allow_list: true,
            ..Default::default()
        }
    }
}

/// A bucket and a key prefix within it that a shared access is limited to
/// (uplink-python's `SharePrefix`). An empty prefix is the whole bucket; a
/// prefix not ending in '/' is taken as a folder (`"photos"` = `"photos/"`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SharePrefix {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix (plain text).
    pub prefix: String,
}

/// One object that a shared access is limited to exactly: not its folder,
/// not keys that merely start with it, and no listings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShareObject {
    /// Bucket name.
    pub bucket: String,
    /// Object key (plain text, non-empty).
    pub key: String,
}

fn unix(t: Option<SystemTime>) -> Result<i64> {
    match t {
        None => Ok(0),
        Some(t) => {
            let d = t.duration_since(UNIX_EPOCH).map_err(|_| {
                UplinkError::InvalidArgument("permission times must be after 1970".into())
            })?;
            Ok(i64::try_from(d.as_secs()).unwrap_or(i64::MAX).max(1))
        }
    }
}

/// The caveat for `permission` over the given encrypted prefixes and exact
/// encrypted keys.
fn caveat(
    permission: &Permission,
    allowed_paths: Vec<CaveatPath>,
    allowed_keys: Vec<CaveatPath>,
) -> Result<Caveat> {
    let p = permission;
    if !(p.allow_download || p.allow_upload || p.allow_list || p.allow_delete) {
        return Err(UplinkError::InvalidArgument(
            "permission allows nothing: set at least one of download, upload, list, delete".into(),
        ));
    }
    let not_before = unix(p.not_before)?;
    let not_after = unix(p.not_after)?;
    if not_before != 0 && not_after != 0 && not_after < not_before {
        return Err(UplinkError::InvalidArgument(
            "permission not_after is before not_before".into(),
        ));
    }
    let nonce: [u8; 8] = rand::random();
    Ok(Caveat {
        disallow_reads: !p.allow_download,
        disallow_writes: !p.allow_upload,
        disallow_lists: !p.allow_list,
        disallow_deletes: !p.allow_delete,
        allowed_paths,
        allowed_keys,
        not_before,
        not_after,
        nonce: nonce.to_vec(),
    })
}

/// `key` with one more caveat, or a clear error at the caveat limit.
fn restricted(key: &ApiKey, caveat: &Caveat) -> Result<ApiKey> {
    key.try_restrict(caveat).map_err(|e| match e {
        ApiKeyError::TooManyCaveats(_) => {
            UplinkError::InvalidArgument(format!("cannot restrict this access further: {e}"))
        }
        other => UplinkError::InvalidArgument(other.to_string()),
    })
}

/// A share prefix as a store prefix: empty, or ending with '/'.
fn folder(prefix: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_string()
    } else {
        format!("{prefix}/")
    }
}

impl Access {
    /// A new access restricted to `permission` and, unless `prefixes` is
    /// empty, to those prefixes: its API key carries one more caveat (the
    /// allowed paths are the ENCRYPTED prefixes, so the satellite enforces
    /// them) and its encryption store holds only the keys at the prefixes.
    /// Works offline; the result can be shared further (only narrower).
    pub fn share(&self, permission: &Permission, prefixes: &[SharePrefix]) -> Result<Access> {
        let mut plain = Vec::with_capacity(prefixes.len());
        let mut allowed = Vec::with_capacity(prefixes.len());
        for sp in prefixes {
            if sp.bucket.is_empty() {
                return Err(UplinkError::BucketNameInvalid(
                    "share prefix has an empty bucket name".into(),
                ));
            }
            let prefix = folder(&sp.prefix);
            let enc =
                encryption::encrypt_prefix(&self.encryption, &sp.bucket, &prefix).map_err(|e| {
                    UplinkError::from(e).with_context(&format!(
                        "cannot share sj://{}/{prefix}: this access holds no key for it",
                        sp.bucket
                    ))
                })?;
            allowed.push((sp.bucket.clone(), enc));
            plain.push((sp.bucket.clone(), prefix));
        }
        let caveat = caveat(permission, allowed, Vec::new())?;
        let encryption = if plain.is_empty() {
            self.encryption.clone()
        } else {
            let pairs: Vec<(&str, &str)> = plain
                .iter()
                .map(|(b, p)| (b.as_str(), p.as_str()))
                .collect();
            self.encryption.limit_to(&pairs)?
        };
        Ok(Access {
            satellite: self.satellite.clone(),
            api_key: restricted(&self.api_key, &caveat)?,
            encryption,
        })
    }

    /// A new access restricted to `permission` on exactly these objects
    /// (at least one): the caveat lists their ENCRYPTED keys, and the
    /// satellite allows only requests for those keys (no listings, nothing
    /// else in their folders). Path keys cannot be finer than a folder, so
    /// the encryption store keeps the key of each object's folder; the
    /// satellite's check is what limits the access to the objects.
    pub fn share_objects(
        &self,
        permission: &Permission,
        objects: &[ShareObject],
    ) -> Result<Access> {
        if objects.is_empty() {
            return Err(UplinkError::InvalidArgument(
                "share_objects needs at least one object".into(),
            ));
        }
        let mut folders = Vec::with_capacity(objects.len());
        let mut exact = Vec::with_capacity(objects.len());
        for o in objects {
            if o.bucket.is_empty() {
                return Err(UplinkError::BucketNameInvalid(
                    "shared object has an empty bucket name".into(),
                ));
            }
            if o.key.is_empty() {
                return Err(UplinkError::ObjectKeyInvalid(
                    "shared object has an empty key".into(),
                ));
            }
            let enc =
                encryption::encrypt_path(&self.encryption, &o.bucket, &o.key).map_err(|e| {
                    UplinkError::from(e).with_context(&format!(
                        "cannot share sj://{}/{}: this access holds no key for it",
                        o.bucket, o.key
                    ))
                })?;
            exact.push((o.bucket.clone(), enc));
            let folder = o.key.rfind('/').map_or("", |i| &o.key[..=i]);
            folders.push((o.bucket.clone(), folder.to_string()));
        }
        let caveat = caveat(permission, Vec::new(), exact)?;
        let pairs: Vec<(&str, &str)> = folders
            .iter()
            .map(|(b, p)| (b.as_str(), p.as_str()))
            .collect();
        Ok(Access {
            satellite: self.satellite.clone(),
            api_key: restricted(&self.api_key, &caveat)?,
            encryption: self.encryption.limit_to(&pairs)?,
        })
    }
}

/// A caveat's allowed path: bucket and encrypted key prefix.
pub(crate) type CaveatPath = (String, Vec<u8>);

/// True when `prefix` (a caveat path) covers everything under `path`.
fn covers(prefix: &[u8], path: &[u8]) -> bool {
    path.starts_with(prefix)
}

/// The paths every path-restricted caveat of `key` allows (their
/// intersection), or `None` when no caveat restricts paths.
pub(crate) fn allowed_paths(key: &ApiKey) -> Result<Option<Vec<CaveatPath>>> {
    let mut allowed: Option<BTreeSet<CaveatPath>> = None;
    for raw in key.caveats() {
        let c = Caveat::decode(raw).map_err(|e| {
            UplinkError::InvalidArgument(format!("invalid access grant: API key caveat: {e}"))
        })?;
        if !c.restricts_paths() {
            continue;
        }
        // Exact keys count as paths here: this only decides which keys
        // to keep (their folder's), the satellite enforces the rest.
        let paths: Vec<CaveatPath> = c.allowed_paths.into_iter().chain(c.allowed_keys).collect();
        allowed = Some(match allowed {
            None => paths.into_iter().collect(),
            Some(prev) => {
                let mut both = BTreeSet::new();
                for (b1, p1) in &prev {
                    for (b2, p2) in &paths {
                        if b1 != b2 {
                            continue;
                        }
                        if covers(p1, p2) {
                            both.insert((b2.clone(), p2.clone()));
                        } else if covers(p2, p1) {
                            both.insert((b1.clone(), p1.clone()));
                        }
                    }
                }
                both
            }
        });
    }
    Ok(allowed.map(|s| s.into_iter().collect()))
}

/// `store` limited to the keys the API key's path caveats allow: for each
/// allowed (bucket, encrypted prefix) the store can decrypt, the key at that
/// prefix; paths it holds no key for are dropped. Unrestricted keys keep
/// the whole store.
pub(crate) fn limit_to_caveats(key: &ApiKey, store: &EncryptionStore) -> Result<EncryptionStore> {
    let Some(allowed) = allowed_paths(key)? else {
        return Ok(store.clone());
    };
    let mut plain: Vec<(String, String)> = Vec::new();
    for (bucket, enc) in allowed {
        // A caveat prefix that does not end at a component boundary: the
        // keys of its folder (the satellite still enforces the exact prefix).
        let cut = enc.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
        let Ok(prefix) = encryption::decrypt_path(store, &bucket, &enc[..cut]) else {
            continue;
        };
        if store
            .limit_to(&[(bucket.as_str(), prefix.as_str())])
            .is_ok()
        {
            plain.push((bucket, prefix));
        }
    }
    let pairs: Vec<(&str, &str)> = plain
        .iter()
        .map(|(b, p)| (b.as_str(), p.as_str()))
        .collect();
    Ok(store.limit_to(&pairs)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encryption::{Key, PathCipher, decrypt_path, encrypt_path, encrypt_prefix};
    use crate::error::ErrorKind;
    use satstore_common::NodeId;
    use std::time::Duration;

    fn owner() -> Access {
        let id = NodeId::from_public_key(&[4; 32]);
        Access::new(
            format!("{id}@127.0.0.1:7777").parse().unwrap(),
            ApiKey::new(b"secret"),
            EncryptionStore::new(Key::from_bytes([7; 32]), PathCipher::AesGcm),
        )
    }

    fn sp(bucket: &str, prefix: &str) -> SharePrefix {
        SharePrefix {
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    #[test]
    fn share_adds_a_caveat_with_encrypted_prefixes() {
        let owner = owner();
        let now = SystemTime::now();
        let perm = Permission {
            allow_download: true,
            allow_list: true,
            not_after: Some(now + Duration::from_secs(3600)),
            ..Default::default()
        };
        let shared = owner
            .share(&perm, &[sp("photos", "2024/"), sp("docs", "")])
            .unwrap();
        assert_eq!(shared.api_key.head(), owner.api_key.head());
        assert_eq!(shared.api_key.caveats().len(), 1);
        let c = Caveat::decode(&shared.api_key.caveats()[0]).unwrap();
        assert!(!c.disallow_reads && !c.disallow_lists);
        assert!(c.disallow_writes && c.disallow_deletes);
        assert_eq!(c.not_before, 0);
        assert!(c.not_after > 0);
        assert_eq!(c.nonce.len(), 8);
        let enc = encrypt_prefix(&owner.encryption, "photos", "2024/").unwrap();
        assert!(enc.ends_with(b"/"));
        assert_ne!(enc, b"2024/".to_vec(), "the prefix is encrypted");
        assert_eq!(
            c.allowed_paths,
            vec![("photos".to_string(), enc), ("docs".to_string(), vec![])]
        );
        // Two equal shares still get distinct keys (revocable separately).
        let again = owner
            .share(&perm, &[sp("photos", "2024/"), sp("docs", "")])
            .unwrap();
        assert_ne!(again.api_key.tail(), shared.api_key.tail());
    }

    #[test]
    fn shared_keys_are_pruned_to_the_prefixes() {
        let owner = owner();
        let shared = owner
            .share(&Permission::read_only(), &[sp("photos", "2024")])
            .unwrap();
        assert!(shared.encryption.default_key().is_none());
        assert_eq!(shared.encryption.entries().len(), 1);
        assert_eq!(shared.encryption.entries()[0].unencrypted_prefix, "2024/");
        let inside = encrypt_path(&owner.encryption, "photos", "2024/a.jpg").unwrap();
        let outside = encrypt_path(&owner.encryption, "photos", "2023/a.jpg").unwrap();
        // Through the text form too.
        let parsed = Access::parse(&shared.serialize()).unwrap();
        assert_eq!(parsed, shared);
        assert_eq!(
            decrypt_path(&parsed.encryption, "photos", &inside).unwrap(),
            "2024/a.jpg"
        );
        assert!(decrypt_path(&parsed.encryption, "photos", &outside).is_err());
        // The serialized grant holds neither the root key nor another key.
        let text = shared.serialize();
        let raw = bs58::decode(&text).with_check(Some(0)).into_vec().unwrap();
        let root = owner.encryption.default_key().unwrap().as_bytes().to_vec();
        assert!(!raw.windows(32).any(|w| w == root.as_slice()));
        // Narrowing a share works, widening it does not.
        let narrower = parsed
            .share(&Permission::read_only(), &[sp("photos", "2024/rome/")])
            .unwrap();
        assert_eq!(narrower.api_key.caveats().len(), 2);
        let e = parsed
            .share(&Permission::read_only(), &[sp("photos", "2023/")])
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
        // No prefixes: every key stays, only the actions are restricted.
        let all = owner.share(&Permission::read_only(), &[]).unwrap();
        assert_eq!(all.encryption, owner.encryption);
    }

    #[test]
    fn invalid_permissions_are_refused() {
        let owner = owner();
        let e = owner
            .share(&Permission::default(), &[sp("b", "")])
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let now = SystemTime::now();
        let inverted = Permission {
            allow_download: true,
            not_before: Some(now),
            not_after: Some(now - Duration::from_secs(10)),
            ..Default::default()
        };
        let e = owner.share(&inverted, &[sp("b", "")]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.to_string().contains("not_after"), "{e}");
        let e = owner
            .share(&Permission::full(), &[sp("", "x/")])
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BucketNameInvalid);
    }

    #[test]
    fn parse_relimits_keys_to_path_caveats() {
        let owner = owner();
        // A key restricted by hand (no key pruning) with the full store.
        let enc = encrypt_prefix(&owner.encryption, "b", "x/y/").unwrap();
        let c1 = Caveat {
            allowed_paths: vec![("b".into(), enc.clone())],
            ..Default::default()
        };
        let restricted = Access {
            api_key: owner.api_key.restrict(&c1),
            ..owner.clone()
        };
        let parsed = Access::parse(&restricted.serialize()).unwrap();
        assert!(parsed.encryption.default_key().is_none());
        assert_eq!(parsed.encryption.entries().len(), 1);
        assert_eq!(parsed.encryption.entries()[0].unencrypted_prefix, "x/y/");
        // Two caveats: the intersection wins.
        let wider = encrypt_prefix(&owner.encryption, "b", "x/").unwrap();
        let c2 = Caveat {
            allowed_paths: vec![("b".into(), wider), ("c".into(), vec![])],
            ..Default::default()
        };
        let key = owner.api_key.restrict(&c2).restrict(&c1);
        assert_eq!(allowed_paths(&key).unwrap(), Some(vec![("b".into(), enc)]));
        // Action-only caveats keep every key.
        let c3 = Caveat {
            disallow_writes: true,
            ..Default::default()
        };
        let ro = Access {
            api_key: owner.api_key.restrict(&c3),
            ..owner.clone()
        };
        assert_eq!(Access::parse(&ro.serialize()).unwrap(), ro);
    }

    #[test]
    fn shared_objects_are_exact_encrypted_keys_with_their_folder_key() {
        let owner = owner();
        let shared = owner
            .share_objects(
                &Permission {
                    allow_download: true,
                    ..Default::default()
                },
                &[ShareObject {
                    bucket: "photos".into(),
                    key: "2024/rome.jpg".into(),
                }],
            )
            .unwrap();
        let c = Caveat::decode(&shared.api_key.caveats()[0]).unwrap();
        assert!(c.allowed_paths.is_empty());
        let enc = encrypt_path(&owner.encryption, "photos", "2024/rome.jpg").unwrap();
        assert_eq!(c.allowed_keys, vec![("photos".to_string(), enc.clone())]);
        assert!(c.disallow_lists && c.disallow_writes && c.disallow_deletes);
        // The holder computes the same encrypted key (its folder's key).
        assert_eq!(
            encrypt_path(&shared.encryption, "photos", "2024/rome.jpg").unwrap(),
            enc
        );
        assert_eq!(shared.encryption.entries()[0].unencrypted_prefix, "2024/");
        // Round trip through the text form keeps the folder key.
        let parsed = Access::parse(&shared.serialize()).unwrap();
        assert_eq!(parsed.encryption.entries().len(), 1);
        assert_eq!(parsed.encryption.entries()[0].unencrypted_prefix, "2024/");
        // A root-level object keeps the bucket's key.
        let root = owner
            .share_objects(
                &Permission::read_only(),
                &[ShareObject {
                    bucket: "b".into(),
                    key: "top.txt".into(),
                }],
            )
            .unwrap();
        assert_eq!(root.encryption.entries()[0].unencrypted_prefix, "");
        // Nothing to share, or an empty key, is refused.
        let e = owner
            .share_objects(&Permission::read_only(), &[])
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let e = owner
            .share_objects(
                &Permission::read_only(),
                &[ShareObject {
                    bucket: "b".into(),
                    key: String::new(),
                }],
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ObjectKeyInvalid);
    }

    #[test]
    fn sharing_a_key_at_the_caveat_limit_is_refused_with_a_reason() {
        let mut access = owner();
        for _ in 0..32 {
            access.api_key = access.api_key.restrict(&Caveat {
                disallow_writes: true,
                ..Default::default()
            });
        }
        let e = access
            .share(&Permission::read_only(), &[sp("b", "")])
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.to_string().contains("32 caveats"), "{e}");
    }
}
