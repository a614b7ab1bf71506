//! gRPC handlers: convert wire messages, call the [`crate::transfer`]
//! sessions, map errors to statuses. No RocksDB access here.

mod contact;
mod delete;
mod download;
mod upload;

pub use contact::ContactService;

use std::sync::Arc;

use tonic::Status;

use crate::error::{StoreError, TransferError};
use crate::transfer::NodeContext;

/// The `Piecestore` gRPC service of one node.
#[derive(Clone)]
pub struct PiecestoreService {
    ctx: Arc<NodeContext>,
}

impl PiecestoreService {
    /// A service serving the node described by `ctx`.
    pub fn new(ctx: Arc<NodeContext>) -> Self {
        PiecestoreService { ctx }
    }
}

/// Counts refusals in the metrics, logs at debug, and converts to a status.
pub(crate) fn fail(ctx: &NodeContext, e: TransferError) -> Status {
    match &e {
        TransferError::Verify(v) => ctx.metrics.refused(v.reason()),
        TransferError::Store(StoreError::NotEnoughSpace { .. }) => ctx.metrics.refused("no_space"),
        _ => {}
    }
    tracing::debug!(error = %e, "request refused");
    e.into()
}

/// Records the piece and satellite of a verified limit on the RPC span.
pub(crate) fn record_limit(limit: &satstore_common::OrderLimit) {
    let span = tracing::Span::current();
    span.record("piece_id", tracing::field::display(limit.piece_id));
    span.record("satellite_id", tracing::field::display(limit.satellite_id));
}

#[tonic::async_trait]
impl satstore_proto::piecestore::piecestore_server::Piecestore for PiecestoreService {
    async fn upload(
        &self,
        req: tonic::Request<tonic::Streaming<satstore_proto::piecestore::UploadRequest>>,
    ) -> Result<tonic::Response<satstore_proto::piecestore::UploadResponse>, Status> {
        self.handle_upload(req).await
    }

    type DownloadStream = download::DownloadStream;

    async fn download(
        &self,
        req: tonic::Request<tonic::Streaming<satstore_proto::piecestore::DownloadRequest>>,
    ) -> Result<tonic::Response<Self::DownloadStream>, Status> {
        self.handle_download(req).await
    }

    async fn delete(
        &self,
        req: tonic::Request<satstore_proto::piecestore::DeleteRequest>,
    ) -> Result<tonic::Response<satstore_proto::piecestore::DeleteResponse>, Status> {
        self.handle_delete(req).await
    }
}

/// Runs `fut` (a wait on the client) until the node shuts down, the client
/// has been idle for the idle timeout, or `expires` (the limit's order
/// expiration) passes, whichever comes first.
pub(crate) async fn bounded<F: Future>(
    ctx: &NodeContext,
    expires: Option<tokio::time::Instant>,
    fut: F,
) -> Result<F::Output, TransferError> {
    let idle = ctx.slots.limits().idle_timeout;
    let idle_at = tokio::time::Instant::now() + idle;
    let (deadline, expiring) = match expires {
        Some(e) if e < idle_at => (e, true),
        _ => (idle_at, false),
    };
    tokio::select! {
        _ = ctx.shutdown.cancelled() => Err(TransferError::ShuttingDown),
        out = fut => Ok(out),
        _ = tokio::time::sleep_until(deadline) => {
            if expiring {
                ctx.metrics.timed_out("expired");
                Err(TransferError::LimitExpired)
            } else {
                ctx.metrics.timed_out("idle");
                Err(TransferError::Idle(idle))
            }
        }
    }
}

/// Waits for the next client message (see [`bounded`]).
pub(crate) async fn next_message<T>(
    ctx: &NodeContext,
    stream: &mut tonic::Streaming<T>,
    expires: Option<tokio::time::Instant>,
) -> Result<Option<T>, TransferStreamError> {
    bounded(ctx, expires, stream.message())
        .await?
        .map_err(TransferStreamError::Client)
}

/// A stream failure: either the node refuses, or the client's stream broke.
pub(crate) enum TransferStreamError {
    /// The node ends the transfer with this error.
    Node(TransferError),
    /// The client's stream failed (cancelled, reset); nothing to tell it.
    Client(Status),
}

impl From<TransferError> for TransferStreamError {
    fn from(e: TransferError) -> Self {
        TransferStreamError::Node(e)
    }
}

impl From<crate::error::VerifyError> for TransferStreamError {
    fn from(e: crate::error::VerifyError) -> Self {
        TransferStreamError::Node(e.into())
    }
}

impl TransferStreamError {
    fn into_status(self, ctx: &NodeContext) -> Status {
        match self {
            TransferStreamError::Node(e) => fail(ctx, e),
            TransferStreamError::Client(s) => {
                tracing::debug!(status = %s, "client stream failed");
                s
            }
        }
    }
}
