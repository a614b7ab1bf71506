//! The satellite's SQL store: one code path over sqlx's `Any` driver for
//! SQLite (embedded default) and PostgreSQL (production), chosen by the URL.
//!
//! Submodules hold the queries of one table each; [`migrate`] applies the
//! embedded forward-only migrations on connect. Beneath them, without
//! importing any of them: [`types`] (shared value types, a leaf),
//! [`pieces`] (piece references), [`rows`] (stored records and their
//! decoding) and `steps` (transaction steps several operations share).

pub mod api_keys;
pub mod buckets;
pub mod cleanup;
pub mod migrate;
pub mod multipart;
pub mod nodes;
pub mod objects;
pub mod pieces;
pub mod projects;
pub mod rows;
pub mod segments;
mod steps;
pub mod types;

use satstore_service::sql::{Database, SqlError};
use sqlx::AnyPool;
use thiserror::Error;

pub use satstore_service::sql::Engine;

pub use api_keys::ApiKeyRecord;
pub use buckets::BucketRecord;
pub use cleanup::DeletedObject;
pub use multipart::{MultipartCommit, MultipartCommitValues, PartCommit, PartRecord};
pub use nodes::NodeRecord;
pub use objects::{ListItem, ListOptions, ListPage};
pub use pieces::{PieceRef, SegmentPiece};
pub use projects::ProjectInfo;
pub use rows::{ObjectRecord, SegmentRecord};
pub use steps::{CommitValues, Committed};
pub use types::{ObjectStatus, SegmentPosition};

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Setup(#[from] SqlError),
    /// The database refused or failed a query; retry later or check the server.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// An object would get more segments than allowed.
    #[error("an object may have at most {0} segments")]
    TooManySegments(i64),
    /// A stored value does not decode; the row is corrupt.
    #[error("corrupt stored {what}: {reason}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// Why it does not decode.
        reason: String,
    },
}

impl StoreError {
    pub(crate) fn corrupt(what: &'static str, reason: impl ToString) -> Self {
        StoreError::Corrupt {
            what,
            reason: reason.to_string(),
        }
    }
}

/// Handle to the satellite database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Connects to `url` (`sqlite://PATH?mode=rwc` or `postgres://...`) and
    /// runs the pending migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let db = Database::connect(url).await?;
        db.migrate(migrate::MIGRATIONS).await?;
        Ok(Store { db })
    }

    /// The engine behind this store.
    pub fn engine(&self) -> Engine {
        self.db.engine()
    }

    /// The connection pool (for modules of this crate).
    pub(crate) fn pool(&self) -> &AnyPool {
        self.db.pool()
    }

    /// Starts a transaction that takes the write lock up front on SQLite
    /// (`BEGIN IMMEDIATE`), so concurrent writers wait instead of failing
    /// with a lock-upgrade error.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(self.db.begin_write().await?)
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.db.close().await;
    }
}

/// Test helpers: a store on a fresh SQLite file, and the list of engines
/// to run store tests against (PostgreSQL when `TEST_POSTGRES_URL` is set).
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A store on a new SQLite file in a temp dir (kept alive by the guard).
    pub async fn sqlite_store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("create temp dir");
        let url = format!("sqlite://{}/satellite.db?mode=rwc", dir.path().display());
        let store = Store::connect(&url).await.expect("open sqlite store");
        (store, dir)
    }

    /// SQLite always; PostgreSQL too when `TEST_POSTGRES_URL` is set (tests
    /// use random names, so a shared database needs no cleanup).
    pub async fn all_stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
        let (s, d) = sqlite_store().await;
        let mut out = vec![(s, Some(d))];
        match std::env::var("TEST_POSTGRES_URL") {
            Ok(url) => {
                let store = Store::connect(&url).await.expect("open postgres store");
                out.push((store, None));
            }
            Err(_) => {
                println!("skipping PostgreSQL store tests: TEST_POSTGRES_URL is not set");
            }
        }
        out
    }
}
