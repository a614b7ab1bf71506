//! The gateway's own state in SQL (SQLite by default, PostgreSQL by URL):
//! registered users, the bucket namespace, ACLs, CORS rules and the
//! restricted grants kept for public and granted access. Several gateways
//! may share one database.

mod acls;
mod buckets;
mod cors;
mod settings;
mod uploads;
mod users;

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::error::GatewayError;

pub use acls::{AclRecord, ShareRecord};
pub use buckets::BucketRecord;
pub use users::UserRecord;

const SCHEMA: &str = include_str!("../../migrations/0001_create_tables.sql");

/// Handle to the gateway database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
}

impl Store {
    /// Connects (creating a SQLite file when the URL says `mode=rwc`) and
    /// creates the tables if missing.
    pub async fn connect(url: &str) -> Result<Store, GatewayError> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        if !sqlite && !url.starts_with("postgres:") && !url.starts_with("postgresql:") {
            return Err(GatewayError::UnsupportedUrl(url.to_string()));
        }
        let options = AnyConnectOptions::from_str(url)?;
        let mut pool_options = AnyPoolOptions::new();
        if sqlite {
            pool_options = pool_options.max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    Ok(())
                })
            });
        } else {
            pool_options = pool_options.max_connections(16);
        }
        let pool = pool_options.connect_with(options).await?;
        let store = Store { pool };
        store.create_schema().await?;
        Ok(store)
    }

    async fn create_schema(&self) -> Result<(), GatewayError> {
        let cleaned: String = SCHEMA
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        for stmt in cleaned.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            // Two gateways starting at once may race on CREATE TABLE IF NOT
            // EXISTS in PostgreSQL; a retry finds the table.
            if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(stmt.to_string()))
                .execute(&self.pool)
                .await
            {
                tracing::debug!(error = %e, "schema statement raced; retrying once");
                sqlx::query(sqlx::AssertSqlSafe(stmt.to_string()))
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes the connections.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(crate) use satstore_common::time::now_unix;

#[cfg(test)]
pub(crate) mod testing {
    use super::Store;

    /// A store on a fresh SQLite file that lives as long as the guard.
    pub async fn sqlite_store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("gw.db").display());
        (Store::connect(&url).await.unwrap(), dir)
    }
}
