//! Admin operations used by the `satellite` CLI and by localnet: projects
//! and their API keys.

use satstore_common::macaroon::ApiKey;
use satstore_common::time::now_unix;

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
    let project = find_project(store, project_name)
        .await?
        .ok_or_else(|| SatelliteError::NotFound(format!("project {project_name:?} not found")))?;
    insert_key(store, &project, key_name).await
}

/// The project named `name`, if any.
pub async fn find_project(
    store: &Store,
    name: &str,
) -> Result<Option<ProjectInfo>, SatelliteError> {
    Ok(store.project_by_name(name.trim()).await?)
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
}
