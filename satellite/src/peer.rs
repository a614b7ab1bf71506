//! Starting and stopping a satellite: opens the identity and the store,
//! wires the services, serves gRPC and `/metrics` on pre-bound listeners.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use satstore_common::time::now_unix;
use satstore_common::{Identity, NodeId, NodeUrl};
use satstore_proto::metainfo::metainfo_server::MetainfoServer;
use satstore_proto::node::node_server::NodeServer;
use satstore_service::{Readiness, RpcMetricsLayer, TaskSet, serve_metrics};
use satstore_transport::{AcceptLimits, Dialer, Security, ServerTls};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::chores::{Chore, ExpiredObjectsChore, ZombieObjectsChore};
use crate::config::SatelliteConfig;
use crate::contact::{Contact, ContactPolicy, NodeService};
use crate::deleter::PieceDeleter;
use crate::error::SatelliteError;
use crate::metainfo::{MetainfoEndpoint, MetainfoLimits, MetainfoService};
use crate::metrics::SatelliteMetrics;
use crate::orders::OrderSigner;
use crate::overlay::Overlay;
use crate::store::Store;
use crate::tokens::TokenSigner;

/// Pre-bound listeners (bind `127.0.0.1:0` in tests to avoid port races).
pub struct SatelliteListeners {
    /// gRPC (Metainfo + Node services).
    pub grpc: TcpListener,
    /// HTTP `/metrics`, `/healthz`, `/readyz`.
    pub metrics: TcpListener,
}

/// A running satellite.
pub struct SatelliteHandle {
    id: NodeId,
    grpc_addr: SocketAddr,
    metrics_addr: SocketAddr,
    store: Store,
    tasks: TaskSet,
    expired_chore: ExpiredObjectsChore,
    zombie_chore: ZombieObjectsChore,
    deleter: PieceDeleter,
}

fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> SatelliteError {
    move |source| SatelliteError::Io { what, source }
}

