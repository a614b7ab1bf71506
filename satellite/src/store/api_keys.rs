//! API keys: the root secret of each macaroon head, and revoked tails.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError};

/// An API key's root record (the secret never leaves the satellite).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Random 16-byte id.
    pub id: [u8; 16],
    /// Project the key belongs to.
    pub project_id: [u8; 16],
    /// Macaroon head (lookup key).
    pub head: Vec<u8>,
    /// 32-byte root secret.
    pub secret: Vec<u8>,
    /// Human name.
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
}

fn fixed16(what: &'static str, v: Vec<u8>) -> Result<[u8; 16], StoreError> {
    v.try_into()
        .map_err(|v: Vec<u8>| StoreError::corrupt(what, format!("{} bytes, want 16", v.len())))
}

fn from_row(row: &AnyRow) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: fixed16("api key id", row.try_get("id")?)?,
        project_id: fixed16("project id", row.try_get("project_id")?)?,
        head: row.try_get("head")?,
        secret: row.try_get("secret")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Stores a new API key root.
    pub async fn insert_api_key(&self, k: &ApiKeyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, project_id, head, secret, name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(k.id.to_vec())
        .bind(k.project_id.to_vec())
        .bind(k.head.clone())
        .bind(k.secret.clone())
        .bind(k.name.clone())
        .bind(k.created_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The key root with this macaroon head.
    pub async fn api_key_by_head(&self, head: &[u8]) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, project_id, head, secret, name, created_at FROM api_keys WHERE head = $1",
        )
        .bind(head.to_vec())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every API key root of a project, oldest first.
    pub async fn list_api_keys(
        &self,
        project_id: &[u8; 16],
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, project_id, head, secret, name, created_at FROM api_keys \
             WHERE project_id = $1 ORDER BY created_at, name, head",
        )
        .bind(project_id.to_vec())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Deletes the API key roots of a project named `name` (and, by cascade,
    /// their revoked tails); returns how many were deleted. Every key
    /// derived from a deleted root is unknown afterwards.
    pub async fn delete_api_keys_named(
        &self,
        project_id: &[u8; 16],
        name: &str,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        // Explicit, so it holds even where foreign keys are not enforced.
        sqlx::query(
            "DELETE FROM revoked_api_key_tails WHERE api_key_id IN \
             (SELECT id FROM api_keys WHERE project_id = $1 AND name = $2)",
        )
        .bind(project_id.to_vec())
        .bind(name.to_string())
        .execute(&mut *tx)
        .await?;
        let r = sqlx::query("DELETE FROM api_keys WHERE project_id = $1 AND name = $2")
            .bind(project_id.to_vec())
            .bind(name.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }

    /// Marks a tail (of a key or one of its restrictions) revoked.
    pub async fn revoke_tail(&self, api_key_id: &[u8; 16], tail: &[u8]) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO revoked_api_key_tails (tail, api_key_id) VALUES ($1, $2) \
             ON CONFLICT (tail) DO NOTHING",
        )
        .bind(tail.to_vec())
        .bind(api_key_id.to_vec())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Whether any of these tails was revoked: one query for the whole
    /// chain (callers bound its length, see `macaroon::MAX_CAVEATS`).
    pub async fn any_tail_revoked(&self, tails: &[[u8; 32]]) -> Result<bool, StoreError> {
        if tails.is_empty() {
            return Ok(false);
        }
        let placeholders: Vec<String> = (1..=tails.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT tail FROM revoked_api_key_tails WHERE tail IN ({}) LIMIT 1",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for t in tails {
            query = query.bind(t.to_vec());
        }
        Ok(query.fetch_optional(self.pool()).await?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ProjectInfo;

    #[tokio::test]
    async fn api_key_round_trip_and_revocation() {
        for (store, _dir) in crate::store::testing::all_stores().await {
            let p = ProjectInfo {
                id: rand::random(),
                name: format!("p-{}", rand::random::<u64>()),
                salt: rand::random(),
                created_at: 1,
            };
            store.insert_project(&p).await.unwrap();
            let k = ApiKeyRecord {
                id: rand::random(),
                project_id: p.id,
                head: rand::random::<[u8; 32]>().to_vec(),
                secret: vec![7; 32],
                name: "default".into(),
                created_at: 2,
            };
            store.insert_api_key(&k).await.unwrap();
            assert_eq!(
                store.api_key_by_head(&k.head).await.unwrap(),
                Some(k.clone())
            );
            assert_eq!(store.api_key_by_head(b"nope").await.unwrap(), None);
            let t1: [u8; 32] = rand::random();
            let t2: [u8; 32] = rand::random();
            assert!(!store.any_tail_revoked(&[t1, t2]).await.unwrap());
            assert!(!store.any_tail_revoked(&[]).await.unwrap());
            store.revoke_tail(&k.id, &t2).await.unwrap();
            store.revoke_tail(&k.id, &t2).await.unwrap();
            assert!(store.any_tail_revoked(&[t1, t2]).await.unwrap());
            // A whole chain of the longest accepted key, revoked anywhere.
            let chain: Vec<[u8; 32]> = (0..33).map(|_| rand::random()).collect();
            assert!(!store.any_tail_revoked(&chain).await.unwrap());
            for at in [0, 16, 32] {
                let mut with = chain.clone();
                with[at] = t2;
                assert!(store.any_tail_revoked(&with).await.unwrap(), "at {at}");
            }

            // Listing and deleting by name.
            let other = ApiKeyRecord {
                id: rand::random(),
                head: rand::random::<[u8; 32]>().to_vec(),
                name: "ci".into(),
                created_at: 3,
                ..k.clone()
            };
            store.insert_api_key(&other).await.unwrap();
            assert_eq!(
                store.list_api_keys(&p.id).await.unwrap(),
                vec![k.clone(), other.clone()]
            );
            assert!(store.list_api_keys(&[0; 16]).await.unwrap().is_empty());
            assert_eq!(store.delete_api_keys_named(&p.id, "nope").await.unwrap(), 0);
            assert_eq!(
                store.delete_api_keys_named(&p.id, "default").await.unwrap(),
                1
            );
            assert_eq!(store.api_key_by_head(&k.head).await.unwrap(), None);
            assert!(
                !store.any_tail_revoked(&[t2]).await.unwrap(),
                "revoked tails of a deleted key go with it"
            );
            assert_eq!(store.list_api_keys(&p.id).await.unwrap(), vec![other]);
        }
    }
}
