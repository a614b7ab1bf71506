//! Starting and stopping a storage node: [`start`] wires the piece store,
//! the gRPC services, the metrics endpoint and the chores, and returns a
//! [`StorageNodeHandle`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use satstore_common::time::now_unix;
use satstore_common::{Identity, NodeId, NodeUrl};
use satstore_service::{Readiness, serve_metrics};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::checkin::CheckIn;
use crate::config::StorageNodeConfig;
use crate::error::{StorageNodeError, StoreError};
use crate::metrics::StorageNodeMetrics;
use crate::rpc::{ContactService, PiecestoreService};
use crate::server::serve_grpc;
use crate::store::{PieceStore, RocksPieceStore, StoreOptions};
use crate::transfer::{NodeContext, TransferSlots};
use crate::verify::Verifier;
use satstore_transport::{Dialer, Security, ServerTls};

/// How long a graceful shutdown waits for streams before killing them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Pre-bound listeners of a node (bind `127.0.0.1:0` in tests).
pub struct StorageNodeListeners {
    /// gRPC (Piecestore + Contact).
    pub grpc: TcpListener,
    /// `/metrics`, `/healthz`, `/readyz`.
    pub metrics: TcpListener,
}

/// A running storage node.
pub struct StorageNodeHandle {
    id: NodeId,
    url: NodeUrl,
    grpc_addr: SocketAddr,
    metrics_addr: SocketAddr,
    store: Arc<RocksPieceStore>,
    checkin: Arc<CheckIn>,
    shutdown: CancellationToken,
    kill: CancellationToken,
    server: Option<JoinHandle<()>>,
    metrics_server: Option<JoinHandle<()>>,
    chores: Option<JoinHandle<()>>,
}

/// Starts a storage node; check-in failures at start are logged, not fatal.
pub async fn start(
    config: StorageNodeConfig,
    listeners: StorageNodeListeners,
) -> Result<StorageNodeHandle, StorageNodeError> {
    config.validate()?;
    let satellites = config.satellite_urls()?;
    let data_dir = config.data_dir.clone();
    let (identity, store) = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&data_dir).map_err(|e| {
            StorageNodeError::Config(format!("create data_dir {}: {e}", data_dir.display()))
        })?;
        let identity =
            Identity::load_or_create_with_difficulty(&data_dir, config.identity_difficulty)?;
        let store = RocksPieceStore::open(
            &data_dir.join("pieces.db"),
            StoreOptions {
                allocated_space: config.allocated_space.0,
                min_free_disk: config.min_free_disk.0,
            },
        )?;
        Ok::<_, StorageNodeError>((identity, store))
    })
    .await
    .map_err(|e| StorageNodeError::Store(StoreError::Task(e.to_string())))??;
    let store = Arc::new(store);
    let dyn_store: Arc<dyn PieceStore> = store.clone();

    let grpc_addr = listeners
        .grpc
        .local_addr()
        .map_err(StorageNodeError::Listener)?;
    let metrics_addr = listeners
        .metrics
        .local_addr()
        .map_err(StorageNodeError::Listener)?;
    let address = config
        .external_address
        .clone()
        .unwrap_or_else(|| grpc_addr.to_string());
    let id = identity.id();
    let url = NodeUrl {
        id,
        address: address.clone(),
    };

    let mut registry = Registry::with_prefix("storagenode");
    let metrics = StorageNodeMetrics::register(&mut registry);
    metrics.observe_store(&*dyn_store);

    let security = config.security();
    let tls = match security {
        Security::Tls => Some(ServerTls::new(&identity).map_err(tls_error)?),
        Security::Insecure => None,
    };
    let dialer = Dialer::with_identity(security, &identity).map_err(tls_error)?;

    let kill = CancellationToken::new();
    let shutdown = kill.child_token();
    let ctx = Arc::new(NodeContext {
        identity: identity.clone(),
        verifier: Verifier::new(
            id,
            satellites.iter().map(|s| s.id),
            config.order_creation_grace,
        ),
        store: dyn_store.clone(),
        metrics: metrics.clone(),
        slots: TransferSlots::new(config.transfer_limits(), metrics.clone()),
        shutdown: shutdown.clone(),
    });

    let server = {
        let (piecestore, contact) = (
            PiecestoreService::new(ctx.clone()),
            ContactService::new(identity.clone()),
        );
        let (rpc, shutdown, kill) = (metrics.rpc.clone(), shutdown.clone(), kill.clone());
        tokio::spawn(async move {
            if let Err(e) = serve_grpc(
                listeners.grpc,
                tls,
                piecestore,
                contact,
                rpc,
                id,
                shutdown,
                kill,
            )
            .await
            {
                tracing::error!(error = %e, "gRPC server failed");
            }
        })
    };
    let ready = Readiness::default();
    ready.set(true);
    let metrics_server = serve_metrics(
        listeners.metrics,
        Arc::new(registry),
        ready,
        shutdown.clone(),
    );

    let checkin = Arc::new(CheckIn::new(
        identity,
        dialer,
        satellites,
        address,
        dyn_store.clone(),
    ));
    let chores = tokio::spawn(run_chores(
        checkin.clone(),
        dyn_store,
        metrics,
        ChoreIntervals {
            check_in: config.check_in_interval,
            expiration_sweep: config.expiration_sweep_interval,
        },
        shutdown.clone(),
    ));
    tracing::info!(node_id = %id, grpc = %grpc_addr, metrics = %metrics_addr, "storage node started");
    Ok(StorageNodeHandle {
        id,
        url,
        grpc_addr,
        metrics_addr,
        store,
        checkin,
        shutdown,
        kill,
        server: Some(server),
        metrics_server: Some(metrics_server),
        chores: Some(chores),
    })
}

