//! Registered S3 users.

use sqlx::Row;

use super::{Store, now_unix};
use crate::error::GatewayError;

/// A registered user as stored (secret and grant still sealed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// Canonical user id (64 hex digits).
    pub id: String,
    /// Name shown as the owner's DisplayName.
    pub display_name: String,
    /// Email for `add_email_grant`, if given at registration.
    pub email: Option<String>,
    /// The S3 secret, sealed under the access key id.
    pub sealed_secret: String,
    /// The access grant, sealed under the S3 secret.
    pub sealed_grant: String,
    /// Unix seconds.
    pub created_at: i64,
}

fn record(r: &sqlx::any::AnyRow) -> Result<UserRecord, GatewayError> {
    Ok(UserRecord {
        id: r.try_get("id")?,
        display_name: r.try_get("display_name")?,
        email: r.try_get("email")?,
        sealed_secret: r.try_get("sealed_secret")?,
        sealed_grant: r.try_get("sealed_grant")?,
        created_at: r.try_get("created_at")?,
    })
}

const COLUMNS: &str = "id, display_name, email, sealed_secret, sealed_grant, created_at";

impl Store {
    /// Adds a user; `Conflict` when the email is taken.
    pub async fn insert_user(&self, lookup: &str, user: &UserRecord) -> Result<(), GatewayError> {
        if let Some(email) = &user.email
            && self.user_by_email(email).await?.is_some()
        {
            return Err(GatewayError::Conflict(format!("email {email}")));
        }
        sqlx::query(
            "INSERT INTO users (id, lookup, display_name, email, sealed_secret, sealed_grant, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user.id.clone())
        .bind(lookup.to_string())
        .bind(user.display_name.clone())
        .bind(user.email.clone())
        .bind(user.sealed_secret.clone())
        .bind(user.sealed_grant.clone())
        .bind(if user.created_at == 0 { now_unix() } else { user.created_at })
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The user whose access key id hashes to `lookup`.
    pub async fn user_by_lookup(&self, lookup: &str) -> Result<Option<UserRecord>, GatewayError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE lookup = $1"
        )))
        .bind(lookup.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(record).transpose()
    }

    /// The user with this canonical id.
    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, GatewayError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(record).transpose()
    }

    /// The user registered with this email (compared case-insensitively).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, GatewayError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE LOWER(email) = $1"
        )))
        .bind(email.to_lowercase())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(record).transpose()
    }

    /// Removes a user by canonical id; whether one was removed.
    pub async fn delete_user(&self, id: &str) -> Result<bool, GatewayError> {
        let r = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() > 0)
    }
}
