//! What CreateMultipartUpload was given, kept until Complete or Abort, per
//! project.

use sqlx::Row;

use super::{Store, now_unix};
use crate::error::GatewayError;

impl Store {
    /// Records the sealed metadata of a new multipart upload of
    /// `project_id`'s bucket.
    pub async fn put_upload(
        &self,
        project_id: &str,
        upload_id: &str,
        bucket: &str,
        key: &str,
        sealed_meta: &str,
    ) -> Result<(), GatewayError> {
        sqlx::query(
            "INSERT INTO uploads (upload_id, project_id, bucket, object_key, sealed_meta, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(upload_id.to_string())
        .bind(project_id.to_string())
        .bind(bucket.to_string())
        .bind(key.to_string())
        .bind(sealed_meta.to_string())
        .bind(now_unix())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The sealed metadata of an upload of `project_id`'s `bucket`/`key`.
    pub async fn upload(
        &self,
        project_id: &str,
        upload_id: &str,
        bucket: &str,
        key: &str,
    ) -> Result<Option<String>, GatewayError> {
        let row = sqlx::query(
            "SELECT sealed_meta FROM uploads WHERE upload_id = $1 AND project_id = $2 \
             AND bucket = $3 AND object_key = $4",
        )
        .bind(upload_id.to_string())
        .bind(project_id.to_string())
        .bind(bucket.to_string())
        .bind(key.to_string())
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("sealed_meta")?),
            None => None,
        })
    }

    /// Forgets an upload (completed or aborted).
    pub async fn delete_upload(&self, upload_id: &str) -> Result<(), GatewayError> {
        sqlx::query("DELETE FROM uploads WHERE upload_id = $1")
            .bind(upload_id.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
