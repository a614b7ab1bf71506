//! Registering S3 users: new credentials for an access grant.

use uplink::Access;

use crate::crypto;
use crate::error::GatewayError;
use crate::store::{Store, UserRecord, now_unix};

/// What a registration hands back to the user (shown once).
#[derive(Clone, Debug, PartialEq, Eq)]
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