fn tls_error(e: satstore_transport::TransportError) -> StorageNodeError {
    StorageNodeError::Config(e.to_string())
}

/// How often the node's chores run.
#[derive(Clone, Copy, Debug)]
struct ChoreIntervals {
    /// Between check-ins with every satellite.
    check_in: Duration,
    /// Between sweeps of expired pieces and serials.
    expiration_sweep: Duration,
}

/// Check-in (at start, then every interval) and the sweep of expired serials
/// and pieces (at start, then every `expiration_sweep` interval), until
/// shutdown.
async fn run_chores(
    checkin: Arc<CheckIn>,
    store: Arc<dyn PieceStore>,
    metrics: StorageNodeMetrics,
    intervals: ChoreIntervals,
    shutdown: CancellationToken,
) {
    let mut check_in_tick = tokio::time::interval(intervals.check_in);
    let mut cleanup_tick = tokio::time::interval(intervals.expiration_sweep);
    check_in_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    cleanup_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = check_in_tick.tick() => {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    r = checkin.check_in_all() => if let Err(e) = r {
                        tracing::warn!(error = %e, "check-in failed; retrying next interval");
                    },
                }
            }
            _ = cleanup_tick.tick() => {
                let s = store.clone();
                let now = now_unix();
                let r = tokio::task::spawn_blocking(move || {
                    Ok::<_, StoreError>((s.delete_expired_serials(now)?, s.delete_expired_pieces(now)?))
                }).await;
                match r {
                    Ok(Ok((serials, pieces))) => {
                        if pieces > 0 {
                            tracing::info!(serials, pieces, "removed expired serials and pieces");
                        } else {
                            tracing::debug!(serials, pieces, "removed expired serials and pieces");
                        }
                        metrics.expired_pieces_deleted(pieces);
                        metrics.observe_store(&*store);
                    }
                    Ok(Err(e)) => tracing::warn!(error = %e, "cleanup of expired data failed"),
                    Err(e) => tracing::warn!(error = %e, "cleanup task failed"),
                }
            }
        }
    }
}

impl StorageNodeHandle {
    /// The node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }
    /// The node's advertised `id@host:port`.
    pub fn url(&self) -> NodeUrl {
        self.url.clone()
    }
    /// The bound gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }
    /// The bound metrics address.
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
    }
    /// The piece store (to inspect what the node holds).
    pub fn store(&self) -> Arc<dyn PieceStore> {
        self.store.clone()
    }

    /// The RocksDB store itself, for the test-only hooks of
    /// [`crate::testing`].
    #[cfg(any(test, feature = "test-support"))]
    pub(crate) fn rocks_store(&self) -> &RocksPieceStore {
        &self.store
    }

    /// The node's check-in, for the test-only hooks of [`crate::testing`].
    #[cfg(any(test, feature = "test-support"))]
    pub(crate) fn check_in(&self) -> &CheckIn {
        &self.checkin
    }

    /// Checks in with every satellite now.
    pub async fn check_in_now(&self) -> Result<(), StorageNodeError> {
        self.checkin.check_in_all().await
    }

    /// Stops gracefully: stop accepting, end streams (UNAVAILABLE), stop the
    /// chores, close RocksDB. The data dir can be reopened right after.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.as_mut() {
            if tokio::time::timeout(SHUTDOWN_GRACE, server).await.is_ok() {
                self.server = None;
            } else {
                tracing::warn!("streams did not end in time; closing connections");
                self.kill.cancel();
            }
        }
        self.finish().await;
        tracing::info!(node_id = %self.id, "storage node stopped");
    }

    /// Stops abruptly, as a crash would: every connection and task is cut at
    /// once, then RocksDB is released (uncommitted uploads are discarded on
    /// the next start).
    pub async fn kill(mut self) {
        self.kill.cancel();
        for task in [&self.server, &self.chores, &self.metrics_server]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        self.finish().await;
        tracing::info!(node_id = %self.id, "storage node killed");
    }

    async fn finish(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
        for task in [self.chores.take(), self.metrics_server.take()]
            .into_iter()
            .flatten()
        {
            let _ = task.await;
        }
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.close()).await;
    }
}
