//! The satellite's schema history: the SQL files of
//! `migrations/{sqlite,postgres}/`, embedded and applied in order by the
//! shared migration runner, each recorded in `schema_migrations`.

use satstore_service::sql::Migration;

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_create_tables.sql",
        sqlite: include_str!("../../migrations/sqlite/0001_create_tables.sql"),
        postgres: include_str!("../../migrations/postgres/0001_create_tables.sql"),
    },
    Migration {
        version: 2,
        name: "0002_add_cleanup_indexes.sql",
        sqlite: include_str!("../../migrations/sqlite/0002_add_cleanup_indexes.sql"),
        postgres: include_str!("../../migrations/postgres/0002_add_cleanup_indexes.sql"),
    },
    Migration {
        version: 3,
        name: "0003_add_multipart.sql",
        sqlite: include_str!("../../migrations/sqlite/0003_add_multipart.sql"),
        postgres: include_str!("../../migrations/postgres/0003_add_multipart.sql"),
    },
    Migration {
        version: 4,
        name: "0004_add_activity_times.sql",
        sqlite: include_str!("../../migrations/sqlite/0004_add_activity_times.sql"),
        postgres: include_str!("../../migrations/postgres/0004_add_activity_times.sql"),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn versions_run_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            assert!(
                m.name.starts_with(&format!("{:04}_", m.version)),
                "{}",
                m.name
            );
        }
    }

    #[tokio::test]
    async fn migrations_are_idempotent() {
        let (store, dir) = crate::store::testing::sqlite_store().await;
        let url = format!("sqlite://{}/satellite.db?mode=rwc", dir.path().display());
        store.close().await;
        let again = Store::connect(&url).await.expect("reopen");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
            .fetch_one(again.pool())
            .await
            .unwrap();
        assert_eq!(n, MIGRATIONS.len() as i64);
    }
}
