//! Admin operations used by the `satellite` CLI, localnet and the
//! end-to-end tests: projects and their API keys (create, list, revoke,
//! delete).

use satstore_common::macaroon::ApiKey;
use satstore_common::time::now_unix;
use satstore_proto::Message;

use crate::error::SatelliteError;
use crate::store::{ApiKeyRecord, ProjectInfo, Store};

/// Creates a project named `name` with a first API key named "default".
/// `AlreadyExists` if the name is taken.
pub async fn create_project(
    store: &Store,
    name: &str,
) -> Result<(ProjectInfo, ApiKey), SatelliteError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(SatelliteError::InvalidArgument(
            "project name must be 1 to 200 characters".into(),
        ));
    }
    let project = ProjectInfo {
        id: rand::random(),
        name: name.to_string(),
        salt: rand::random(),
        created_at: now_unix(),
    };
    if !store.insert_project(&project).await? {
        return Err(SatelliteError::AlreadyExists(format!(
            "project {name:?} already exists"
        )));
    }
    let key = insert_key(store, &project, "default").await?;
    tracing::info!(project = %project.id_string(), name, "project created");
    Ok((project, key))
}

/// Creates another API key for the project named `project_name`.
pub async fn create_api_key(
    store: &Store,
    project_name: &str,
    key_name: &str,
) -> Result<ApiKey, SatelliteError> {
    let project = require_project(store, project_name).await?;
    insert_key(store, &project, key_name).await
}

/// The project named `name`, if any.
pub async fn find_project(
    store: &Store,
    name: &str,
) -> Result<Option<ProjectInfo>, SatelliteError> {
    Ok(store.project_by_name(name.trim()).await?)
}

/// What an operator sees of an API key root (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyInfo {
    /// Name given at creation (not necessarily unique).
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Macaroon head: identifies the root key and every key derived from it.
    pub head: Vec<u8>,
}

/// The API key roots of the project named `project_name`, oldest first.
/// `NotFound` if there is no such project.
pub async fn list_api_keys(
    store: &Store,
    project_name: &str,
) -> Result<Vec<ApiKeyInfo>, SatelliteError> {
    let project = require_project(store, project_name).await?;
    Ok(store
        .list_api_keys(&project.id)
        .await?
        .into_iter()
        .map(|r| ApiKeyInfo {
            name: r.name,
            created_at: r.created_at,
            head: r.head,
        })
        .collect())
}

/// Revokes `key` (a root key or any restricted key derived from one): it
/// and every key derived from it are refused with UNAUTHENTICATED "API key
/// has been revoked" from the next request on. Keys it was derived from
/// stay valid. `NotFound` if the key's root is unknown (never issued here
/// or deleted), `InvalidArgument` if it does not verify. Idempotent.
pub async fn revoke_api_key(store: &Store, key: &ApiKey) -> Result<(), SatelliteError> {
    crate::revocation::revoke_as_operator(store, key).await
}

/// Deletes the API key root(s) named `key_name` of the project named
/// `project_name`; every key derived from them is refused as unknown
/// afterwards. Returns how many roots were deleted (names are not unique).
/// `NotFound` if the project or a key with that name does not exist.
pub async fn delete_api_key(
    store: &Store,
    project_name: &str,
    key_name: &str,
) -> Result<u64, SatelliteError> {
    let project = require_project(store, project_name).await?;
    let n = store.delete_api_keys_named(&project.id, key_name).await?;
    if n == 0 {
        return Err(SatelliteError::NotFound(format!(
            "project {project_name:?} has no API key named {key_name:?}"
        )));
    }
    tracing::info!(project = %project.id_string(), name = key_name, deleted = n, "API key deleted");
    Ok(n)
}

/// Parses what an operator pastes to name a key: a serialized API key
/// (base58check version 0 of the macaroon bytes) or an access grant
/// (base58check version 0 of a prost `access.v1.Scope`), whose API key is
/// returned. `InvalidArgument` if it is neither.
pub fn parse_key_or_grant(text: &str) -> Result<ApiKey, SatelliteError> {
    let text = text.trim();
    let raw = bs58::decode(text)
        .with_check(Some(0))
        .into_vec()
        .map_err(|_| {
            SatelliteError::InvalidArgument(
                "not an API key or access grant: expected base58check text".into(),
            )
        })?;
    let body = raw.get(1..).unwrap_or_default();
    if let Ok(key) = ApiKey::from_bytes(body) {
        return Ok(key);
    }
    let scope = satstore_proto::access::Scope::decode(body).map_err(|_| {
        SatelliteError::InvalidArgument(
            "not an API key or access grant: the decoded bytes are neither".into(),
        )
    })?;
    ApiKey::from_bytes(&scope.api_key).map_err(|e| {
        SatelliteError::InvalidArgument(format!(
            "the access grant does not carry a valid API key: {e}"
        ))
    })
}

async fn require_project(store: &Store, name: &str) -> Result<ProjectInfo, SatelliteError> {
    find_project(store, name)
        .await?
        .ok_or_else(|| SatelliteError::NotFound(format!("project {name:?} not found")))
}

