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
/// `id@host:port` it dials (or plaintext when insecure), within a timeout.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DialOptions {
    /// Connection timeout.
    pub timeout: Duration,
    /// Plaintext instead of TLS.
    pub insecure: bool,
}

impl From<&UplinkConfig> for DialOptions {
    fn from(c: &UplinkConfig) -> Self {
        DialOptions {
            timeout: c.dial_timeout,
            insecure: c.insecure,
        }
    }
}

/// The process-wide dialer for `insecure` (one per mode, so TLS sessions
/// are resumed across projects and transfers).
pub(crate) fn dialer(insecure: bool) -> &'static Dialer {
    static TLS: std::sync::OnceLock<Dialer> = std::sync::OnceLock::new();
    static PLAIN: std::sync::OnceLock<Dialer> = std::sync::OnceLock::new();
    if insecure {
        PLAIN.get_or_init(|| Dialer::anonymous(Security::Insecure))
    } else {
        TLS.get_or_init(|| Dialer::anonymous(Security::Tls))
    }
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

/// Connects to a storage node's Piecestore service within the timeout.
pub(crate) async fn piecestore(
    node: &NodeUrl,
    opts: DialOptions,
) -> Result<PiecestoreClient<Channel>, PieceError> {
    let dial_err = |reason: String| PieceError::Dial {
        node: node.to_string(),
        reason,
    };
    let dialer = dialer(opts.insecure);
    let endpoint = dialer
        .endpoint(node)
        .map_err(|e| dial_err(e.to_string()))?
        .connect_timeout(opts.timeout);
    let channel = match tokio::time::timeout(opts.timeout, dialer.connect(node, endpoint)).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Err(dial_err(e.to_string())),
        Err(_) => return Err(dial_err(format!("timed out after {:?}", opts.timeout))),
    };
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
