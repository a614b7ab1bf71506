//! Background cleanup chores of the satellite, each implementing [`Chore`]
//! and run by [`spawn`] every interval in its own span:
//!
//! - [`ExpiredObjectsChore`]: deletes objects whose expiration passed, with
//!   their segments. No piece deletions are sent: the nodes delete those
//!   pieces themselves (every PUT limit carried the expiration).
//! - [`ZombieObjectsChore`]: deletes pending objects older than
//!   `pending_object_timeout` (abandoned uploads) and multipart uploads past
//!   their deadline (`multipart_expiration` after they began) with their
//!   segments, and asks the nodes to delete their pieces, best-effort, like
//!   DeleteObject.

use std::future::Future;
use std::time::Duration;

use satstore_common::time::now_unix;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::deleter::PieceDeleter;
use crate::error::SatelliteError;
use crate::metrics::{ChoreLabel, SatelliteMetrics};
use crate::store::Store;

/// Objects deleted per transaction (keeps SQLite's write lock short).
const BATCH: i64 = 100;

/// A periodic background job.
pub trait Chore: Send + Sync + 'static {
    /// Name used in spans, logs and the failure metric label.
    const NAME: &'static str;
    /// One run at time `now` (unix seconds); returns how many things it
    /// cleaned up.
    fn run_once(&self, now: i64) -> impl Future<Output = Result<u64, SatelliteError>> + Send;
}

/// Deletes expired objects and their segments.
#[derive(Clone)]
pub struct ExpiredObjectsChore {
    store: Store,
    metrics: SatelliteMetrics,
}

impl ExpiredObjectsChore {
    /// A chore over `store`, counting deletions in `metrics`.
    pub fn new(store: Store, metrics: SatelliteMetrics) -> Self {
        ExpiredObjectsChore { store, metrics }
    }
}

impl Chore for ExpiredObjectsChore {
    const NAME: &'static str = "expired_objects";

    async fn run_once(&self, now: i64) -> Result<u64, SatelliteError> {
        let mut total = 0u64;
        loop {
            let batch = self.store.delete_expired_objects(now, BATCH).await?;
            let n = batch.len() as u64;
            total += n;
            self.metrics.expired_objects_deleted.inc_by(n);
            if n < BATCH as u64 {
                return Ok(total);
            }
        }
    }
}

/// Deletes pending objects older than a timeout, their segments and (best
/// effort) their pieces.
#[derive(Clone)]
pub struct ZombieObjectsChore {
    store: Store,
    deleter: PieceDeleter,
    metrics: SatelliteMetrics,
    timeout: Duration,
}

impl ZombieObjectsChore {
    /// A chore deleting objects pending for longer than `timeout`.
    pub fn new(
        store: Store,
        deleter: PieceDeleter,
        metrics: SatelliteMetrics,
        timeout: Duration,
    ) -> Self {
        ZombieObjectsChore {
            store,
            deleter,
            metrics,
            timeout,
        }
    }
}

impl Chore for ZombieObjectsChore {
    const NAME: &'static str = "zombie_objects";

    async fn run_once(&self, now: i64) -> Result<u64, SatelliteError> {
        let timeout = i64::try_from(self.timeout.as_secs()).unwrap_or(i64::MAX);
        let cutoff = now.saturating_sub(timeout);
        let mut total = 0u64;
        loop {
            let batch = self.store.delete_pending_idle_since(cutoff, BATCH).await?;
            let n = self.delete_pieces(batch, "deleted zombie pending object");
            total += n;
            if n < BATCH as u64 {
                break;
            }
        }
        loop {
            let batch = self.store.delete_expired_multipart(now, BATCH).await?;
            let n = self.delete_pieces(batch, "deleted expired multipart upload");
            total += n;
            if n < BATCH as u64 {
                return Ok(total);
            }
        }
    }
}

impl ZombieObjectsChore {
    /// Queues the pieces of deleted objects for deletion and counts them.
    fn delete_pieces(&self, batch: Vec<crate::store::DeletedObject>, what: &str) -> u64 {
        let n = batch.len() as u64;
        for o in batch {
            tracing::debug!(
                stream_id = %satstore_common::hex::encode(&o.stream_id),
                bucket = %o.bucket,
                pieces = o.pieces.len(),
                "{what}"
            );
            self.deleter.delete_later(o.pieces, o.project_id, o.bucket);
        }
        self.metrics.zombie_objects_deleted.inc_by(n);
        n
    }
}

/// Runs `chore` every `interval` (first run one interval after the start)
/// until `shutdown`; a run in progress is abandoned at shutdown (its
/// transaction rolls back). Failures are logged and counted, then retried
/// on the next tick.
pub fn spawn<C: Chore>(
    chore: C,
    interval: Duration,
    metrics: SatelliteMetrics,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + interval;
        let mut tick = tokio::time::interval_at(start, interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let span = tracing::info_span!("chore", chore = C::NAME);
            let run = chore.run_once(now_unix()).instrument(span.clone());
            let result = tokio::select! {
                _ = shutdown.cancelled() => return,
                r = run => r,
            };
            let _enter = span.enter();
            match result {
                Ok(0) => tracing::debug!("chore finished; nothing to clean up"),
                Ok(n) => tracing::info!(deleted = n, "chore finished"),
                Err(e) => {
                    metrics
                        .chore_failures
                        .get_or_create(&ChoreLabel { chore: C::NAME })
                        .inc();
                    tracing::warn!(error = %e, "chore failed; retrying next interval");
                }
            }
        }
    })
}

#[cfg(test)]
mod tests;
