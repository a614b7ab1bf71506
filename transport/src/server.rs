//! The server side: a stream of accepted connections for tonic's
//! `serve_with_incoming`, TLS-terminated (or plaintext when insecure), with
//! handshakes bounded in time and number and connections in number, and
//! the caller's address and identity attached to every request.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use satstore_common::{Identity, NodeId};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;

use crate::cert::{IdentityCert, peer_id};
use crate::stream::MaybeTls;
use crate::verify::OptionalClientIdentity;
use crate::{ALPN_H2, TransportError, provider};

/// The TLS side of a server: its identity's certificate.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
}

impl ServerTls {
    /// TLS 1.3 with `identity`'s self-signed certificate; clients may
    /// present theirs.
    pub fn new(identity: &Identity) -> Result<Self, TransportError> {
        let c = IdentityCert::new(identity)?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_client_cert_verifier(Arc::new(OptionalClientIdentity::default()))
            .with_single_cert(vec![c.cert], c.key)?;
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        Ok(ServerTls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}

/// Bounds on what unauthenticated connections may cost a server.
#[derive(Clone, Copy, Debug)]
pub struct AcceptLimits {
    /// A TLS handshake not finished within this is dropped.
    pub handshake_timeout: Duration,
    /// Handshakes in progress at once; further connections wait in the
    /// kernel's backlog.
    pub max_handshakes: usize,
    /// Open connections at once; further connections wait in the backlog.
    pub max_connections: usize,
}

impl Default for AcceptLimits {
    fn default() -> Self {
        AcceptLimits {
            handshake_timeout: Duration::from_secs(10),
            max_handshakes: 256,
            max_connections: 4096,
        }
    }
}

/// Who is on the other end of a connection; tonic puts it in every
/// request's extensions (`request.extensions().get::<PeerInfo>()`).
#[derive(Clone, Debug)]
pub struct PeerInfo {
    /// The remote socket address.
    pub remote_addr: Option<SocketAddr>,
    /// The id of the client's TLS identity, if it presented one (nodes and
    /// satellites do; uplinks do not; never set on plaintext).
    pub peer_id: Option<NodeId>,
}

impl PeerInfo {
    /// The peer info of a tonic request, if it came through [`incoming`].
    pub fn of<T>(request: &tonic::Request<T>) -> Option<&PeerInfo> {
        request.extensions().get::<PeerInfo>()
    }
}

/// One accepted connection. Holds its slot of
/// [`AcceptLimits::max_connections`] until dropped.
pub struct Conn {
    stream: MaybeTls<tokio_rustls::server::TlsStream<TcpStream>>,
    info: PeerInfo,
    _slot: OwnedSemaphorePermit,
}

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = PeerInfo;
    fn connect_info(&self) -> PeerInfo {
        self.info.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Accepts connections on `listener` for as long as the returned stream is
/// alive: TLS-terminated with `tls`, plaintext when `tls` is `None`. Failed
/// or slow handshakes are dropped (logged at debug), never returned.
pub fn incoming(
    listener: TcpListener,
    tls: Option<ServerTls>,
    limits: AcceptLimits,
) -> ReceiverStream<Result<Conn, io::Error>> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(accept_loop(listener, tls, limits, tx));
    ReceiverStream::new(rx)
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<ServerTls>,
    limits: AcceptLimits,
    tx: mpsc::Sender<Result<Conn, io::Error>>,
) {
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let handshakes = Arc::new(Semaphore::new(limits.max_handshakes.max(1)));
    loop {
        let slot = tokio::select! {
            _ = tx.closed() => return,
            p = connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let handshake = tokio::select! {
            _ = tx.closed() => return,
            p = handshakes.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let (tcp, remote) = tokio::select! {
            _ = tx.closed() => return,
            r = listener.accept() => match r {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, retry.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let tx = tx.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let conn = match tls {
                None => Conn {
                    stream: MaybeTls::Plain(tcp),
                    info: PeerInfo {
                        remote_addr: Some(remote),
                        peer_id: None,
                    },
                    _slot: slot,
                },
                Some(tls) => {
                    let accepted =
                        tokio::time::timeout(limits.handshake_timeout, tls.acceptor.accept(tcp))
                            .await;
                    drop(handshake);
                    let stream = match accepted {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(peer = %remote, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(peer = %remote, "TLS handshake timed out");
                            return;
                        }
                    };
                    let peer_id = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .and_then(peer_id);
                    Conn {
                        stream: MaybeTls::Tls(Box::new(stream)),
                        info: PeerInfo {
                            remote_addr: Some(remote),
                            peer_id,
                        },
                        _slot: slot,
                    }
                }
            };
            let _ = tx.send(Ok(conn)).await;
        });
    }
}
