//! The gateway's shared state: the store, the share key, the trusted
//! satellites, and caches of opened user sessions and share projects; the
//! one place that decides which access a request acts with
//! ([`Gateway::resolve`]) and who owns a bucket name
//! ([`Gateway::owned_bucket`]); and the revocation of shares taken out of
//! use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use s3s::{S3ErrorCode, S3Result};
use uplink::{Access, ErrorKind, Project, UplinkConfig};

use crate::acl::{Acl, Perm};
use crate::config::GatewayConfig;
use crate::crypto::{self, SealKey};
use crate::error::GatewayError;
use crate::metrics::GatewayMetrics;
use crate::register::{Credentials, Registrar, Registration, verified_project};
use crate::s3error::{s3err, uplink_error};
use crate::store::{BucketRecord, Store, UserRecord, now_unix};
use crate::trust::TrustedSatellites;

/// How long an opened session is trusted before the store is read again
/// (so a removed user stops working within this time).
const SESSION_TTL: Duration = Duration::from_secs(60);

/// Queued share revocations retried per round of the revocation chore.
const REVOCATIONS_PER_ROUND: i64 = 100;

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
    /// `satellite id/project id` of the grant: what owns bucket names.
    pub project_key: String,
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
    /// Whether the actor belongs to the project that claimed the name (may
    /// change ACLs and CORS).
    pub is_owner: bool,
    /// The project whose gateway records (ACLs, uploads) apply: the
    /// claim's, or for a name nobody claimed the actor's own.
    pub scope: String,
    /// Whether the name is claimed at this gateway.
    pub claimed: bool,
}

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Store,
    pub share_key: SealKey,
    pub trusted: TrustedSatellites,
    pub uplink_config: UplinkConfig,
    pub region: String,
    pub min_part_size: u64,
    pub metrics: GatewayMetrics,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    shares: Mutex<HashMap<String, Project>>,
}

