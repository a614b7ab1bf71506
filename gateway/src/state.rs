//! The gateway's shared state: the store, the share key, and caches of
//! opened user sessions and share projects; and the one place that decides
//! which access a request acts with ([`Gateway::resolve`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use s3s::{S3ErrorCode, S3Result};
use uplink::{Access, Project, UplinkConfig};

use crate::acl::{Acl, Perm};
use crate::crypto::{self, SealKey};
use crate::error::{GatewayError, s3err, uplink_error};
use crate::metrics::GatewayMetrics;
use crate::store::{Store, UserRecord};

/// How long an opened session is trusted before the store is read again
/// (so a removed user stops working within this time).
const SESSION_TTL: Duration = Duration::from_secs(60);

/// A registered user with the secret and access opened.
pub struct Session {
    /// The stored user.
    pub user: UserRecord,
    /// The S3 secret (needed to verify signatures).
    pub secret: String,
    /// The user's own access grant.
    pub access: Access,
    /// The project opened from it.
    pub project: Project,
    opened: Instant,
}

/// Who is asking.
#[derive(Clone)]
pub enum Actor {
    /// A request without credentials.
    Anonymous,
    /// A request signed by a registered user.
    User(Arc<Session>),
}

impl Actor {
    /// The canonical id of the user, if any.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Actor::Anonymous => None,
            Actor::User(s) => Some(&s.user.id),
        }
    }
}

/// The access a request acts with.
pub struct Target {
    /// Project to use (the user's own, or a share kept for a grant).
    pub project: Project,
    /// Canonical id of the bucket's owner.
    pub owner_id: String,
    /// Whether the actor owns the bucket (may change ACLs, CORS).
    pub is_owner: bool,
}

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Store,
    pub share_key: SealKey,
    pub uplink_config: UplinkConfig,
    pub region: String,
    pub min_part_size: u64,
    pub metrics: GatewayMetrics,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    shares: Mutex<HashMap<String, Project>>,
}

