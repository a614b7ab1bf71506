//! API-key checks for every Metainfo call: the macaroon must chain from a
//! root secret we hold, none of its tails may be revoked, and each caveat
//! must allow the action, the path and the current time.

use satstore_common::macaroon::{ApiKey, Caveat, MAX_CAVEATS};

use crate::error::SatelliteError;
use crate::store::{ApiKeyRecord, Store};

/// What a request does, for caveat checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Reading objects or bucket info.
    Read,
    /// Creating buckets, uploading.
    Write,
    /// Listing buckets or objects.
    List,
    /// Deleting (including overwriting a committed object).
    Delete,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Read => "reads",
            Action::Write => "writes",
            Action::List => "lists",
            Action::Delete => "deletes",
        }
    }
}

/// Which part of the namespace a request touches.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// No particular path (e.g. listing buckets, then filtered).
    Project,
    /// A bucket as a whole (create, get, delete of an empty bucket).
    Bucket(&'a str),
    /// Keys starting with this (an object key or a listing prefix).
    Path(&'a str, &'a [u8]),
}

/// An authenticated request: the project and the key's restrictions.
#[derive(Clone, Debug)]
pub struct AuthContext {
    /// The project the key belongs to.
    pub project_id: [u8; 16],
    caveats: Vec<Caveat>,
    /// The caller's key as presented (for RevokeApiKey's ancestry check).
    pub(crate) key: ApiKey,
}

impl AuthContext {
    /// Checks one action on one scope against every caveat.
    pub fn check(&self, action: Action, scope: Scope<'_>) -> Result<(), SatelliteError> {
        for c in &self.caveats {
            let denied = match action {
                Action::Read => c.disallow_reads,
                Action::Write => c.disallow_writes,
                Action::List => c.disallow_lists,
                Action::Delete => c.disallow_deletes,
            };
            if denied {
                return Err(SatelliteError::PermissionDenied(format!(
                    "API key does not allow {}",
                    action.as_str()
                )));
            }
            if !c.restricts_paths() {
                continue;
            }
            // An exact key allows that object only: never a listing (whose
            // "key" is a prefix), and of its bucket only reading its info.
            let ok = match scope {
                Scope::Project => true,
                Scope::Bucket(b) => {
                    c.allowed_paths.iter().any(|(pb, _)| pb == b)
                        || (action == Action::Read && c.allowed_keys.iter().any(|(kb, _)| kb == b))
                }
                Scope::Path(b, key) => {
                    c.allowed_paths
                        .iter()
                        .any(|(pb, prefix)| pb == b && key.starts_with(prefix))
                        || (action != Action::List
                            && c.allowed_keys
                                .iter()
                                .any(|(kb, exact)| kb == b && key == exact.as_slice()))
                }
            };
            if !ok {
                return Err(SatelliteError::PermissionDenied(match scope {
                    Scope::Path(b, _) => {
                        format!("API key does not allow access to this path in bucket {b:?}")
                    }
                    Scope::Bucket(b) => {
                        format!("API key does not allow access to bucket {b:?}")
                    }
                    Scope::Project => "API key does not allow this".to_string(),
                }));
            }
        }
        Ok(())
    }

    /// Whether the key may see this bucket at all (for ListBuckets).
    pub fn bucket_visible(&self, bucket: &str) -> bool {
        self.caveats.iter().all(|c| {
            !c.restricts_paths()
                || c.allowed_paths.iter().any(|(b, _)| b == bucket)
                || c.allowed_keys.iter().any(|(b, _)| b == bucket)
        })
    }
}

/// Why `key` is refused outright: more than [`MAX_CAVEATS`] caveats (each
/// costs an HMAC and a decode, so no work is spent on such a key).
pub(crate) fn too_many_caveats(key: &ApiKey) -> Option<String> {
    let n = key.caveats().len();
    (n > MAX_CAVEATS)
        .then(|| format!("API key carries {n} caveats; at most {MAX_CAVEATS} are accepted"))
}

/// Authenticates API keys against the store.
#[derive(Clone, Debug)]
pub struct Authenticator {
    store: Store,
}

impl Authenticator {
    /// An authenticator over this store.
    pub fn new(store: Store) -> Self {
        Authenticator { store }
    }

    /// Verifies the serialized key of a request header at time `now`.
    pub async fn authenticate(
        &self,
        api_key: &[u8],
        now: i64,
    ) -> Result<AuthContext, SatelliteError> {
        let unauth = |m: &str| SatelliteError::Unauthenticated(m.to_string());
        if api_key.is_empty() {
            return Err(unauth("missing API key in the request header"));
        }
        let key = ApiKey::from_bytes(api_key)
            .map_err(|e| SatelliteError::Unauthenticated(format!("invalid API key: {e}")))?;
        let (record, tails) = self.genuine(&key).await?;
        if self.store.any_tail_revoked(&tails).await? {
            return Err(unauth("API key has been revoked"));
        }
        let mut caveats = Vec::with_capacity(key.caveats().len());
        for raw in key.caveats() {
            let c = Caveat::decode(raw).map_err(|e| {
                SatelliteError::PermissionDenied(format!(
                    "API key carries a caveat this satellite cannot read: {e}"
                ))
            })?;
            if c.not_before != 0 && now < c.not_before {
                return Err(SatelliteError::PermissionDenied(format!(
                    "API key is not valid before {} (unix seconds)",
                    c.not_before
                )));
            }
            if c.not_after != 0 && now > c.not_after {
                return Err(SatelliteError::PermissionDenied(format!(
                    "API key expired at {} (unix seconds)",
                    c.not_after
                )));
            }
            caveats.push(c);
        }
        Ok(AuthContext {
            project_id: record.project_id,
            caveats,
            key,
        })
    }