impl Gateway {
    /// Builds the state around an open store and the share key (which the
    /// caller loaded from outside the database; see [`crate::sharekey`]).
    pub fn new(
        store: Store,
        share_key: SealKey,
        config: &GatewayConfig,
        uplink_config: UplinkConfig,
        metrics: GatewayMetrics,
    ) -> Result<Gateway, GatewayError> {
        Ok(Gateway {
            inner: Arc::new(Inner {
                store,
                share_key,
                trusted: config.trusted()?,
                uplink_config,
                region: config.region.clone(),
                min_part_size: config.min_part_size.0,
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

    /// The satellites this gateway trusts.
    pub fn trusted(&self) -> &TrustedSatellites {
        &self.inner.trusted
    }

    /// A registrar for this gateway's store and trusted satellites.
    pub fn registrar(&self) -> Registrar {
        Registrar::new(
            self.inner.store.clone(),
            self.inner.trusted.clone(),
            self.inner.uplink_config.clone(),
        )
    }

    /// Registers a user (see [`Registrar::register`]); for operators and
    /// localnet, which may vouch for the email.
    pub async fn register(
        &self,
        registration: &Registration<'_>,
    ) -> Result<Credentials, GatewayError> {
        self.registrar().register(registration).await
    }

    /// The session of an access key id: from the cache, or opened from the
    /// store. `Ok(None)` for unknown keys; `UntrustedSatellite` for a grant
    /// whose satellite is not (or no longer) trusted, before any dial.
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
        self.inner.trusted.check(&access.satellite)?;
        let project_key = match &user.project_id {
            Some(p) => p.clone(),
            None => {
                // Registered before projects were recorded: ask once.
                let p = verified_project(&access, &self.inner.uplink_config).await?;
                self.inner.store.set_user_project(&user.id, &p).await?;
                p
            }
        };
        let project = access
            .config_open_project(&self.inner.uplink_config)
            .await?;
        let session = Arc::new(Session {
            user,
            secret,
            access,
            project,
            project_key,
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

    /// Opens a sealed share: its access, checked against the trusted
    /// satellites (never dialed otherwise).
    fn open_share(&self, sealed: &str) -> Result<Access, GatewayError> {
        let grant = crypto::open(&self.inner.share_key, "share", sealed)?;
        let grant = String::from_utf8(grant)
            .map_err(|_| GatewayError::Corrupt("share is not UTF-8".into()))?;
        let access = Access::parse(&grant)?;
        self.inner.trusted.check(&access.satellite)?;
        Ok(access)
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
        let access = self.open_share(sealed)?;
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
    /// (and object `key`, for object reads). Users of the project that
    /// claimed the name act with their own access; for a name nobody
    /// claimed, a user acts with their own access too (the satellite then
    /// decides: only their own project's bucket of that name is reachable)
    /// but owns nothing at the gateway. Anyone else is served only through
    /// the share kept for an ACL grant of the owning project; else
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
        if let Actor::User(s) = actor {
            match &record {
                Some(r) if r.project_id == s.project_key => {
                    return Ok(Target {
                        project: s.project.clone(),
                        owner_id: r.owner_id.clone(),
                        is_owner: true,
                        scope: r.project_id.clone(),
                        claimed: true,
                    });
                }
                None => {
                    return Ok(Target {
                        project: s.project.clone(),
                        owner_id: s.user.id.clone(),
                        is_owner: false,
                        scope: s.project_key.clone(),
                        claimed: false,
                    });
                }
                Some(_) => {}
            }
        }
        let Some(record) = record else {
            return Err(s3err(S3ErrorCode::AccessDenied, "Access Denied"));
        };
        let user = actor.user_id();
        // Object grants first (reads of one object), then the bucket's.
        let mut scopes = Vec::new();
        if let Some(k) = key.filter(|_| matches!(perm, Perm::Read | Perm::ReadAcp)) {
            scopes.push(k);
        }
        scopes.push("");
        for scope in scopes {
            let Some(rec) = store.acl(&record.project_id, bucket, scope).await? else {
                continue;
            };
            let acl = Acl::from_text(&rec.grants)
                .ok_or_else(|| GatewayError::Corrupt(format!("ACL of {bucket}/{scope}")))?;
            let Some(grant) = acl.grantee_for(user, perm) else {
                continue;
            };
            let share = store
                .share(
                    &record.project_id,
                    bucket,
                    scope,
                    grant.grantee.key(),
                    grant.perm.as_str(),
                )
                .await?;
            if let Some(share) = share {
                return Ok(Target {
                    project: self.share_project(&share.sealed_grant).await?,
                    owner_id: record.owner_id.clone(),
                    is_owner: false,
                    scope: record.project_id.clone(),
                    claimed: true,
                });
            }
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

    /// The session of a user of the project that owns `bucket`, and the
    /// name's record: what changing ACLs or CORS rules needs. A name
    /// nobody claimed is claimed now for the user's project when `adopt`
    /// and the bucket exists in that project (it was made outside the
    /// gateway); otherwise NoSuchBucket. A name of another project is
    /// AccessDenied (`what` says what was refused).
    pub async fn owned_bucket(
        &self,
        actor: &Actor,
        bucket: &str,
        adopt: bool,
        what: &str,
    ) -> S3Result<(Arc<Session>, Option<BucketRecord>)> {
        let s = Self::require_user(actor)?;
        let denied = || {
            s3err(
                S3ErrorCode::AccessDenied,
                format!("only the bucket's owner may {what}"),
            )
        };
        match self.inner.store.bucket(bucket).await? {
            Some(r) if r.project_id == s.project_key => Ok((s, Some(r))),
            Some(_) => Err(denied()),
            None => {
                s.project.stat_bucket(bucket).await.map_err(uplink_error)?;
                if !adopt {
                    return Ok((s, None));
                }
                let rec = BucketRecord {
                    name: bucket.to_string(),
                    project_id: s.project_key.clone(),
                    owner_id: s.user.id.clone(),
                    location: String::new(),
                    created_at: now_unix(),
                };
                match self.inner.store.claim_bucket(&rec).await? {
                    Ok(()) => {
                        tracing::info!(bucket, project = %rec.project_id, "bucket made outside the gateway claimed by its project");
                        Ok((s, Some(rec)))
                    }
                    Err(existing) if existing.project_id == s.project_key => {
                        Ok((s, Some(existing)))
                    }
                    Err(_) => Err(denied()),
                }
            }
        }
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

    /// Revokes shares taken out of use (already in the revocation queue)
    /// at the satellite, each with its own key; a share the satellite
    /// refuses already (revoked, expired) counts as done. Failures stay
    /// queued for the revocation chore. Returns how many remain queued.
    pub async fn revoke_shares(&self, sealed: &[String]) -> usize {
        let mut left = 0;
        for s in sealed {
            if let Ok(mut map) = self.inner.shares.lock() {
                map.remove(s);
            }
            let outcome = self.revoke_share(s).await;
            let recorded = match &outcome {
                Ok(()) => self.inner.store.revocation_done(s).await,
                Err(e) => {
                    tracing::warn!(error = %e, "share revocation failed; will retry");
                    left += 1;
                    self.inner.store.revocation_failed(s).await
                }
            };
            if let Err(e) = recorded {
                tracing::warn!(error = %e, "recording a share revocation failed");
            }
        }
        left
    }

    /// Revokes one share; `Ok` also when nothing can or need be done.
    async fn revoke_share(&self, sealed: &str) -> Result<(), GatewayError> {
        let access = match self.open_share(sealed) {
            Ok(a) => a,
            Err(e @ GatewayError::UntrustedSatellite(_)) => {
                tracing::warn!(error = %e, "share of an untrusted satellite dropped unrevoked");
                return Ok(());
            }
            Err(e) => {
                tracing::error!(error = %e, "queued share cannot be opened; dropped unrevoked");
                return Ok(());
            }
        };
        let project = access
            .config_open_project(&self.inner.uplink_config)
            .await?;
        match project.revoke_access(&access).await {
            Ok(()) => Ok(()),
            // The satellite refuses the key already: revoked or expired.
            Err(e) if e.kind() == ErrorKind::PermissionDenied => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// One round of the revocation chore: retries queued revocations.
    pub async fn revoke_pending(&self) -> Result<usize, GatewayError> {
        let queued = self
            .inner
            .store
            .queued_revocations(REVOCATIONS_PER_ROUND)
            .await?;
        Ok(self.revoke_shares(&queued).await)
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