async fn insert_key(
    store: &Store,
    project: &ProjectInfo,
    key_name: &str,
) -> Result<ApiKey, SatelliteError> {
    let secret: [u8; 32] = rand::random();
    let key = ApiKey::new(&secret);
    store
        .insert_api_key(&ApiKeyRecord {
            id: rand::random(),
            project_id: project.id,
            head: key.head().to_vec(),
            secret: secret.to_vec(),
            name: key_name.to_string(),
            created_at: now_unix(),
        })
        .await?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn projects_and_keys() {
        let (store, _dir) = crate::store::testing::sqlite_store().await;
        let (p, key) = create_project(&store, "demo").await.unwrap();
        assert!(matches!(
            create_project(&store, "demo").await,
            Err(SatelliteError::AlreadyExists(_))
        ));
        assert!(matches!(
            create_project(&store, " ").await,
            Err(SatelliteError::InvalidArgument(_))
        ));
        assert_eq!(find_project(&store, "demo").await.unwrap(), Some(p.clone()));
        assert_eq!(find_project(&store, "other").await.unwrap(), None);
        let rec = store.api_key_by_head(key.head()).await.unwrap().unwrap();
        assert_eq!(rec.project_id, p.id);
        assert!(key.verify(&rec.secret).is_some());
        let second = create_api_key(&store, "demo", "ci").await.unwrap();
        assert_ne!(second.head(), key.head());
        assert!(matches!(
            create_api_key(&store, "missing", "x").await,
            Err(SatelliteError::NotFound(_))
        ));
    }

    fn grant_text(key: &ApiKey) -> String {
        let scope = satstore_proto::access::Scope {
            satellite_addr: "x@127.0.0.1:1".into(),
            api_key: key.to_bytes(),
            encryption_access: None,
        };
        bs58::encode(scope.encode_to_vec())
            .with_check_version(0)
            .into_string()
    }

    #[tokio::test]
    async fn list_revoke_and_delete_keys() {
        let (store, _dir) = crate::store::testing::sqlite_store().await;
        let (_, root) = create_project(&store, "demo").await.unwrap();
        let ci = create_api_key(&store, "demo", "ci").await.unwrap();
        // Oldest first; keys created in the same second sort by name.
        let listed = list_api_keys(&store, "demo").await.unwrap();
        assert_eq!(
            listed.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
            ["ci", "default"]
        );
        assert_eq!(listed[0].head, ci.head());
        assert_eq!(listed[1].head, root.head());
        assert!(listed[0].created_at <= now_unix());
        assert!(matches!(
            list_api_keys(&store, "missing").await,
            Err(SatelliteError::NotFound(_))
        ));

        // Keys and grants (also of restricted keys) parse to the same key.
        let restricted = root.restrict(&satstore_common::macaroon::Caveat {
            disallow_writes: true,
            ..Default::default()
        });
        for k in [&root, &restricted] {
            assert_eq!(&parse_key_or_grant(&k.serialize()).unwrap(), k);
            assert_eq!(
                &parse_key_or_grant(&format!(" {}\n", grant_text(k))).unwrap(),
                k
            );
        }
        for bad in [
            "",
            "garbage!",
            &bs58::encode(b"xyz").with_check_version(0).into_string(),
        ] {
            assert!(
                matches!(
                    parse_key_or_grant(bad),
                    Err(SatelliteError::InvalidArgument(_))
                ),
                "{bad:?}"
            );
        }

        // Revoking the restricted key leaves its root valid.
        let auth = crate::auth::Authenticator::new(store.clone());
        revoke_api_key(&store, &restricted).await.unwrap();
        let e = auth
            .authenticate(&restricted.to_bytes(), now_unix())
            .await
            .unwrap_err();
        assert!(matches!(e, SatelliteError::Unauthenticated(ref m) if m.contains("revoked")));
        auth.authenticate(&root.to_bytes(), now_unix())
            .await
            .unwrap();

        // Deleting "ci" makes it unknown; "default" stays.
        assert_eq!(delete_api_key(&store, "demo", "ci").await.unwrap(), 1);
        let e = auth
            .authenticate(&ci.to_bytes(), now_unix())
            .await
            .unwrap_err();
        assert!(matches!(e, SatelliteError::Unauthenticated(ref m) if m.contains("unknown")));
        assert!(matches!(
            delete_api_key(&store, "demo", "ci").await,
            Err(SatelliteError::NotFound(_))
        ));
        assert!(matches!(
            delete_api_key(&store, "missing", "default").await,
            Err(SatelliteError::NotFound(_))
        ));
        assert!(matches!(
            revoke_api_key(&store, &ci).await,
            Err(SatelliteError::NotFound(_))
        ));
        assert_eq!(list_api_keys(&store, "demo").await.unwrap().len(), 1);
        auth.authenticate(&root.to_bytes(), now_unix())
            .await
            .unwrap();
    }
}
