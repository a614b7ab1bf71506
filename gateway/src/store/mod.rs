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

use satstore_service::sql::{Database, Migration};
use sqlx::AnyPool;

use crate::error::GatewayError;

pub use acls::{AclRecord, ShareRecord};
pub use buckets::BucketRecord;
pub use users::UserRecord;

/// The gateway's schema history, oldest first; each file works on both
/// engines.
const MIGRATIONS: &[Migration] = &[
    Migration::portable(
        1,
        "0001_create_tables.sql",
        include_str!("../../migrations/0001_create_tables.sql"),
    ),
    Migration::portable(
        2,
        "0002_scope_to_projects.sql",
        include_str!("../../migrations/0002_scope_to_projects.sql"),
    ),
];

/// Handle to the gateway database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Connects (creating a SQLite file when the URL says `mode=rwc`) and
    /// applies the migrations the database lacks (several gateways starting
    /// at once on one database are safe).
    pub async fn connect(url: &str) -> Result<Store, GatewayError> {
        let db = Database::connect(url).await?;
        db.migrate(MIGRATIONS).await?;
        Ok(Store { db })
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        self.db.pool()
    }

    /// Closes the connections.
    pub async fn close(&self) {
        self.db.close().await;
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
        sqlx::raw_sql(MIGRATIONS[0].sqlite)
            .execute(&pool)
            .await
            .unwrap();
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