    /// The root record of `key` and its chain tails (root first), if the
    /// key was issued by this satellite and its chain verifies; revocation
    /// is not checked. `Unauthenticated` otherwise.
    pub async fn genuine(
        &self,
        key: &ApiKey,
    ) -> Result<(ApiKeyRecord, Vec<[u8; 32]>), SatelliteError> {
        let unauth = |m: &str| SatelliteError::Unauthenticated(m.to_string());
        // Before any lookup or HMAC: the work per key is bounded.
        if let Some(m) = too_many_caveats(key) {
            return Err(unauth(&m));
        }
        let record = self
            .store
            .api_key_by_head(key.head())
            .await?
            .ok_or_else(|| unauth("unknown API key: it was not issued by this satellite"))?;
        let tails = key
            .verify(&record.secret)
            .ok_or_else(|| unauth("invalid API key: signature chain does not verify"))?;
        Ok((record, tails))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(caveats: Vec<Caveat>) -> AuthContext {
        AuthContext {
            project_id: [0; 16],
            caveats,
            key: ApiKey::new(&[0; 32]),
        }
    }

    #[test]
    fn caveats_restrict_actions_and_paths() {
        let open = ctx(vec![]);
        open.check(Action::Delete, Scope::Path("b", b"k")).unwrap();

        let ro = ctx(vec![Caveat {
            disallow_writes: true,
            ..Default::default()
        }]);
        ro.check(Action::Read, Scope::Path("b", b"k")).unwrap();
        let e = ro.check(Action::Write, Scope::Bucket("b")).unwrap_err();
        assert!(matches!(e, SatelliteError::PermissionDenied(ref m) if m.contains("writes")));

        let paths = ctx(vec![
            Caveat {
                allowed_paths: vec![("b".into(), b"p/".to_vec()), ("c".into(), vec![])],
                ..Default::default()
            },
            Caveat {
                allowed_paths: vec![("b".into(), b"p/q".to_vec()), ("c".into(), b"x".to_vec())],
                ..Default::default()
            },
        ]);
        // Within both caveats.
        paths
            .check(Action::Read, Scope::Path("b", b"p/q1"))
            .unwrap();
        paths.check(Action::Read, Scope::Path("c", b"xyz")).unwrap();
        // Allowed by the first caveat only: AND across caveats refuses.
        assert!(paths.check(Action::Read, Scope::Path("b", b"p/r")).is_err());
        assert!(paths.check(Action::Read, Scope::Path("c", b"y")).is_err());
        assert!(paths.check(Action::Read, Scope::Path("d", b"")).is_err());
        paths.check(Action::Read, Scope::Bucket("b")).unwrap();
        assert!(paths.check(Action::Read, Scope::Bucket("d")).is_err());
        assert!(paths.bucket_visible("c"));
        assert!(!paths.bucket_visible("d"));
    }

    #[tokio::test]
    async fn keys_with_too_many_caveats_are_refused_before_any_work() {
        let (store, _dir) = crate::store::testing::sqlite_store().await;
        let (_, root) = crate::admin::create_project(&store, "p").await.unwrap();
        let auth = Authenticator::new(store);
        let mut key = root.clone();
        for i in 0..32u8 {
            key = key.restrict(&Caveat {
                nonce: vec![i],
                ..Default::default()
            });
        }
        auth.authenticate(&key.to_bytes(), 0).await.unwrap();
        let long = key.restrict(&Caveat {
            nonce: vec![99],
            ..Default::default()
        });
        let e = auth.authenticate(&long.to_bytes(), 0).await.unwrap_err();
        assert!(
            matches!(e, SatelliteError::Unauthenticated(ref m) if m.contains("33 caveats")),
            "{e}"
        );
    }

    #[test]
    fn exact_keys_allow_that_object_only() {
        let exact = ctx(vec![Caveat {
            disallow_writes: true,
            disallow_deletes: true,
            allowed_keys: vec![("b".into(), b"enc/obj".to_vec())],
            ..Default::default()
        }]);
        exact
            .check(Action::Read, Scope::Path("b", b"enc/obj"))
            .unwrap();
        for other in [&b"enc/obj2"[..], b"enc/ob", b"enc/", b"", b"enc/obj/x"] {
            assert!(
                exact.check(Action::Read, Scope::Path("b", other)).is_err(),
                "{other:?}"
            );
        }
        assert!(
            exact
                .check(Action::Read, Scope::Path("c", b"enc/obj"))
                .is_err()
        );
        // A listing whose prefix equals the key is not the object.
        assert!(
            exact
                .check(Action::List, Scope::Path("b", b"enc/obj"))
                .is_err()
        );
        // Its bucket may be read (GetBucket), not listed, written or deleted.
        exact.check(Action::Read, Scope::Bucket("b")).unwrap();
        assert!(exact.check(Action::List, Scope::Bucket("b")).is_err());
        assert!(exact.check(Action::Read, Scope::Bucket("c")).is_err());
        assert!(exact.bucket_visible("b"));
        assert!(!exact.bucket_visible("c"));
        // Exact keys and prefixes in one caveat are alternatives.
        let both = ctx(vec![Caveat {
            allowed_paths: vec![("b".into(), b"pre/".to_vec())],
            allowed_keys: vec![("b".into(), b"enc/obj".to_vec())],
            ..Default::default()
        }]);
        both.check(Action::Write, Scope::Path("b", b"pre/x"))
            .unwrap();
        both.check(Action::Write, Scope::Path("b", b"enc/obj"))
            .unwrap();
        assert!(both.check(Action::Write, Scope::Path("b", b"x")).is_err());
        both.check(Action::Delete, Scope::Bucket("b")).unwrap();
    }
}
