//! The queue of shares taken out of use: each stays here until the
//! satellite confirmed its revocation, so a share is never forgotten while
//! it still opens data.

use sqlx::{Any, Row, Transaction};

use super::{Store, now_unix};
use crate::error::GatewayError;

impl Store {
    /// Moves the shares of `project_id`/`bucket` (and of one object, or of
    /// every object and the bucket itself when `object_key` is `None`) to
    /// the revocation queue, inside `tx`. Returns them.
    pub(super) async fn queue_shares(
        tx: &mut Transaction<'static, Any>,
        project_id: &str,
        bucket: &str,
        object_key: Option<&str>,
    ) -> Result<Vec<String>, GatewayError> {
        let filter = match object_key {
            Some(_) => "project_id = $1 AND bucket = $2 AND object_key = $3",
            None => "project_id = $1 AND bucket = $2",
        };
        let select = format!("SELECT sealed_grant FROM shares WHERE {filter}");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(select))
            .bind(project_id.to_string())
            .bind(bucket.to_string());
        if let Some(k) = object_key {
            q = q.bind(k.to_string());
        }
        let rows = q.fetch_all(&mut **tx).await?;
        let mut sealed = Vec::with_capacity(rows.len());
        for r in &rows {
            sealed.push(r.try_get::<String, _>("sealed_grant")?);
        }
        for s in &sealed {
            sqlx::query(
                "INSERT INTO share_revocations (sealed_grant, queued_at, attempts) \
                 VALUES ($1, $2, 0) ON CONFLICT (sealed_grant) DO NOTHING",
            )
            .bind(s.clone())
            .bind(now_unix())
            .execute(&mut **tx)
            .await?;
        }
        let delete = format!("DELETE FROM shares WHERE {filter}");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(delete))
            .bind(project_id.to_string())
            .bind(bucket.to_string());
        if let Some(k) = object_key {
            q = q.bind(k.to_string());
        }
        q.execute(&mut **tx).await?;
        Ok(sealed)
    }

    /// Up to `limit` queued shares, least tried first.
    pub async fn queued_revocations(&self, limit: i64) -> Result<Vec<String>, GatewayError> {
        let rows = sqlx::query(
            "SELECT sealed_grant FROM share_revocations \
             ORDER BY attempts, queued_at, sealed_grant LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("sealed_grant")?))
            .collect()
    }

    /// Forgets a queued share: the satellite refuses it now.
    pub async fn revocation_done(&self, sealed: &str) -> Result<(), GatewayError> {
        sqlx::query("DELETE FROM share_revocations WHERE sealed_grant = $1")
            .bind(sealed.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Counts a failed attempt (the share stays queued).
    pub async fn revocation_failed(&self, sealed: &str) -> Result<(), GatewayError> {
        sqlx::query("UPDATE share_revocations SET attempts = attempts + 1 WHERE sealed_grant = $1")
            .bind(sealed.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