impl Gateway {
    /// Builds the state; the share key comes from the store (created by the
    /// first gateway on this database).
    pub async fn new(
        store: Store,
        uplink_config: UplinkConfig,
        region: String,
        min_part_size: u64,
        metrics: GatewayMetrics,
    ) -> Result<Gateway, GatewayError> {
        let init = satstore_common::hex::encode(&crypto::new_key());
        let text = store.setting_or_init("share_key", &init).await?;
        let bytes = satstore_common::hex::decode(&text)
            .filter(|b| b.len() == 32)
            .ok_or_else(|| GatewayError::Corrupt("share_key setting is not 32 hex bytes".into()))?;
        let mut share_key = [0u8; 32];
        share_key.copy_from_slice(&bytes);
        Ok(Gateway {
            inner: Arc::new(Inner {
                store,
                share_key,
                uplink_config,
                region,
                min_part_size,
                metrics,
                sessions: Mutex::new(HashMap::new()),
                shares: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The session of an access key id: from the cache, or opened from the
    /// store. `Ok(None)` for unknown keys.
    pub async fn session(&self, access_key: &str) -> Result<Option<Arc<Session>>, GatewayError> {
        if let Some(s) = self.cached_session(access_key) {
            return Ok(Some(s));
        }
        let Some(user) = self
            .inner
            .store
            .user_by_lookup(&crypto::lookup(access_key))
            .await?
        else {
            return Ok(None);
        };
        let secret = crypto::open(
            &crypto::secret_sealing_key(access_key),
            "secret",
            &user.sealed_secret,
        )?;
        let secret = String::from_utf8(secret)
            .map_err(|_| GatewayError::Corrupt("secret is not UTF-8".into()))?;
        let grant = crypto::open(
            &crypto::grant_sealing_key(&secret),
            "grant",
            &user.sealed_grant,
        )?;
        let grant = String::from_utf8(grant)
            .map_err(|_| GatewayError::Corrupt("grant is not UTF-8".into()))?;
        let access = Access::parse(&grant)?;
        let project = access
            .config_open_project(&self.inner.uplink_config)
            .await?;
        let session = Arc::new(Session {
            user,
            secret,
            access,
            project,
            opened: Instant::now(),
        });
        if let Ok(mut map) = self.inner.sessions.lock() {
            map.insert(access_key.to_string(), session.clone());
        }
        Ok(Some(session))
    }

    fn cached_session(&self, access_key: &str) -> Option<Arc<Session>> {
        let mut map = self.inner.sessions.lock().ok()?;
        match map.get(access_key) {
            Some(s) if s.opened.elapsed() < SESSION_TTL => Some(s.clone()),
            Some(_) => {
                map.remove(access_key);
                None
            }
            None => None,
        }
    }

    /// The actor of a request from its verified credentials.
    pub async fn actor(&self, credentials: Option<&s3s::auth::Credentials>) -> S3Result<Actor> {
        let Some(c) = credentials else {
            return Ok(Actor::Anonymous);
        };
        match self.session(&c.access_key).await {
            Ok(Some(s)) => Ok(Actor::User(s)),
            Ok(None) => Err(s3err(
                S3ErrorCode::InvalidAccessKeyId,
                "unknown access key id",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The project opened from a sealed share.
    async fn share_project(&self, sealed: &str) -> S3Result<Project> {
        if let Some(p) = self
            .inner
            .shares
            .lock()
            .ok()
            .and_then(|m| m.get(sealed).cloned())
        {
            return Ok(p);
        }
        let grant = crypto::open(&self.inner.share_key, "share", sealed)?;
        let grant = String::from_utf8(grant)
            .map_err(|_| GatewayError::Corrupt("share is not UTF-8".into()))?;
        let access = Access::parse(&grant).map_err(uplink_error)?;
        let project = access
            .config_open_project(&self.inner.uplink_config)
            .await
            .map_err(uplink_error)?;
        if let Ok(mut map) = self.inner.shares.lock() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(sealed.to_string(), project.clone());
        }
        Ok(project)
    }

    /// Decides which access `actor` uses to exercise `perm` on `bucket`
    /// (and object `key`, for object reads): the user's own project when
    /// they own the bucket (or the bucket was made outside the gateway);
    /// otherwise the share kept for the ACL grant that allows it; else
    /// AccessDenied.
    pub async fn resolve(
        &self,
        actor: &Actor,
        bucket: &str,
        key: Option<&str>,
        perm: Perm,
    ) -> S3Result<Target> {
        let store = &self.inner.store;
        let record = store.bucket(bucket).await?;
        if let Actor::User(s) = actor
            && record.as_ref().is_none_or(|r| r.owner_id == s.user.id)
        {
            return Ok(Target {
                project: s.project.clone(),
                owner_id: s.user.id.clone(),
                is_owner: true,
            });
        }
        let owner_id = record.map(|r| r.owner_id).unwrap_or_default();
        let user = actor.user_id();
        // Object grants first (reads of one object), then the bucket's.
        let mut scopes = Vec::new();
        if let Some(k) = key.filter(|_| matches!(perm, Perm::Read | Perm::ReadAcp)) {
            scopes.push(k);
        }
        scopes.push("");
        for scope in scopes {
            let Some(rec) = store.acl(bucket, scope).await? else {
                continue;
            };
            let acl = Acl::from_text(&rec.grants)
                .ok_or_else(|| GatewayError::Corrupt(format!("ACL of {bucket}/{scope}")))?;
            let Some(grant) = acl.grantee_for(user, perm) else {
                continue;
            };
            let share = store
                .share(bucket, scope, grant.grantee.key(), grant.perm.as_str())
                .await?;
            if let Some(share) = share {
                return Ok(Target {
                    project: self.share_project(&share.sealed_grant).await?,
                    owner_id,
                    is_owner: false,
                });
            }
        }
        // A user of the same project as the owner (a bucket name claimed by
        // another registered user of that project) acts with their own access.
        if let Actor::User(s) = actor
            && s.project.stat_bucket(bucket).await.is_ok()
        {
            return Ok(Target {
                project: s.project.clone(),
                owner_id,
                is_owner: false,
            });
        }
        Err(s3err(S3ErrorCode::AccessDenied, "Access Denied"))
    }

    /// [`Gateway::resolve`] for a bucket-level operation, and the bucket must
    /// exist (NoSuchBucket otherwise).
    pub async fn resolve_bucket(
        &self,
        actor: &Actor,
        bucket: &str,
        perm: Perm,
    ) -> S3Result<Target> {
        let target = self.resolve(actor, bucket, None, perm).await?;
        target
            .project
            .stat_bucket(bucket)
            .await
            .map_err(uplink_error)?;
        Ok(target)
    }

    /// The user's session, or AccessDenied for anonymous requests.
    pub fn require_user(actor: &Actor) -> S3Result<Arc<Session>> {
        match actor {
            Actor::User(s) => Ok(s.clone()),
            Actor::Anonymous => Err(s3err(
                S3ErrorCode::AccessDenied,
                "anonymous requests cannot do this; sign the request",
            )),
        }
    }

    /// Seals a grant under the share key.
    pub fn seal_share(&self, grant: &str) -> String {
        crypto::seal(&self.inner.share_key, "share", grant.as_bytes())
    }

    /// Seals gateway-private data under the share key.
    pub fn seal(&self, context: &str, data: &[u8]) -> String {
        crypto::seal(&self.inner.share_key, context, data)
    }

    /// Opens what [`Gateway::seal`] sealed.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, GatewayError> {
        crypto::open(&self.inner.share_key, context, sealed)
    }

    /// The region the gateway answers for.
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// Display name of a user id (for ACL XML).
    pub async fn display_name(&self, id: &str) -> Option<String> {
        self.inner
            .store
            .user_by_id(id)
            .await
            .ok()
            .flatten()
            .map(|u| u.display_name)
    }
}

#[async_trait::async_trait]
impl s3s::auth::S3Auth for Gateway {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<s3s::auth::SecretKey> {
        match self.session(access_key).await {
            Ok(Some(s)) => Ok(s3s::auth::SecretKey::from(s.secret.clone())),
            Ok(None) => Err(s3err(
                S3ErrorCode::InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records.",
            )),
            Err(e) => Err(e.into()),
        }
    }
}
