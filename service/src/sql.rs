//! SQL for the daemons that keep metadata (satellite, gateway): one way to
//! open SQLite or PostgreSQL, and versioned forward-only migrations that
//! any number of processes may run at once against one database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

/// The database engine behind a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// `sqlite://PATH?mode=rwc`: the embedded default.
    Sqlite,
    /// `postgres://...`: for production and for several processes.
    Postgres,
}

impl Engine {
    /// The engine a URL names.
    pub fn of_url(url: &str) -> Result<Engine, SqlError> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Engine::Postgres)
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            Err(SqlError::UnsupportedUrl(scheme.to_string()))
        }
    }

    /// `sqlite` or `postgres`, for logs.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The URL's scheme is neither SQLite nor PostgreSQL (the URL itself
    /// is not repeated: it may hold a password).
    #[error("unsupported database URL scheme {0:?}: use sqlite://PATH?mode=rwc or postgres://...")]
    UnsupportedUrl(String),
    /// The driver failed.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// A migration failed; the schema needs a human.
    #[error("apply migration {version} ({name}): {cause}")]
    Migration {
        /// The migration's version.
        version: i64,
        /// Its file name.
        name: &'static str,
        /// The driver's error.
        cause: sqlx::Error,
    },
    /// The database was migrated by a newer build.
    #[error(
        "the database schema is at version {found}, newer than this build knows ({known}): \
         run a newer binary"
    )]
    SchemaTooNew {
        /// Highest version recorded in the database.
        found: i64,
        /// Highest version this build has.
        known: i64,
    },
}

/// One schema change: its version, a name for logs, and its SQL for each
/// engine (several statements separated by `;` are fine).
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// Position in the order, from 1 without gaps.
    pub version: i64,
    /// File name, for logs and errors.
    pub name: &'static str,
    /// The SQL for SQLite.
    pub sqlite: &'static str,
    /// The SQL for PostgreSQL.
    pub postgres: &'static str,
}

impl Migration {
    /// A migration whose SQL works on both engines.
    pub const fn portable(version: i64, name: &'static str, sql: &'static str) -> Self {
        Migration {
            version,
            name,
            sqlite: sql,
            postgres: sql,
        }
    }

    fn sql(&self, engine: Engine) -> &'static str {
        match engine {
            Engine::Sqlite => self.sqlite,
            Engine::Postgres => self.postgres,
        }
    }
}

/// An open database: its pool and engine. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    engine: Engine,
}

