//! Connections to storage nodes and task helpers shared by piece transfers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use satstore_common::NodeUrl;
use satstore_proto::piecestore::piecestore_client::PiecestoreClient;
use satstore_transport::{Dialer, Security};
use thiserror::Error;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use crate::config::UplinkConfig;

/// How this client dials peers: TLS pinned to the id of every
/// `id@host:port` it dials (or plaintext when insecure), over the
/// project's shared connections, within a connection timeout.
#[derive(Clone, Debug)]
pub(crate) struct DialOptions {
    /// Connection timeout.
    pub timeout: Duration,
    /// The project's dialer (one connection per node, reused).
    pub dialer: Dialer,
}

/// A project's dialer for `config` (TLS unless `config.insecure`).
pub(crate) fn project_dialer(config: &UplinkConfig) -> Dialer {
    Dialer::anonymous(Security::from_insecure(config.insecure))
}

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

impl PieceError {
    /// The failure of a call to `node`: a connection that could not be
    /// made (the status carries a transport error as its source) is a dial
    /// failure; anything else is the node's answer.
    pub(crate) fn from_status(node: &str, status: tonic::Status) -> Self {
        if status.code() == tonic::Code::Unavailable && std::error::Error::source(&status).is_some()
        {
            return PieceError::Dial {
                node: node.to_string(),
                reason: status.message().to_string(),
            };
        }
        PieceError::Rpc {
            node: node.to_string(),
            status,
        }
    }
}

/// The Piecestore service of a storage node, over the project's shared
/// connection to it (made within the timeout on first use).
pub(crate) fn piecestore(
    node: &NodeUrl,
    opts: &DialOptions,
) -> Result<PiecestoreClient<Channel>, PieceError> {
    let channel = opts
        .dialer
        .shared(node, opts.timeout)
        .map_err(|e| PieceError::Dial {
            node: node.to_string(),
            reason: e.to_string(),
        })?;
    Ok(PiecestoreClient::new(channel))
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
