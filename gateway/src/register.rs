//! Registering S3 users: new credentials for an access grant, once the
//! grant names a trusted satellite and that satellite accepted it. Emails
//! are kept as given; only an operator's confirmation makes one count for
//! grants by email.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use uplink::{Access, ErrorKind, UplinkConfig};

use crate::crypto;
use crate::error::GatewayError;
use crate::store::{Store, UserRecord, now_unix};
use crate::trust::TrustedSatellites;

/// Path of the HTTP registration endpoint on the S3 listener (`_` makes it
/// an invalid bucket name, so it never shadows a bucket).
pub const REGISTER_PATH: &str = "/_satstore/register";

/// Body of a `POST /_satstore/register`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// Serialized access grant.
    pub access_grant: String,
    /// Email for email grants (unconfirmed: an operator must confirm it).
    #[serde(default)]
    pub email: Option<String>,
    /// Display name shown as owner.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// What a registration hands back to the user (shown once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// S3 access key id.
    pub access_key: String,
    /// S3 secret access key.
    pub secret_key: String,
    /// Canonical user id (for ACL grants).
    pub canonical_id: String,
    /// Display name.
    pub display_name: String,
}

/// One registration.
#[derive(Clone, Copy, Debug, Default)]
pub struct Registration<'a> {
    /// Serialized access grant.
    pub grant: &'a str,
    /// Email for grants by email.
    pub email: Option<&'a str>,
    /// Display name shown as owner.
    pub display_name: Option<&'a str>,
    /// Whether an operator vouches that `email` is the user's (the CLI,
    /// localnet); self-service registration over HTTP never does.
    pub email_confirmed: bool,
}

/// Turns access grants into users after checking them: the grant's
/// satellite must be trusted, and must accept the grant's API key.
#[derive(Clone, Debug)]
pub struct Registrar {
    store: Store,
    trusted: TrustedSatellites,
    uplink_config: UplinkConfig,
}

impl Registrar {
    /// A registrar writing to `store`, dialing only `trusted` satellites.
    pub fn new(store: Store, trusted: TrustedSatellites, uplink_config: UplinkConfig) -> Self {
        Registrar {
            store,
            trusted,
            uplink_config,
        }
    }

    /// Registers a grant as a new S3 user: checks it with its satellite
    /// (which must be trusted), generates credentials, seals the grant
    /// under the secret and the secret under the access key id, and stores
    /// them.
    pub async fn register(&self, r: &Registration<'_>) -> Result<Credentials, GatewayError> {
        let grant = r.grant.trim();
        let access = Access::parse(grant)?;
        if let Some(e) = r.email
            && (!e.contains('@') || e.len() > 254 || e.chars().any(char::is_whitespace))
        {
            return Err(GatewayError::InvalidArgument(format!(
                "{e:?} is not an email address"
            )));
        }
        // Never dial an address a grant merely names.
        self.trusted.check(&access.satellite)?;
        let project_id = verified_project(&access, &self.uplink_config).await?;
        let (lookup, record, creds) = new_user(grant, r, &project_id);
        self.store.insert_user(&lookup, &record).await?;
        tracing::info!(
            canonical_id = %creds.canonical_id,
            project = %project_id,
            email_confirmed = record.confirmed_email.is_some(),
            "user registered"
        );
        Ok(creds)
    }
}

