//! The client side: one [`Dialer`] per process (or per peer) opens tonic
//! channels to `id@host:port` addresses, over TLS pinned to `id` unless it
//! was built insecure.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use satstore_common::{Identity, NodeId, NodeUrl};
use thiserror::Error;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};

use crate::cert::IdentityCert;
use crate::stream::MaybeTls;
use crate::verify::{PinnedServer, WrongPeer};
use crate::{ALPN_H2, Security, TransportError, provider};

/// Most client TLS configurations kept (one per peer id, each with its
/// session-resumption cache); the cache is cleared when full.
const MAX_CACHED_CONFIGS: usize = 4096;

/// Why a peer could not be reached.
#[derive(Debug, Error)]
pub enum DialError {
    /// The address does not make an endpoint.
    #[error("invalid address {address}: {reason}")]
    Address {
        /// The address as given.
        address: String,
        /// Why it is not usable.
        reason: String,
    },
    /// Connecting or the TLS handshake failed (a wrong peer id included).
    #[error("dial {url}: {reason}")]
    Connect {
        /// The peer dialed (`id@host:port`).
        url: String,
        /// What failed.
        reason: String,
    },
}

/// Most shared channels one dialer keeps (one per peer); the cache starts
/// over when full.
const MAX_SHARED_CHANNELS: usize = 4096;

/// Opens channels to peers. Cheap to clone (clones share their caches).
#[derive(Clone)]
pub struct Dialer {
    security: Security,
    identity: Option<Arc<IdentityCert>>,
    configs: Arc<Mutex<HashMap<NodeId, Arc<rustls::ClientConfig>>>>,
    channels: Arc<Mutex<HashMap<NodeUrl, Channel>>>,
}

impl std::fmt::Debug for Dialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialer")
            .field("security", &self.security)
            .field("identity", &self.identity.is_some())
            .finish_non_exhaustive()
    }
}

impl Dialer {
    /// A dialer without an identity of its own (uplinks, tools).
    pub fn anonymous(security: Security) -> Self {
        Dialer {
            security,
            identity: None,
            configs: Arc::default(),
            channels: Arc::default(),
        }
    }

    /// A dialer that presents `identity` to the servers it dials (nodes and
    /// satellites), so they know who calls.
    pub fn with_identity(security: Security, identity: &Identity) -> Result<Self, TransportError> {
        let identity = match security {
            Security::Tls => Some(Arc::new(IdentityCert::new(identity)?)),
            Security::Insecure => None,
        };
        Ok(Dialer {
            security,
            identity,
            configs: Arc::default(),
            channels: Arc::default(),
        })
    }

    /// TLS or plaintext.
    pub fn security(&self) -> Security {
        self.security
    }

    /// The endpoint of `url`, for callers to set timeouts and limits on
    /// before [`Dialer::connect`] / [`Dialer::connect_lazy`].
    pub fn endpoint(&self, url: &NodeUrl) -> Result<Endpoint, DialError> {
        Endpoint::from_shared(format!("http://{}", url.address)).map_err(|e| DialError::Address {
            address: url.address.clone(),
            reason: e.to_string(),
        })
    }

    /// Connects `endpoint` (made by [`Dialer::endpoint`] for `url`) now.
    pub async fn connect(&self, url: &NodeUrl, endpoint: Endpoint) -> Result<Channel, DialError> {
        endpoint
            .connect_with_connector(self.connector(url)?)
            .await
            .map_err(|e| DialError::Connect {
                url: url.to_string(),
                reason: chain(&e),
            })
    }

    /// A channel to `endpoint` that connects on first use (and reconnects).
    pub fn connect_lazy(&self, url: &NodeUrl, endpoint: Endpoint) -> Result<Channel, DialError> {
        Ok(endpoint.connect_with_connector_lazy(self.connector(url)?))
    }

    /// The channel this dialer shares for `url`: one HTTP/2 connection per
    /// peer, made on first use (within `connect_timeout`) and remade after
    /// a failure, carrying every call to that peer as its own stream. A
    /// handshake per piece transfer would cost more than the transfer of a
    /// small piece. Channels live on the tokio runtime that first used
    /// them: keep a dialer within one runtime.
    pub fn shared(&self, url: &NodeUrl, connect_timeout: Duration) -> Result<Channel, DialError> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = channels.get(url) {
            return Ok(c.clone());
        }
        let endpoint = self
            .endpoint(url)?
            .connect_timeout(connect_timeout)
            .tcp_keepalive(Some(Duration::from_secs(60)))
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(20));
        let channel = self.connect_lazy(url, endpoint)?;
        if channels.len() >= MAX_SHARED_CHANNELS {
            channels.clear();
        }
        channels.insert(url.clone(), channel.clone());
        Ok(channel)
    }

    /// Connects to `url` with default endpoint settings.
    pub async fn dial(&self, url: &NodeUrl) -> Result<Channel, DialError> {
        let endpoint = self.endpoint(url)?;
        self.connect(url, endpoint).await
    }

    fn connector(&self, url: &NodeUrl) -> Result<Connector, DialError> {
        let tls = match self.security {
            Security::Insecure => None,
            Security::Tls => Some(TlsConnector::from(self.client_config(url)?)),
        };
        Ok(Connector {
            address: url.address.clone(),
            tls,
        })
    }

    fn client_config(&self, url: &NodeUrl) -> Result<Arc<rustls::ClientConfig>, DialError> {
        let mut configs = self.configs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = configs.get(&url.id) {
            return Ok(c.clone());
        }
        let fail = |e: rustls::Error| DialError::Connect {
            url: url.to_string(),
            reason: format!("TLS configuration: {e}"),
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(fail)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedServer::new(url.id)));
        let mut config = match &self.identity {
            Some(c) => builder
                .with_client_auth_cert(vec![c.cert.clone()], c.key.clone_key())
                .map_err(fail)?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        let config = Arc::new(config);
        if configs.len() >= MAX_CACHED_CONFIGS {
            configs.clear();
        }
        configs.insert(url.id, config.clone());
        Ok(config)
    }
}

/// The error and its sources on one line (tonic's own message is only
/// "transport error").
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&err.to_string());
        cur = err.source();
    }
    out
}

/// Says a wrong peer identity plainly (rustls would print its debug form).
fn clarify(e: io::Error) -> io::Error {
    let wrong = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .and_then(|r| match r {
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(o)) => {
                o.0.downcast_ref::<WrongPeer>()
            }
            _ => None,
        })
        .map(|w| w.to_string());
    match wrong {
        Some(message) => io::Error::new(io::ErrorKind::PermissionDenied, message),
        None => e,
    }
}

/// The tower connector tonic calls to open a connection.
#[derive(Clone)]
struct Connector {
    address: String,
    tls: Option<TlsConnector>,
}

impl tower::Service<http::Uri> for Connector {
    type Response = TokioIo<ClientStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: http::Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let tcp = TcpStream::connect(&this.address).await?;
            tcp.set_nodelay(true)?;
            let stream = match this.tls {
                None => MaybeTls::Plain(tcp),
                Some(tls) => {
                    // The name is not checked (the id is the pin); it only
                    // has to be a valid SNI value.
                    let name = ServerName::try_from("satstore").map_err(io::Error::other)?;
                    let stream = tls.connect(name, tcp).await.map_err(clarify)?;
                    MaybeTls::Tls(Box::new(stream))
                }
            };
            Ok(TokioIo::new(stream))
        })
    }
}

/// A client connection, plaintext or TLS pinned to the dialed id.
pub type ClientStream = MaybeTls<tokio_rustls::client::TlsStream<TcpStream>>;