impl Database {
    /// Opens `url`. SQLite runs in WAL mode with foreign keys on and waits
    /// for locks instead of failing at once.
    pub async fn connect(url: &str) -> Result<Database, SqlError> {
        sqlx::any::install_default_drivers();
        let engine = Engine::of_url(url)?;
        let options = AnyConnectOptions::from_str(url)?;
        let pool_options = match engine {
            Engine::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            Ok(())
                        })
                    })
            }
            Engine::Postgres => AnyPoolOptions::new().max_connections(16),
        };
        let pool = pool_options.connect_with(options).await?;
        Ok(Database { pool, engine })
    }

    /// The connection pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Starts a transaction that takes the write lock up front on SQLite
    /// (`BEGIN IMMEDIATE`), so concurrent writers wait instead of failing
    /// with a lock-upgrade error.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.pool.begin().await,
        }
    }

    /// Applies the migrations this database lacks, each in its own
    /// transaction recorded in `schema_migrations`. Processes starting at
    /// once are safe: each version is claimed by exactly one of them, and
    /// a lost race on creating the bookkeeping table is retried.
    pub async fn migrate(&self, migrations: &[Migration]) -> Result<(), SqlError> {
        const ATTEMPTS: u64 = 5;
        let mut attempt = 1;
        loop {
            match self.migrate_once(migrations).await {
                Err(SqlError::Sql(e)) if attempt < ATTEMPTS => {
                    tracing::debug!(error = %e, attempt, "migration raced another process; retrying");
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn migrate_once(&self, migrations: &[Migration]) -> Result<(), SqlError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations \
             (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL DEFAULT 0)",
        )
        .execute(&self.pool)
        .await?;
        // Tables made by earlier builds may lack the time column.
        if sqlx::query("SELECT applied_at FROM schema_migrations WHERE 1 = 0")
            .execute(&self.pool)
            .await
            .is_err()
        {
            sqlx::query(
                "ALTER TABLE schema_migrations ADD COLUMN applied_at BIGINT NOT NULL DEFAULT 0",
            )
            .execute(&self.pool)
            .await?;
        }
        for m in migrations {
            let mut tx = self.begin_write().await?;
            let claimed = sqlx::query(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2) \
                 ON CONFLICT (version) DO NOTHING",
            )
            .bind(m.version)
            .bind(now_unix())
            .execute(&mut *tx)
            .await?;
            if claimed.rows_affected() == 0 {
                tx.rollback().await?;
                continue;
            }
            let failed = |cause| SqlError::Migration {
                version: m.version,
                name: m.name,
                cause,
            };
            sqlx::raw_sql(m.sql(self.engine))
                .execute(&mut *tx)
                .await
                .map_err(failed)?;
            tx.commit().await.map_err(failed)?;
            tracing::info!(version = m.version, name = m.name, "database migrated");
        }
        let found: i64 =
            sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                .fetch_one(&self.pool)
                .await?;
        let known = migrations.iter().map(|m| m.version).max().unwrap_or(0);
        if found > known {
            return Err(SqlError::SchemaTooNew { found, known });
        }
        Ok(())
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET: &[Migration] = &[
        Migration::portable(
            1,
            "0001_a.sql",
            "CREATE TABLE a (x BIGINT);\n-- a comment; with a semicolon\nINSERT INTO a (x) VALUES (1);",
        ),
        Migration::portable(
            2,
            "0002_b.sql",
            "CREATE TABLE b (note TEXT); INSERT INTO b (note) VALUES ('semi;colon')",
        ),
    ];

    async fn sqlite() -> (Database, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
        (Database::connect(&url).await.unwrap(), dir)
    }

    #[tokio::test]
    async fn applies_in_order_once_with_semicolons_in_literals() {
        let (db, _dir) = sqlite().await;
        db.migrate(&SET[..1]).await.unwrap();
        db.migrate(SET).await.unwrap();
        db.migrate(SET).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(n, 2);
        let note: String = sqlx::query_scalar("SELECT note FROM b")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(note, "semi;colon");
        let x: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM a")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(x, 1, "migration 1 ran exactly once");
    }

    #[tokio::test]
    async fn a_failing_migration_leaves_nothing_half_done() {
        let (db, _dir) = sqlite().await;
        let bad = [
            SET[0],
            Migration::portable(
                2,
                "0002_bad.sql",
                "CREATE TABLE c (x BIGINT); SELECT nonsense FROM nowhere",
            ),
        ];
        let e = db.migrate(&bad).await.unwrap_err();
        assert!(matches!(e, SqlError::Migration { version: 2, .. }), "{e}");
        assert!(e.to_string().contains("0002_bad.sql"));
        let tables: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'c'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(tables, 0, "the failed migration's table was rolled back");
        // Fixed, it applies.
        db.migrate(SET).await.unwrap();
    }

    #[tokio::test]
    async fn refuses_a_schema_from_a_newer_build() {
        let (db, _dir) = sqlite().await;
        db.migrate(SET).await.unwrap();
        let e = db.migrate(&SET[..1]).await.unwrap_err();
        assert!(
            matches!(e, SqlError::SchemaTooNew { found: 2, known: 1 }),
            "{e}"
        );
    }

    #[tokio::test]
    async fn upgrades_a_bookkeeping_table_without_times() {
        let (db, _dir) = sqlite().await;
        sqlx::query("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY)")
            .execute(db.pool())
            .await
            .unwrap();
        sqlx::raw_sql(SET[0].sqlite)
            .execute(db.pool())
            .await
            .unwrap();
        sqlx::query("INSERT INTO schema_migrations (version) VALUES (1)")
            .execute(db.pool())
            .await
            .unwrap();
        db.migrate(SET).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM a")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(n, 1, "version 1 was not applied again");
    }

    #[tokio::test]
    async fn unsupported_urls_do_not_echo_secrets() {
        let e = Database::connect("mysql://user:secret@host/db")
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("\"mysql\"") && !text.contains("secret"),
            "{text}"
        );
    }
}
