//! Projects: the owners of buckets and API keys.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError};

/// A project as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectInfo {
    /// Random 16-byte id.
    pub id: [u8; 16],
    /// Unique human name.
    pub name: String,
    /// Salt for deriving encryption keys from passphrases.
    pub salt: [u8; 16],
    /// Unix seconds.
    pub created_at: i64,
}

impl ProjectInfo {
    /// The id in text form (a UUID).
    pub fn id_string(&self) -> String {
        uuid::Uuid::from_bytes(self.id).to_string()
    }
}

fn fixed16(what: &'static str, v: Vec<u8>) -> Result<[u8; 16], StoreError> {
    v.try_into()
        .map_err(|v: Vec<u8>| StoreError::corrupt(what, format!("{} bytes, want 16", v.len())))
}

fn from_row(row: &AnyRow) -> Result<ProjectInfo, StoreError> {
    Ok(ProjectInfo {
        id: fixed16("project id", row.try_get("id")?)?,
        name: row.try_get("name")?,
        salt: fixed16("project salt", row.try_get("salt")?)?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Inserts a project; `Ok(false)` if the name is taken.
    pub async fn insert_project(&self, p: &ProjectInfo) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "INSERT INTO projects (id, name, salt, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(p.id.to_vec())
        .bind(p.name.clone())
        .bind(p.salt.to_vec())
        .bind(p.created_at)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The project with this name.
    pub async fn project_by_name(&self, name: &str) -> Result<Option<ProjectInfo>, StoreError> {
        let row = sqlx::query("SELECT id, name, salt, created_at FROM projects WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The project with this id.
    pub async fn project_by_id(&self, id: &[u8; 16]) -> Result<Option<ProjectInfo>, StoreError> {
        let row = sqlx::query("SELECT id, name, salt, created_at FROM projects WHERE id = $1")
            .bind(id.to_vec())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn project_round_trip_and_unique_name() {
        for (store, _dir) in crate::store::testing::all_stores().await {
            let name = format!("p-{}", rand::random::<u64>());
            let p = ProjectInfo {
                id: rand::random(),
                name: name.clone(),
                salt: rand::random(),
                created_at: 42,
            };
            assert!(store.insert_project(&p).await.unwrap());
            let dup = ProjectInfo {
                id: rand::random(),
                ..p.clone()
            };
            assert!(!store.insert_project(&dup).await.unwrap());
            assert_eq!(store.project_by_name(&name).await.unwrap(), Some(p.clone()));
            assert_eq!(store.project_by_id(&p.id).await.unwrap(), Some(p));
            assert_eq!(store.project_by_name("nope-x").await.unwrap(), None);
        }
    }
}