/// Starts a satellite serving on `listeners` until [`SatelliteHandle::shutdown`].
pub async fn start(
    config: SatelliteConfig,
    listeners: SatelliteListeners,
) -> Result<SatelliteHandle, SatelliteError> {
    config.validate()?;
    tracing::info!(
        data_dir = %config.data_dir.display(),
        database = if config.database_url().starts_with("sqlite:") { "sqlite" } else { "postgres" },
        redundancy = ?config.redundancy,
        max_segment_size = %config.max_segment_size,
        max_inline_size = %config.max_inline_size,
        online_window = ?config.online_window,
        order_expiration = ?config.order_expiration,
        expired_cleanup_interval = ?config.expired_cleanup_interval,
        pending_object_timeout = ?config.pending_object_timeout,
        "satellite configuration (database URL redacted)"
    );
    std::fs::create_dir_all(&config.data_dir).map_err(io("create data dir"))?;
    let identity = Identity::load_or_create(&config.data_dir)?;
    let store = Store::connect(&config.database_url()).await?;
    let grpc_addr = listeners
        .grpc
        .local_addr()
        .map_err(io("read gRPC listener address"))?;
    let metrics_addr = listeners
        .metrics
        .local_addr()
        .map_err(io("read metrics listener address"))?;

    let (metrics, registry) = SatelliteMetrics::new();
    let mut tasks = TaskSet::new();
    let shutdown = tasks.stop_token();
    let ready = Readiness::default();
    let metrics_task = serve_metrics(
        listeners.metrics,
        Arc::new(registry),
        ready.clone(),
        shutdown.clone(),
    );

    let security = config.security();
    let tls_error = |e: satstore_transport::TransportError| SatelliteError::Config(e.to_string());
    let tls = match security {
        Security::Tls => Some(ServerTls::new(&identity).map_err(tls_error)?),
        Security::Insecure => None,
    };
    let dialer = Dialer::with_identity(security, &identity).map_err(tls_error)?;
    let orders = Arc::new(OrderSigner::new(identity.clone(), config.order_expiration));
    let overlay = Overlay::new(store.clone(), config.online_window, config.min_free_disk.0);
    let deleter = PieceDeleter::new(
        store.clone(),
        orders.clone(),
        dialer.clone(),
        config.dial_timeout,
    );
    let expired_chore = ExpiredObjectsChore::new(store.clone(), metrics.clone());
    let zombie_chore = ZombieObjectsChore::new(
        store.clone(),
        deleter.clone(),
        metrics.clone(),
        config.pending_object_timeout,
    );
    tasks.adopt(
        "expired objects chore",
        crate::chores::spawn(
            expired_chore.clone(),
            config.expired_cleanup_interval,
            metrics.clone(),
            shutdown.clone(),
        ),
    );
    tasks.adopt(
        "zombie objects chore",
        crate::chores::spawn(
            zombie_chore.clone(),
            config.expired_cleanup_interval,
            metrics.clone(),
            shutdown.clone(),
        ),
    );
    let endpoint = MetainfoEndpoint::new(
        store.clone(),
        TokenSigner::new(identity.clone()),
        orders,
        overlay,
        deleter.clone(),
        metrics.clone(),
        MetainfoLimits {
            redundancy: config.redundancy,
            max_segment_size: config.max_segment_size.0,
            max_inline_size: config.max_inline_size.0,
            multipart_expiration: config.multipart_expiration,
        },
    );
    let contact = Contact::new(
        store.clone(),
        metrics.clone(),
        dialer,
        ContactPolicy {
            dial_timeout: config.dial_timeout,
            online_window: config.online_window,
            min_difficulty: config.min_node_difficulty,
            allowlist: config.allowlist()?,
            rate_per_ip: config.check_in_rate_per_ip,
            rate_per_node: config.check_in_rate_per_node,
        },
    );
    let router = tonic::transport::Server::builder()
        .layer(RpcMetricsLayer(metrics.rpc.clone()))
        .trace_fn(|req| tracing::info_span!("rpc", method = %req.uri().path()))
        .add_service(MetainfoServer::new(MetainfoService::new(Arc::new(
            endpoint,
        ))))
        .add_service(NodeServer::new(NodeService::new(Arc::new(contact))));
    let token = shutdown.clone();
    tasks.spawn("gRPC server", async move {
        let incoming = satstore_transport::incoming(listeners.grpc, tls, AcceptLimits::default());
        if let Err(e) = router
            .serve_with_incoming_shutdown(incoming, token.cancelled_owned())
            .await
        {
            tracing::error!(error = %e, "satellite gRPC server stopped");
        }
    });
    tasks.adopt("metrics listener", metrics_task);
    ready.set(true);
    tracing::info!(
        satellite = %NodeUrl { id: identity.id(), address: grpc_addr.to_string() },
        metrics = %metrics_addr,
        "satellite started"
    );
    Ok(SatelliteHandle {
        id: identity.id(),
        grpc_addr,
        metrics_addr,
        store,
        tasks,
        expired_chore,
        zombie_chore,
        deleter,
    })
}

impl SatelliteHandle {
    /// The satellite's node id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// `nodeid@host:port` of the gRPC listener.
    pub fn url(&self) -> NodeUrl {
        NodeUrl {
            id: self.id,
            address: self.grpc_addr.to_string(),
        }
    }

    /// Address of the gRPC listener.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// Address of the metrics listener.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
    }

    /// The satellite's store (for admin operations and tests).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A token cancelled when the satellite shuts down.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.tasks.stop_token()
    }

    /// Runs the expired-object cleanup now (as its chore would); returns
    /// how many objects it deleted. For tests and operators.
    pub async fn delete_expired_objects_now(&self) -> Result<u64, SatelliteError> {
        self.expired_chore.run_once(now_unix()).await
    }

    /// Runs the zombie pending-object cleanup now (as its chore would);
    /// returns how many objects it deleted (piece deletions continue in the
    /// background).
    pub async fn delete_zombie_objects_now(&self) -> Result<u64, SatelliteError> {
        self.zombie_chore.run_once(now_unix()).await
    }

    /// Waits (at most `limit`) for background piece deletions to finish.
    pub async fn drain_deletions(&self, limit: Duration) {
        self.deleter.drain(limit).await;
    }

    /// Stops serving, waits for the tasks and closes the database pool.
    pub async fn shutdown(self) {
        self.tasks.shutdown().await;
        self.deleter.drain(Duration::from_secs(5)).await;
        self.store.close().await;
        tracing::info!("satellite stopped");
    }
}
