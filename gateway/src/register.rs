//! Registering S3 users: new credentials for an access grant.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use uplink::Access;

use crate::crypto;
use crate::error::GatewayError;
use crate::store::{Store, UserRecord, now_unix};

/// Path of the HTTP registration endpoint on the S3 listener (`_` makes it
/// an invalid bucket name, so it never shadows a bucket).
pub const REGISTER_PATH: &str = "/_satstore/register";

/// Body of a `POST /_satstore/register`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// Serialized access grant.
    pub access_grant: String,
    /// Email for email grants.
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

/// Registers `grant` (a serialized access grant) as a new S3 user:
/// generates credentials, seals the grant under the secret and the secret
/// under the access key id, and stores them.
pub async fn register(
    store: &Store,
    grant: &str,
    email: Option<&str>,
    display_name: Option<&str>,
) -> Result<Credentials, GatewayError> {
    // Refuse what is not a usable grant now, not at the first request.
    Access::parse(grant)?;
    if let Some(e) = email
        && (!e.contains('@') || e.len() > 254)
    {
        return Err(GatewayError::InvalidArgument(format!(
            "{e:?} is not an email address"
        )));
    }
    let access_key = crypto::new_access_key_id();
    let secret_key = crypto::new_secret_key();
    let canonical_id = crypto::new_canonical_id();
    let display_name = match (display_name, email) {
        (Some(d), _) => d.to_string(),
        (None, Some(e)) => e.split('@').next().unwrap_or(e).to_string(),
        (None, None) => format!("user-{}", &canonical_id[..8]),
    };
    let record = UserRecord {
        id: canonical_id.clone(),
        display_name: display_name.clone(),
        email: email.map(str::to_string),
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
    store
        .insert_user(&crypto::lookup(&access_key), &record)
        .await?;
    Ok(Credentials {
        access_key,
        secret_key,
        canonical_id,
        display_name,
    })
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

    fn sample_grant() -> String {
        let id = NodeId::from_public_key(&[4; 32]);
        Access::new(
            format!("{id}@127.0.0.1:7777").parse().unwrap(),
            ApiKey::new(b"api key secret"),
            EncryptionStore::new(Key::from_bytes([7; 32]), PathCipher::AesGcm),
        )
        .serialize()
    }

    #[tokio::test]
    async fn registration_stores_only_sealed_values_that_open_with_the_credentials() {
        let (store, dir) = sqlite_store().await;
        let grant = sample_grant();
        let c = register(&store, &grant, Some("Ann@Example.com"), None)
            .await
            .unwrap();
        assert_eq!(c.display_name, "Ann");
        let user = store
            .user_by_lookup(&crypto::lookup(&c.access_key))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.id, c.canonical_id);
        // Case-insensitive email lookup finds the same user.
        assert_eq!(
            store
                .user_by_email("ann@example.com")
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
    async fn bad_grants_and_duplicate_emails_are_refused() {
        let (store, _dir) = sqlite_store().await;
        assert!(matches!(
            register(&store, "not a grant", None, None).await,
            Err(GatewayError::Uplink(_))
        ));
        assert!(matches!(
            register(&store, &sample_grant(), Some("no-at-sign"), None).await,
            Err(GatewayError::InvalidArgument(_))
        ));
        register(&store, &sample_grant(), Some("a@b.c"), None)
            .await
            .unwrap();
        assert!(matches!(
            register(&store, &sample_grant(), Some("A@B.C"), None).await,
            Err(GatewayError::Conflict(_))
        ));
        // Two registrations of one grant are two users with their own ids.
        let x = register(&store, &sample_grant(), None, Some("x"))
            .await
            .unwrap();
        let y = register(&store, &sample_grant(), None, Some("y"))
            .await
            .unwrap();
        assert_ne!(x.canonical_id, y.canonical_id);
        assert_ne!(x.access_key, y.access_key);
    }
}
