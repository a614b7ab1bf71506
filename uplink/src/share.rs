//! Restricting and sharing an access offline, on plain inputs (an API key
//! and an encryption store in, the restricted pair out): the caveat of a
//! share (allowed actions, time window, allowed encrypted prefixes or exact
//! encrypted keys) and the keys it keeps ([`crate::Access::share`],
//! [`crate::Access::share_objects`] call in here), and the re-limiting of a
//! parsed grant's keys to its caveats (`limit_to_caveats`). A leaf over
//! `encryption`: it knows nothing of `Access` or `Project`.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use satstore_common::macaroon::{ApiKey, ApiKeyError, Caveat};

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

/// The API key and encryption store of a share.
pub(crate) struct Shared {
    /// The API key with one more caveat.
    pub(crate) api_key: ApiKey,
    /// The keys the share holds.
    pub(crate) encryption: EncryptionStore,
}

/// `api_key` and `store` restricted to `permission` and, unless `prefixes`
/// is empty, to those prefixes: one more caveat whose allowed paths are the
/// ENCRYPTED prefixes (so the satellite enforces them), and only the keys
/// at the prefixes. Works offline. ([`Access::share`](crate::Access::share).)
pub(crate) fn share_prefixes(
    api_key: &ApiKey,
    store: &EncryptionStore,
    permission: &Permission,
    prefixes: &[SharePrefix],
) -> Result<Shared> {
    let mut plain = Vec::with_capacity(prefixes.len());
    let mut allowed = Vec::with_capacity(prefixes.len());
    for sp in prefixes {
        if sp.bucket.is_empty() {
            return Err(UplinkError::BucketNameInvalid(
                "share prefix has an empty bucket name".into(),
            ));
        }
        let prefix = folder(&sp.prefix);
        let enc = encryption::encrypt_prefix(store, &sp.bucket, &prefix).map_err(|e| {
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
        store.clone()
    } else {
        let pairs: Vec<(&str, &str)> = plain
            .iter()
            .map(|(b, p)| (b.as_str(), p.as_str()))
            .collect();
        store.limit_to(&pairs)?
    };
    Ok(Shared {
        api_key: restricted(api_key, &caveat)?,
        encryption,
    })
}

/// `api_key` and `store` restricted to `permission` on exactly these
/// objects (at least one): the caveat lists their ENCRYPTED keys; the store
/// keeps the key of each object's folder (path keys cannot be finer), the
/// satellite's check is what limits the share to the objects.
/// ([`Access::share_objects`](crate::Access::share_objects).)
pub(crate) fn share_objects(
    api_key: &ApiKey,
    store: &EncryptionStore,
    permission: &Permission,
    objects: &[ShareObject],
) -> Result<Shared> {
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
        let enc = encryption::encrypt_path(store, &o.bucket, &o.key).map_err(|e| {
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
    Ok(Shared {
        api_key: restricted(api_key, &caveat)?,
        encryption: store.limit_to(&pairs)?,
    })
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
