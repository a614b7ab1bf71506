//! The satellite's Prometheus metrics, registered per instance under the
//! `satellite` prefix.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use satstore_service::RpcMetrics;

/// Label of the segment counter: `remote` or `inline`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SegmentKindLabel {
    /// `remote` or `inline`.
    pub kind: &'static str,
}

/// Counters and gauges of one satellite instance.
#[derive(Clone)]
pub struct SatelliteMetrics {
    /// Per-RPC counts and latencies (fed by the tower layer).
    pub rpc: RpcMetrics,
    /// Nodes online at the last check-in.
    pub nodes_online: Gauge,
    /// Nodes known at the last check-in.
    pub nodes_total: Gauge,
    /// Objects committed.
    pub objects_committed: Counter,
    /// Segments committed, by kind.
    pub segments_committed: Family<SegmentKindLabel, Counter>,
    /// Encrypted bytes of committed segments.
    pub bytes_committed: Counter,
    /// API keys revoked through the RevokeApiKey RPC.
    pub api_keys_revoked: Counter,
    /// Expired objects deleted by the expired-object chore.
    pub expired_objects_deleted: Counter,
    /// Pending objects deleted by the zombie-object chore.
    pub zombie_objects_deleted: Counter,
    /// Chore runs that failed, by chore (`expired_objects`, `zombie_objects`).
    pub chore_failures: Family<ChoreLabel, Counter>,
}

/// Label of the chore failure counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChoreLabel {
    /// The chore's name.
    pub chore: &'static str,
}

impl SatelliteMetrics {
    /// Registers every metric in a new registry with prefix `satellite`.
    pub fn new() -> (Self, Registry) {
        let mut registry = Registry::with_prefix("satellite");
        let rpc = RpcMetrics::register(&mut registry);
        let m = SatelliteMetrics {
            rpc,
            nodes_online: Gauge::default(),
            nodes_total: Gauge::default(),
            objects_committed: Counter::default(),
            segments_committed: Family::default(),
            bytes_committed: Counter::default(),
            api_keys_revoked: Counter::default(),
            expired_objects_deleted: Counter::default(),
            zombie_objects_deleted: Counter::default(),
            chore_failures: Family::default(),
        };
        let overlay = registry.sub_registry_with_prefix("overlay");
        overlay.register(
            "nodes_online",
            "Storage nodes online",
            m.nodes_online.clone(),
        );
        overlay.register("nodes_total", "Storage nodes known", m.nodes_total.clone());
        let meta = registry.sub_registry_with_prefix("metainfo");
        meta.register(
            "objects_committed",
            "Objects committed",
            m.objects_committed.clone(),
        );
        meta.register(
            "segments_committed",
            "Segments committed by kind (remote or inline)",
            m.segments_committed.clone(),
        );
        meta.register(
            "committed_bytes",
            "Encrypted bytes of committed segments",
            m.bytes_committed.clone(),
        );
        meta.register(
            "api_keys_revoked",
            "API keys revoked by their holders",
            m.api_keys_revoked.clone(),
        );
        let chores = registry.sub_registry_with_prefix("chore");
        chores.register(
            "expired_objects_deleted",
            "Expired objects deleted with their segments",
            m.expired_objects_deleted.clone(),
        );
        chores.register(
            "zombie_objects_deleted",
            "Pending objects deleted after pending_object_timeout",
            m.zombie_objects_deleted.clone(),
        );
        chores.register(
            "failures",
            "Chore runs that failed, by chore",
            m.chore_failures.clone(),
        );
        (m, registry)
    }

    /// Counts one committed segment.
    pub fn segment_committed(&self, inline: bool, encrypted_size: u64) {
        let kind = if inline { "inline" } else { "remote" };
        self.segments_committed
            .get_or_create(&SegmentKindLabel { kind })
            .inc();
        self.bytes_committed.inc_by(encrypted_size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_with_prefix() {
        let (m, registry) = SatelliteMetrics::new();
        m.segment_committed(true, 10);
        m.objects_committed.inc();
        m.nodes_online.set(3);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry).unwrap();
        assert!(
            out.contains("satellite_metainfo_committed_bytes_total 10"),
            "{out}"
        );
        assert!(
            out.contains("satellite_metainfo_segments_committed_total{kind=\"inline\"} 1"),
            "{out}"
        );
        assert!(out.contains("satellite_overlay_nodes_online 3"), "{out}");
    }
}
