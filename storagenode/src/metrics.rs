//! Prometheus metrics of one node instance (never global: localnet runs many
//! nodes in one process).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use satstore_service::RpcMetrics;

use crate::store::PieceStore;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// Domain metrics of the storage node plus the per-RPC metrics.
#[derive(Clone)]
pub struct StorageNodeMetrics {
    /// Request counts and latencies, recorded by the RPC layer.
    pub rpc: RpcMetrics,
    pieces_stored: Gauge,
    used_space: Gauge,
    free_space: Gauge,
    upload_bytes: Counter,
    download_bytes: Counter,
    refused: Family<ReasonLabel, Counter>,
    expired_pieces: Counter,
    /// Transfers (uploads, downloads) holding a slot right now.
    pub transfers_active: Gauge,
    /// Transfers ended by the node: idle too long or past the limit's expiry.
    transfers_timed_out: Family<ReasonLabel, Counter>,
}

fn gauge_value(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl StorageNodeMetrics {
    /// Registers every metric in `registry` (which carries the prefix).
    pub fn register(registry: &mut Registry) -> Self {
        let m = StorageNodeMetrics {
            rpc: RpcMetrics::register(registry),
            pieces_stored: Gauge::default(),
            used_space: Gauge::default(),
            free_space: Gauge::default(),
            upload_bytes: Counter::default(),
            download_bytes: Counter::default(),
            refused: Family::default(),
            expired_pieces: Counter::default(),
            transfers_active: Gauge::default(),
            transfers_timed_out: Family::default(),
        };
        registry.register(
            "pieces_stored",
            "Committed pieces held by the node",
            m.pieces_stored.clone(),
        );
        registry.register(
            "used_space_bytes",
            "Bytes of committed pieces plus reservations of uploads in flight",
            m.used_space.clone(),
        );
        registry.register(
            "free_space_bytes",
            "Bytes that may still be written: the rest of the allocation, capped by the filesystem's free space",
            m.free_space.clone(),
        );
        registry.register(
            "upload_bytes",
            "Piece bytes received from uploads",
            m.upload_bytes.clone(),
        );
        registry.register(
            "download_bytes",
            "Piece bytes sent to downloads",
            m.download_bytes.clone(),
        );
        registry.register(
            "order_limits_refused",
            "Refused order limits and orders by reason",
            m.refused.clone(),
        );
        registry.register(
            "expired_pieces_deleted",
            "Pieces deleted by the expiration sweep because their expiration passed",
            m.expired_pieces.clone(),
        );
        registry.register(
            "transfers_active",
            "Uploads and downloads holding a transfer slot",
            m.transfers_active.clone(),
        );
        registry.register(
            "transfers_timed_out",
            "Transfers ended by the node, by reason (idle, expired)",
            m.transfers_timed_out.clone(),
        );
        m
    }

    /// Counts a transfer the node ended (`reason`: idle or expired).
    pub fn timed_out(&self, reason: &'static str) {
        self.transfers_timed_out
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// Refreshes the space and piece gauges from the store.
    pub fn observe_store(&self, store: &dyn PieceStore) {
        let used = store.used_space();
        self.pieces_stored.set(gauge_value(store.piece_count()));
        self.used_space.set(gauge_value(used));
        self.free_space.set(gauge_value(store.available_space()));
    }

    /// Counts bytes received by an upload.
    pub fn uploaded(&self, bytes: u64) {
        self.upload_bytes.inc_by(bytes);
    }

    /// Counts bytes sent by a download.
    pub fn downloaded(&self, bytes: u64) {
        self.download_bytes.inc_by(bytes);
    }

    /// Counts pieces deleted by the expiration sweep.
    pub fn expired_pieces_deleted(&self, n: u64) {
        self.expired_pieces.inc_by(n);
    }

    /// Counts one refused limit or order (`reason` from a small fixed set).
    pub fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&ReasonLabel { reason }).inc();
    }
}
