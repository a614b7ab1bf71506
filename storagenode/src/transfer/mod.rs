//! Piece transfers as the node sees them, independent of gRPC: an upload
//! session that verifies, hashes and stores what arrives, and a download
//! session that serves verified chunks as orders cover them.

mod delete;
mod download;
mod limits;
mod upload;

pub use delete::delete_piece;
pub use download::DownloadSession;
pub use limits::{TransferLimits, TransferSlot, TransferSlots};
pub use upload::UploadSession;

use std::sync::Arc;

use satstore_common::Identity;
use tokio_util::sync::CancellationToken;

use crate::error::{StoreError, TransferError};
use crate::metrics::StorageNodeMetrics;
use crate::store::PieceStore;
use crate::verify::Verifier;

/// What every transfer needs from the node.
pub struct NodeContext {
    /// The node's identity (signs piece hashes and pings).
    pub identity: Identity,
    /// Order-limit checks.
    pub verifier: Verifier,
    /// Where pieces, serials and orders live.
    pub store: Arc<dyn PieceStore>,
    /// Metrics of this node instance.
    pub metrics: StorageNodeMetrics,
    /// Concurrent-transfer slots and the idle timeout.
    pub slots: Arc<TransferSlots>,
    /// Cancelled when the node shuts down: streams end early.
    pub shutdown: CancellationToken,
}

/// Runs a blocking store operation off the async runtime.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, TransferError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, TransferError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| TransferError::Store(StoreError::Task(e.to_string())))?
}
