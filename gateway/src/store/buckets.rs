//! The gateway's bucket namespace: which user owns which bucket name.

use sqlx::Row;

use super::Store;
use crate::error::GatewayError;

/// A bucket name claimed through the gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketRecord {
    /// Bucket name.
    pub name: String,
    /// Canonical id of the owner.
    pub owner_id: String,
    /// LocationConstraint given at creation ("" = the default region).
    pub location: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl Store {
    /// Claims `name` for `owner_id`; the existing record if it is taken.
    pub async fn claim_bucket(
        &self,
        name: &str,
        owner_id: &str,
        location: &str,
        created_at: i64,
    ) -> Result<Result<(), BucketRecord>, GatewayError> {
        let r = sqlx::query(
            "INSERT INTO buckets (name, owner_id, location, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name.to_string())
        .bind(owner_id.to_string())
        .bind(location.to_string())
        .bind(created_at)
        .execute(self.pool())
        .await?;
        if r.rows_affected() == 1 {
            return Ok(Ok(()));
        }
        match self.bucket(name).await? {
            Some(rec) => Ok(Err(rec)),
            // Released between the insert and the read: try once more.
            None => Box::pin(self.claim_bucket(name, owner_id, location, created_at)).await,
        }
    }

    /// The record of a claimed bucket name.
    pub async fn bucket(&self, name: &str) -> Result<Option<BucketRecord>, GatewayError> {
        let row =
            sqlx::query("SELECT name, owner_id, location, created_at FROM buckets WHERE name = $1")
                .bind(name.to_string())
                .fetch_optional(self.pool())
                .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(BucketRecord {
                name: r.try_get("name")?,
                owner_id: r.try_get("owner_id")?,
                location: r.try_get("location")?,
                created_at: r.try_get("created_at")?,
            })),
        }
    }

    /// Releases a bucket name and everything the gateway kept for it
    /// (ACLs, shares, CORS).
    pub async fn release_bucket(&self, name: &str) -> Result<(), GatewayError> {
        let mut tx = self.pool().begin().await?;
        for table in [
            "buckets WHERE name",
            "uploads WHERE bucket",
            "acls WHERE bucket",
            "shares WHERE bucket",
            "cors WHERE bucket",
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} = $1")))
                .bind(name.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::testing::sqlite_store;

    #[tokio::test]
    async fn a_bucket_name_is_claimed_once() {
        let (store, _dir) = sqlite_store().await;
        assert!(
            store
                .claim_bucket("photos", "alice", "EU", 10)
                .await
                .unwrap()
                .is_ok()
        );
        let taken = store
            .claim_bucket("photos", "bob", "", 11)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(taken.owner_id, "alice");
        assert_eq!(taken.created_at, 10);
        assert_eq!(taken.location, "EU");
        store.release_bucket("photos").await.unwrap();
        assert!(store.bucket("photos").await.unwrap().is_none());
        assert!(
            store
                .claim_bucket("photos", "bob", "", 12)
                .await
                .unwrap()
                .is_ok()
        );
    }
}
