//! Gateway-wide settings (e.g. the fingerprint of the share key every
//! gateway on this database must use).

use sqlx::Row;

use super::Store;
use crate::error::GatewayError;

impl Store {
    /// The value of a setting, inserting `init` first if it is unset (the
    /// first gateway to start wins; the others read its value).
    pub async fn setting_or_init(&self, name: &str, init: &str) -> Result<String, GatewayError> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name.to_string())
        .bind(init.to_string())
        .execute(self.pool())
        .await?;
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name.to_string())
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("value")?)
    }

    /// The value of a setting, if set.
    pub async fn setting(&self, name: &str) -> Result<Option<String>, GatewayError> {
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("value")?),
            None => None,
        })
    }
}
