//! Connections to storage nodes and task helpers shared by piece transfers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use satstore_common::NodeUrl;
use satstore_proto::piecestore::piecestore_client::PiecestoreClient;
use thiserror::Error;
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};

/// Why one piece transfer failed; the segment logic drops that piece and
/// carries on with the others.
#[derive(Debug, Error)]
pub(crate) enum PieceError {
    #[error("dial {node}: {reason}")]
    Dial { node: String, reason: String },
    #[error("node {node}: {status}")]
    Rpc { node: String, status: tonic::Status },
    #[error("node {node} sent a bad answer: {reason}")]
    BadAnswer { node: String, reason: String },
    #[error("node {node} did not answer within {timeout:?}")]
    Timeout { node: String, timeout: Duration },
}

/// Connects to a storage node's Piecestore service within `timeout`.
pub(crate) async fn piecestore(
    node: &NodeUrl,
    timeout: Duration,
) -> Result<PiecestoreClient<Channel>, PieceError> {
    let dial_err = |reason: String| PieceError::Dial {
        node: node.to_string(),
        reason,
    };
    let endpoint = Endpoint::from_shared(node.endpoint())
        .map_err(|e| dial_err(e.to_string()))?
        .connect_timeout(timeout);
    let channel = match tokio::time::timeout(timeout, endpoint.connect()).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(dial_err(format!("{e}: {}", source_chain(&e)))),
        Err(_) => return Err(dial_err(format!("timed out after {timeout:?}"))),
    };
    Ok(PiecestoreClient::new(channel))
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// A spawned task that is aborted when this handle is dropped, so that
/// abandoning an upload or download stops its piece transfers.
pub(crate) struct AbortOnDrop<T>(pub(crate) JoinHandle<T>);

impl<T: Send + 'static> AbortOnDrop<T> {
    /// Spawns `fut` on the current runtime.
    pub(crate) fn spawn(fut: impl Future<Output = T> + Send + 'static) -> Self {
        AbortOnDrop(tokio::spawn(fut))
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
