//! A tiny forward-only migration runner: the SQL files of
//! `migrations/{sqlite,postgres}/` are embedded and applied in order, each
//! recorded in `schema_migrations(version)`.

use sqlx::Row;

use super::{Engine, Store, StoreError};

/// One migration: its version and SQL for each engine.
struct Migration {
    version: i64,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: include_str!("../../migrations/sqlite/0001_create_tables.sql"),
        postgres: include_str!("../../migrations/postgres/0001_create_tables.sql"),
    },
    Migration {
        version: 2,
        sqlite: include_str!("../../migrations/sqlite/0002_add_cleanup_indexes.sql"),
        postgres: include_str!("../../migrations/postgres/0002_add_cleanup_indexes.sql"),
    },
    Migration {
        version: 3,
        sqlite: include_str!("../../migrations/sqlite/0003_add_multipart.sql"),
        postgres: include_str!("../../migrations/postgres/0003_add_multipart.sql"),
    },
    Migration {
        version: 4,
        sqlite: include_str!("../../migrations/sqlite/0004_add_activity_times.sql"),
        postgres: include_str!("../../migrations/postgres/0004_add_activity_times.sql"),
    },
];

/// Splits a migration file into statements (no statement of ours contains
/// a ';' inside a literal), dropping `--` comment lines.
fn statements(sql: &str) -> Vec<String> {
    let cleaned: String = sql
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

/// Applies every migration newer than the recorded schema version.
///
/// Several satellites (or tests) may start on a fresh database at once: the
/// loser of a concurrent schema change fails, then retries and finds the
/// migrations applied.
pub async fn run(store: &Store) -> Result<(), StoreError> {
    const ATTEMPTS: u32 = 5;
    let mut attempt = 1;
    loop {
        match run_once(store).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < ATTEMPTS => {
                tracing::debug!(error = %e, attempt, "migration raced another process; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt as u64)).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn run_once(store: &Store) -> Result<(), StoreError> {
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
        .execute(store.pool())
        .await?;
    let mut tx = store.begin_write().await?;
    let applied: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations")
        .fetch_one(&mut *tx)
        .await?
        .try_get("v")?;
    for m in MIGRATIONS.iter().filter(|m| m.version > applied) {
        let sql = match store.engine() {
            Engine::Sqlite => m.sqlite,
            Engine::Postgres => m.postgres,
        };
        let err = |source| StoreError::Migration {
            version: m.version,
            source,
        };
        for stmt in statements(sql) {
            sqlx::query(sqlx::AssertSqlSafe(stmt))
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        sqlx::query("INSERT INTO schema_migrations (version) VALUES ($1)")
            .bind(m.version)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tracing::info!(version = m.version, "applying database migration");
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_and_drop_comments() {
        let s = statements("-- c\nCREATE TABLE a (x INT);\n\nCREATE INDEX i ON a (x);\n");
        assert_eq!(s, vec!["CREATE TABLE a (x INT)", "CREATE INDEX i ON a (x)"]);
    }

    #[tokio::test]
    async fn migrations_are_idempotent() {
        let (store, dir) = super::super::testing::sqlite_store().await;
        run(&store).await.expect("second run is a no-op");
        let url = format!("sqlite://{}/satellite.db?mode=rwc", dir.path().display());
        store.close().await;
        let again = Store::connect(&url).await.expect("reopen");
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM schema_migrations")
            .fetch_one(again.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        assert_eq!(n, MIGRATIONS.len() as i64);
    }
}