/// `satellite id/project id` of `access`, as its satellite answers it: a
/// cheap call that fails for keys the satellite did not issue, revoked or
/// expired ones. The satellite must already be trusted.
pub(crate) async fn verified_project(
    access: &Access,
    config: &UplinkConfig,
) -> Result<String, GatewayError> {
    let project = access.config_open_project(config).await?;
    match project.project_id().await {
        Ok(id) => Ok(format!("{}/{id}", access.satellite.id)),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            Err(GatewayError::GrantRefused(e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// New credentials and the user record for a checked grant.
fn new_user(
    grant: &str,
    r: &Registration<'_>,
    project_id: &str,
) -> (String, UserRecord, Credentials) {
    let access_key = crypto::new_access_key_id();
    let secret_key = crypto::new_secret_key();
    let canonical_id = crypto::new_canonical_id();
    let display_name = match (r.display_name, r.email) {
        (Some(d), _) => d.to_string(),
        (None, Some(e)) => e.split('@').next().unwrap_or(e).to_string(),
        (None, None) => format!("user-{}", &canonical_id[..8]),
    };
    let record = UserRecord {
        id: canonical_id.clone(),
        display_name: display_name.clone(),
        email: r.email.map(str::to_string),
        confirmed_email: r.email.filter(|_| r.email_confirmed).map(str::to_lowercase),
        project_id: Some(project_id.to_string()),
        sealed_secret: crypto::seal(
            &crypto::secret_sealing_key(&access_key),
            "secret",
            secret_key.as_bytes(),
        ),
        sealed_grant: crypto::seal(
            &crypto::grant_sealing_key(&secret_key),
            "grant",
            grant.as_bytes(),
        ),
        created_at: now_unix(),
    };
    (
        crypto::lookup(&access_key),
        record,
        Credentials {
            access_key,
            secret_key,
            canonical_id,
            display_name,
        },
    )
}

/// Registers `grant` through a gateway's HTTP endpoint (`endpoint` =
/// `http://host:port`).
pub async fn register_http(
    endpoint: &str,
    grant: &str,
    email: Option<&str>,
    display_name: Option<&str>,
) -> Result<Credentials, GatewayError> {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let body = serde_json::to_vec(&RegisterRequest {
        access_grant: grant.to_string(),
        email: email.map(str::to_string),
        display_name: display_name.map(str::to_string),
    })
    .map_err(|e| GatewayError::InvalidArgument(e.to_string()))?;
    let uri = format!("{}{REGISTER_PATH}", endpoint.trim_end_matches('/'));
    let req = http::Request::post(&uri)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| GatewayError::InvalidArgument(format!("{uri}: {e}")))?;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let resp = client
        .request(req)
        .await
        .map_err(|e| GatewayError::Io(format!("POST {uri}"), std::io::Error::other(e)))?;
    let status = resp.status();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| GatewayError::Io(format!("read answer of {uri}"), std::io::Error::other(e)))?
        .to_bytes();
    if !status.is_success() {
        let msg = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        return Err(if status == http::StatusCode::CONFLICT {
            GatewayError::Conflict(msg)
        } else {
            GatewayError::InvalidArgument(format!("{status}: {msg}"))
        });
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| GatewayError::Corrupt(format!("registration answer: {e}")))
}

#[cfg(test)]
mod tests {
    use satstore_common::NodeId;
    use satstore_common::macaroon::ApiKey;
    use uplink::encryption::{EncryptionStore, Key, PathCipher};

    use super::*;
    use crate::store::testing::sqlite_store;

    fn sample_grant(port: u16) -> String {
        let id = NodeId::from_public_key(&[4; 32]);
        Access::new(
            format!("{id}@127.0.0.1:{port}").parse().unwrap(),
            ApiKey::new(b"api key secret"),
            EncryptionStore::new(Key::from_bytes([7; 32]), PathCipher::AesGcm),
        )
        .serialize()
    }

    #[tokio::test]
    async fn stored_users_hold_only_sealed_values_that_open_with_the_credentials() {
        let (store, dir) = sqlite_store().await;
        let grant = sample_grant(7777);
        let reg = Registration {
            grant: &grant,
            email: Some("Ann@Example.com"),
            email_confirmed: true,
            ..Default::default()
        };
        let (lookup, record, c) = new_user(&grant, &reg, "sat/p");
        store.insert_user(&lookup, &record).await.unwrap();
        assert_eq!(c.display_name, "Ann");
        let user = store
            .user_by_lookup(&crypto::lookup(&c.access_key))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.id, c.canonical_id);
        assert_eq!(user.project_id.as_deref(), Some("sat/p"));
        assert_eq!(
            store
                .user_by_confirmed_email("ann@example.com")
                .await
                .unwrap()
                .unwrap()
                .id,
            c.canonical_id
        );
        // The secret opens with the key id; the grant with the secret; not crosswise.
        let secret = crypto::open(
            &crypto::secret_sealing_key(&c.access_key),
            "secret",
            &user.sealed_secret,
        )
        .unwrap();
        assert_eq!(secret, c.secret_key.as_bytes());
        let opened = crypto::open(
            &crypto::grant_sealing_key(&c.secret_key),
            "grant",
            &user.sealed_grant,
        )
        .unwrap();
        assert_eq!(opened, grant.as_bytes());
        assert!(
            crypto::open(
                &crypto::grant_sealing_key(&c.access_key),
                "grant",
                &user.sealed_grant
            )
            .is_err()
        );
        // An email given without an operator's word is kept, not trusted.
        let self_service = Registration {
            email_confirmed: false,
            email: Some("bob@example.com"),
            ..reg
        };
        let (lookup, record, _) = new_user(&grant, &self_service, "sat/p");
        assert_eq!(record.confirmed_email, None);
        store.insert_user(&lookup, &record).await.unwrap();
        assert!(
            store
                .user_by_confirmed_email("bob@example.com")
                .await
                .unwrap()
                .is_none()
        );
        // Nothing in the database file reveals the key id, secret or grant.
        store.close().await;
        let mut raw = Vec::new();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            raw.extend(std::fs::read(entry.unwrap().path()).unwrap());
        }
        let hay = String::from_utf8_lossy(&raw);
        for needle in [&c.access_key, &c.secret_key, &grant[..40]] {
            assert!(!hay.contains(needle), "database holds {needle}");
        }
    }

    #[tokio::test]
    async fn bad_grants_emails_and_untrusted_satellites_are_refused_without_dialing() {
        let (store, _dir) = sqlite_store().await;
        // Something listening where the grant's satellite would be.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let grant = sample_grant(listener.local_addr().unwrap().port());
        let registrar = Registrar::new(
            store.clone(),
            TrustedSatellites::default(),
            UplinkConfig::default(),
        );
        let reg = |grant: &'static str| Registration {
            grant,
            ..Default::default()
        };
        assert!(matches!(
            registrar.register(&reg("not a grant")).await,
            Err(GatewayError::Uplink(_))
        ));
        let leaked: &'static str = Box::leak(grant.into_boxed_str());
        assert!(matches!(
            registrar
                .register(&Registration {
                    email: Some("no-at-sign"),
                    ..reg(leaked)
                })
                .await,
            Err(GatewayError::InvalidArgument(_))
        ));
        match registrar.register(&reg(leaked)).await {
            Err(GatewayError::UntrustedSatellite(m)) => assert!(m.contains("127.0.0.1"), "{m}"),
            other => panic!("want UntrustedSatellite, got {other:?}"),
        }
        assert!(
            listener.accept().is_err(),
            "the untrusted satellite was dialed"
        );
    }
}
