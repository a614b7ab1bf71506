//! CORS configuration per bucket (stored in the text form of
//! [`crate::cors::CorsRules`]).

use sqlx::Row;

use super::Store;
use crate::error::GatewayError;

impl Store {
    /// Replaces a bucket's CORS rules.
    pub async fn put_cors(&self, bucket: &str, rules: &str) -> Result<(), GatewayError> {
        sqlx::query(
            "INSERT INTO cors (bucket, rules) VALUES ($1, $2) \
             ON CONFLICT (bucket) DO UPDATE SET rules = excluded.rules",
        )
        .bind(bucket.to_string())
        .bind(rules.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A bucket's CORS rules, if set.
    pub async fn cors(&self, bucket: &str) -> Result<Option<String>, GatewayError> {
        let row = sqlx::query("SELECT rules FROM cors WHERE bucket = $1")
            .bind(bucket.to_string())
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("rules")?),
            None => None,
        })
    }

    /// Removes a bucket's CORS rules.
    pub async fn delete_cors(&self, bucket: &str) -> Result<(), GatewayError> {
        sqlx::query("DELETE FROM cors WHERE bucket = $1")
            .bind(bucket.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
