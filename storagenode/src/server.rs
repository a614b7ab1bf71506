//! Serving gRPC on a pre-bound listener (identity-bound TLS unless
//! insecure), with two ways to stop: graceful (stop accepting, let streams
//! end) and kill (every connection fails at once, simulating a crash).
//! Tonic runs each connection in its own task, so a kill must reach the
//! sockets: [`KillableIo`] fails all I/O once the kill token is cancelled.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::StreamExt;
use satstore_common::NodeId;
use satstore_proto::piecestore::contact_server::ContactServer;
use satstore_proto::piecestore::piecestore_server::PiecestoreServer;
use satstore_service::{RpcMetrics, RpcMetricsLayer};
use satstore_transport::{AcceptLimits, Conn, PeerInfo, ServerTls};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tonic::transport::server::Connected;

use crate::rpc::{ContactService, PiecestoreService};

/// A connection whose reads and writes fail once `kill` is cancelled.
pub struct KillableIo {
    inner: Conn,
    kill: CancellationToken,
    killed: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl KillableIo {
    fn new(inner: Conn, kill: CancellationToken) -> Self {
        let killed = Box::pin(kill.clone().cancelled_owned());
        KillableIo {
            inner,
            kill,
            killed,
        }
    }

    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if self.kill.is_cancelled() || self.killed.as_mut().poll(cx).is_ready() {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "storage node killed",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for KillableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Connected for KillableIo {
    type ConnectInfo = PeerInfo;
    fn connect_info(&self) -> PeerInfo {
        self.inner.connect_info()
    }
}

/// Serves the node's gRPC services on `listener` (TLS with `tls`,
/// plaintext without) until `shutdown` is cancelled (graceful); cancelling
/// `kill` aborts every connection.
#[allow(clippy::too_many_arguments)]
pub async fn serve_grpc(
    listener: TcpListener,
    tls: Option<ServerTls>,
    piecestore: PiecestoreService,
    contact: ContactService,
    rpc_metrics: RpcMetrics,
    node_id: NodeId,
    shutdown: CancellationToken,
    kill: CancellationToken,
) -> Result<(), tonic::transport::Error> {
    let incoming = satstore_transport::incoming(listener, tls, AcceptLimits::default())
        .map(move |conn| conn.map(|c| KillableIo::new(c, kill.clone())));
    tonic::transport::Server::builder()
        .trace_fn(move |req| {
            tracing::info_span!(
                "rpc",
                method = %req.uri().path(),
                node_id = %node_id,
                piece_id = tracing::field::Empty,
                satellite_id = tracing::field::Empty,
            )
        })
        .layer(RpcMetricsLayer(rpc_metrics))
        .add_service(PiecestoreServer::new(piecestore))
        .add_service(ContactServer::new(contact))
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled())
        .await
}
