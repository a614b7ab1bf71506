//! CORS configuration per claimed bucket (stored in the text form of
//! [`crate::cors::CorsRules`]).

use sqlx::Row;

use super::Store;
use crate::error::GatewayError;

impl Store {
    /// Replaces the CORS rules of `project_id`'s bucket.
    pub async fn put_cors(
        &self,
        project_id: &str,
        bucket: &str,
        rules: &str,
    ) -> Result<(), GatewayError> {
        sqlx::query(
            "INSERT INTO cors (project_id, bucket, rules) VALUES ($1, $2, $3) \
             ON CONFLICT (project_id, bucket) DO UPDATE SET rules = excluded.rules",
        )
        .bind(project_id.to_string())
        .bind(bucket.to_string())
        .bind(rules.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The CORS rules of `project_id`'s bucket, if set.
    pub async fn cors(
        &self,
        project_id: &str,
        bucket: &str,
    ) -> Result<Option<String>, GatewayError> {
        let row = sqlx::query("SELECT rules FROM cors WHERE project_id = $1 AND bucket = $2")
            .bind(project_id.to_string())
            .bind(bucket.to_string())
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("rules")?),
            None => None,
        })
    }

    /// The CORS rules of whichever project claimed the bucket name (what
    /// preflights and response headers use).
    pub async fn cors_of_claimed(&self, bucket: &str) -> Result<Option<String>, GatewayError> {
        let row = sqlx::query(
            "SELECT c.rules FROM cors c JOIN buckets b \
             ON b.name = c.bucket AND b.project_id = c.project_id WHERE b.name = $1",
        )
        .bind(bucket.to_string())
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("rules")?),
            None => None,
        })
    }

    /// Removes the CORS rules of `project_id`'s bucket.
    pub async fn delete_cors(&self, project_id: &str, bucket: &str) -> Result<(), GatewayError> {
        sqlx::query("DELETE FROM cors WHERE project_id = $1 AND bucket = $2")
            .bind(project_id.to_string())
            .bind(bucket.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::BucketRecord;
    use crate::store::testing::all_stores;

    #[tokio::test]
    async fn cors_rules_apply_only_while_their_project_holds_the_name() {
        let (stores, _dir) = all_stores().await;
        for store in stores {
            store.put_cors("sat/p1", "site", "rules-1").await.unwrap();
            // Not claimed by p1 (yet): nothing applies to requests.
            assert_eq!(store.cors_of_claimed("site").await.unwrap(), None);
            let rec = BucketRecord {
                name: "site".into(),
                project_id: "sat/p2".into(),
                owner_id: "bob".into(),
                location: String::new(),
                created_at: 1,
            };
            store.claim_bucket(&rec).await.unwrap().unwrap();
            assert_eq!(store.cors_of_claimed("site").await.unwrap(), None);
            store.put_cors("sat/p2", "site", "rules-2").await.unwrap();
            assert_eq!(
                store.cors_of_claimed("site").await.unwrap().as_deref(),
                Some("rules-2")
            );
            store.delete_cors("sat/p2", "site").await.unwrap();
            assert_eq!(store.cors_of_claimed("site").await.unwrap(), None);
            assert_eq!(
                store.cors("sat/p1", "site").await.unwrap().as_deref(),
                Some("rules-1")
            );
        }
    }
}
