//! Starting and stopping a gateway.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use prometheus_client::registry::Registry;
use s3s::config::{S3Config, StaticConfigProvider};
use s3s::service::S3ServiceBuilder;
use satstore_service::{Readiness, TaskSet, serve_metrics};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uplink::UplinkConfig;

use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::host::Domains;
use crate::http::{Handler, PeerAddr, RecordOperation};
use crate::metrics::GatewayMetrics;
use crate::ratelimit::RateLimiter;
use crate::state::Gateway;
use crate::store::Store;
use crate::tls::Io;

/// Pre-bound sockets of a gateway.
pub struct GatewayListeners {
    /// S3 HTTP.
    pub s3: TcpListener,
    /// `/metrics`, `/healthz`, `/readyz`.
    pub metrics: TcpListener,
}

/// A running gateway.
pub struct GatewayHandle {
    addr: SocketAddr,
    https: bool,
    metrics_addr: SocketAddr,
    gateway: Gateway,
    tasks: TaskSet,
}

impl GatewayHandle {
    /// The S3 endpoint address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The metrics address.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
    }

    /// `http://addr` for S3 clients.
    pub fn endpoint(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The gateway's state (for registering users in-process).
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// Stops accepting requests and waits for the listeners to close
    /// (requests in flight are dropped).
    pub async fn shutdown(self) {
        self.tasks.shutdown().await;
        self.gateway.store().close().await;
        tracing::info!("gateway stopped");
    }
}

/// Starts a gateway serving S3 on `listeners.s3`, acting through uplinks
/// configured by `uplink_config`.
pub async fn start(
    config: GatewayConfig,
    listeners: GatewayListeners,
    uplink_config: UplinkConfig,
) -> Result<GatewayHandle, GatewayError> {
    config.validate()?;
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| GatewayError::Io(format!("create {}", config.data_dir.display()), e))?;
    }
    let share_key = crate::sharekey::load_or_create(&config.share_key_path())?;
    let store = Store::connect(&config.database_url()).await?;
    crate::sharekey::check_against(&store, &share_key).await?;
    let mut registry = Registry::with_prefix("gateway");
    let metrics = GatewayMetrics::register(&mut registry);
    let gateway = Gateway::new(store, share_key, &config, uplink_config, metrics)?;
    if gateway.trusted().is_empty() {
        tracing::warn!(
            "no trusted_satellites configured: no user can be registered or served until one is"
        );
    }

    let mut builder = S3ServiceBuilder::new(gateway.clone());
    builder.set_auth(gateway.clone());
    builder.set_access(RecordOperation);
    let mut s3_config = S3Config::default();
    s3_config.presigned_url_max_skew_time_secs = config.max_clock_skew.as_secs() as u32;
    builder.set_config(Arc::new(StaticConfigProvider::new(Arc::new(s3_config))));
    builder.set_host(Domains(config.domains.clone()));
    let handler = Handler {
        s3: builder.build(),
        gw: gateway.clone(),
        limit: Arc::new(Semaphore::new(config.max_concurrent_requests)),
        domains: Arc::new(config.domains.clone()),
        allow_registration: config.allow_registration,
        registrations: Arc::new(RateLimiter::new(config.registrations_per_minute)),
        body_idle_timeout: config.body_idle_timeout,
    };

    let addr = listeners
        .s3
        .local_addr()
        .map_err(|e| GatewayError::Io("gateway address".into(), e))?;
    let metrics_addr = listeners
        .metrics
        .local_addr()
        .map_err(|e| GatewayError::Io("metrics address".into(), e))?;
    let mut tasks = TaskSet::new();
    let shutdown = tasks.stop_token();
    let ready = Readiness::default();
    ready.set(true);
    let metrics_task = serve_metrics(
        listeners.metrics,
        Arc::new(registry),
        ready,
        shutdown.clone(),
    );
    let header_timeout = config.header_timeout;
    let tls = match (&config.tls_cert_file, &config.tls_key_file) {
        (Some(cert), Some(key)) => Some(crate::tls::acceptor(cert, key)?),
        _ => None,
    };
    let https = tls.is_some();
    let token = shutdown.clone();
    let listener = listeners.s3;
    let accept_task = tokio::spawn(async move {
        loop {
            let (stream, peer) = tokio::select! {
                _ = token.cancelled() => break,
                r = listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            let token = token.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let io = match tls {
                    None => Io::Plain(stream),
                    Some(tls) => {
                        match tokio::time::timeout(header_timeout, tls.accept(stream)).await {
                            Ok(Ok(s)) => Io::Tls(Box::new(s)),
                            Ok(Err(e)) => {
                                tracing::debug!(peer = %peer, error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(peer = %peer, "TLS handshake timed out");
                                return;
                            }
                        }
                    }
                };
                let service = hyper::service::service_fn(move |mut req: http::Request<_>| {
                    req.extensions_mut().insert(PeerAddr(peer));
                    handler.clone().handle(req)
                });
                let mut builder =
                    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                builder
                    .http1()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .keep_alive(true);
                let conn = builder.serve_connection(TokioIo::new(io), service);
                tokio::select! {
                    r = conn => if let Err(e) = r {
                        tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
                    },
                    _ = token.cancelled() => {}
                }
            });
        }
    });
    let revocation_task = spawn_revocation_chore(gateway.clone(), shutdown);
    tasks.adopt("s3 listener", accept_task);
    tasks.adopt("metrics listener", metrics_task);
    tasks.adopt("revocation chore", revocation_task);
    tracing::info!(%addr, %metrics_addr, "gateway started");
    Ok(GatewayHandle {
        addr,
        https,
        metrics_addr,
        gateway,
        tasks,
    })
}

/// How often queued share revocations are retried.
const REVOCATION_INTERVAL: Duration = Duration::from_secs(60);

/// Retries the revocation of shares the satellite did not confirm yet
/// (it was unreachable when they were taken out of use).
fn spawn_revocation_chore(
    gateway: Gateway,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(REVOCATION_INTERVAL) => {}
            }
            match gateway.revoke_pending().await {
                Ok(0) => {}
                Ok(left) => tracing::warn!(left, "share revocations still pending"),
                Err(e) => tracing::warn!(error = %e, "share revocation round failed"),
            }
        }
    })
}
