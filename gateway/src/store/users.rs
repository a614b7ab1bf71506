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
    /// The email the user gave at registration (not trusted for grants).
    pub email: Option<String>,
    /// The email an operator confirmed (lower case): what grants by email
    /// resolve to. Unique among users.
    pub confirmed_email: Option<String>,
    /// `satellite id/project id` of the grant, as the satellite answered
    /// at registration (or at the first request of an older user).
    pub project_id: Option<String>,
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
        confirmed_email: r.try_get("confirmed_email")?,
        project_id: r.try_get("project_id")?,
        sealed_secret: r.try_get("sealed_secret")?,
        sealed_grant: r.try_get("sealed_grant")?,
        created_at: r.try_get("created_at")?,
    })
}

const COLUMNS: &str = "id, display_name, email, confirmed_email, project_id, sealed_secret, \
                       sealed_grant, created_at";

impl Store {
    /// Adds a user; `Conflict` when its confirmed email belongs to another
    /// user.
    pub async fn insert_user(&self, lookup: &str, user: &UserRecord) -> Result<(), GatewayError> {
        let confirmed = user.confirmed_email.as_deref().map(str::to_lowercase);
        if let Some(email) = &confirmed
            && self.user_by_confirmed_email(email).await?.is_some()
        {
            return Err(GatewayError::Conflict(format!("email {email}")));
        }
        sqlx::query(
            "INSERT INTO users (id, lookup, display_name, email, confirmed_email, project_id, \
             sealed_secret, sealed_grant, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(user.id.clone())
        .bind(lookup.to_string())
        .bind(user.display_name.clone())
        .bind(user.email.clone())
        .bind(confirmed)
        .bind(user.project_id.clone())
        .bind(user.sealed_secret.clone())
        .bind(user.sealed_grant.clone())
        .bind(if user.created_at == 0 {
            now_unix()
        } else {
            user.created_at
        })
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

    /// The user whose CONFIRMED email this is (compared case-insensitively).
    /// Emails users merely gave are never looked up.
    pub async fn user_by_confirmed_email(
        &self,
        email: &str,
    ) -> Result<Option<UserRecord>, GatewayError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE confirmed_email = $1"
        )))
        .bind(email.to_lowercase())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(record).transpose()
    }

    /// Records that an operator confirmed `email` belongs to user `id`.
    /// `NotFound`-like `InvalidArgument` for an unknown id, `Conflict` when
    /// another user holds it confirmed.
    pub async fn confirm_email(&self, id: &str, email: &str) -> Result<(), GatewayError> {
        let email = email.to_lowercase();
        if let Some(other) = self.user_by_confirmed_email(&email).await?
            && other.id != id
        {
            return Err(GatewayError::Conflict(format!("email {email}")));
        }
        let r = sqlx::query("UPDATE users SET confirmed_email = $1, email = $1 WHERE id = $2")
            .bind(email)
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        if r.rows_affected() == 0 {
            return Err(GatewayError::InvalidArgument(format!(
                "no registered user has the canonical id {id}"
            )));
        }
        Ok(())
    }

    /// Records the project of an older user's grant (learned from the
    /// satellite at its first request).
    pub async fn set_user_project(&self, id: &str, project_id: &str) -> Result<(), GatewayError> {
        sqlx::query("UPDATE users SET project_id = $1 WHERE id = $2 AND project_id IS NULL")
            .bind(project_id.to_string())
            .bind(id.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::all_stores;

    fn user(id: &str, email: Option<&str>, confirmed: Option<&str>) -> UserRecord {
        UserRecord {
            id: id.into(),
            display_name: id.into(),
            email: email.map(str::to_string),
            confirmed_email: confirmed.map(str::to_string),
            project_id: Some("sat/p".into()),
            sealed_secret: "s".into(),
            sealed_grant: "g".into(),
            created_at: 1,
        }
    }

    #[tokio::test]
    async fn only_operator_confirmed_emails_resolve() {
        let (stores, _dir) = all_stores().await;
        for store in stores {
            // Two users may give the same email; neither is trusted with it.
            store
                .insert_user("l1", &user("attacker", Some("victim@x.org"), None))
                .await
                .unwrap();
            store
                .insert_user("l2", &user("victim", Some("Victim@x.org"), None))
                .await
                .unwrap();
            assert!(
                store
                    .user_by_confirmed_email("victim@x.org")
                    .await
                    .unwrap()
                    .is_none()
            );
            // The operator confirms it for the right one.
            store.confirm_email("victim", "VICTIM@x.org").await.unwrap();
            assert_eq!(
                store
                    .user_by_confirmed_email("victim@X.org")
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
                "victim"
            );
            assert!(matches!(
                store.confirm_email("attacker", "victim@x.org").await,
                Err(GatewayError::Conflict(_))
            ));
            assert!(matches!(
                store
                    .insert_user("l3", &user("third", None, Some("victim@x.org")))
                    .await,
                Err(GatewayError::Conflict(_))
            ));
            assert!(matches!(
                store.confirm_email("nobody", "n@x.org").await,
                Err(GatewayError::InvalidArgument(_))
            ));
            // The project of an older user is filled once.
            let mut old = user("old", None, None);
            old.project_id = None;
            store.insert_user("l4", &old).await.unwrap();
            store.set_user_project("old", "sat/q").await.unwrap();
            store.set_user_project("old", "sat/other").await.unwrap();
            assert_eq!(
                store
                    .user_by_id("old")
                    .await
                    .unwrap()
                    .unwrap()
                    .project_id
                    .as_deref(),
                Some("sat/q")
            );
        }
    }
}
