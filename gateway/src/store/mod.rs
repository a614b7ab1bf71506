//! The gateway's own state in SQL (SQLite by default, PostgreSQL by URL):
//! registered users, the bucket namespace (each name claimed by one
//! project), and per claimed bucket its ACLs, the restricted grants kept
//! for them, CORS rules and multipart upload records; the queue of shares
//! to revoke at the satellite. Several gateways may share one database.

mod acls;
mod buckets;
mod cors;
mod revocations;
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

/// Forward-only migrations, in order: (version, SQL). Statements are
/// separated by ';' and must not contain one.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_create_tables.sql")),
    (
        2,
        include_str!("../../migrations/0002_scope_to_projects.sql"),
    ),
];

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

    /// Applies the migrations this database lacks. Each runs in one
    /// transaction that first records its version, so of several gateways
    /// starting at once exactly one applies it (the others wait on the
    /// version row, then skip it).
    async fn create_schema(&self) -> Result<(), GatewayError> {
        let create = "CREATE TABLE IF NOT EXISTS schema_migrations \
                      (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";
        // Two gateways starting at once may race on CREATE TABLE IF NOT
        // EXISTS in PostgreSQL; a retry finds the table.
        if let Err(e) = sqlx::query(create).execute(&self.pool).await {
            tracing::debug!(error = %e, "schema table creation raced; retrying once");
            sqlx::query(create).execute(&self.pool).await?;
        }
        for &(version, text) in MIGRATIONS {
            let mut tx = self.pool.begin().await?;
            let claimed = sqlx::query(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2) \
                 ON CONFLICT (version) DO NOTHING",
            )
            .bind(version)
            .bind(now_unix())
            .execute(&mut *tx)
            .await?;
            if claimed.rows_affected() == 0 {
                tx.rollback().await?;
                continue;
            }
            for stmt in statements(text) {
                sqlx::query(sqlx::AssertSqlSafe(stmt))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            tracing::info!(version, "gateway database migrated");
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

/// The statements of a migration file: comments dropped, split at ';'.
fn statements(text: &str) -> Vec<String> {
    let cleaned: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    cleaned
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
pub(crate) mod testing {
    use super::Store;

    /// A store on a fresh SQLite file that lives as long as the guard.
    pub async fn sqlite_store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("gw.db").display());
        (Store::connect(&url).await.unwrap(), dir)
    }

    /// A store on a new database of the PostgreSQL server at
    /// `TEST_POSTGRES_URL`, if set.
    pub async fn postgres_store() -> Option<Store> {
        let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
            println!("skipping PostgreSQL store tests: TEST_POSTGRES_URL is not set");
            return None;
        };
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&url).await.unwrap();
        let name = format!("gateway_test_{:016x}", rand::random::<u64>());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
        Some(Store::connect(&format!("{base}/{name}")).await.unwrap())
    }

    /// SQLite always, and PostgreSQL when `TEST_POSTGRES_URL` is set.
    pub async fn all_stores() -> (Vec<Store>, tempfile::TempDir) {
        let (s, dir) = sqlite_store().await;
        let mut out = vec![s];
        out.extend(postgres_store().await);
        (out, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{postgres_store, sqlite_store};
    use super::*;

    #[tokio::test]
    async fn migrations_run_once_and_upgrade_a_0001_database() {
        // A database as 0001 left it, with a user and a bucket.
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
        sqlx::any::install_default_drivers();
        let pool = AnyPool::connect(&url).await.unwrap();
        for stmt in statements(MIGRATIONS[0].1) {
            sqlx::query(sqlx::AssertSqlSafe(stmt))
                .execute(&pool)
                .await
                .unwrap();
        }
        sqlx::query(
            "INSERT INTO users (id, lookup, display_name, email, sealed_secret, sealed_grant, created_at) \
             VALUES ('u', 'l', 'U', 'u@x', 's', 'g', 1)",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO settings (name, value) VALUES ('share_key', 'aa')")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let store = Store::connect(&url).await.unwrap();
        let user = store.user_by_id("u").await.unwrap().unwrap();
        assert_eq!(user.email.as_deref(), Some("u@x"));
        assert_eq!(user.confirmed_email, None);
        assert!(store.setting("share_key").await.unwrap().is_none());
        store.close().await;
        // Reconnecting applies nothing twice.
        let store = Store::connect(&url).await.unwrap();
        assert!(store.user_by_id("u").await.unwrap().is_some());
        store.close().await;

        let (fresh, _dir) = sqlite_store().await;
        assert!(fresh.user_by_id("u").await.unwrap().is_none());
        if let Some(pg) = postgres_store().await {
            assert!(pg.user_by_id("u").await.unwrap().is_none());
        }
    }
}
