//! What a transfer may hold on a node: a slot among the node's concurrent
//! transfers and among its tenant's, and time (an idle stream is cut, and no
//! stream outlives its order limit).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use satstore_common::time::now_unix;
use satstore_common::{NodeId, OrderLimit};
use tokio::time::Instant;

use crate::error::TransferError;
use crate::metrics::StorageNodeMetrics;

/// Bounds on transfers, from the node's config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransferLimits {
    /// A stream with no message for this long is ended.
    pub idle_timeout: Duration,
    /// Uploads and downloads at once on this node.
    pub max_concurrent: usize,
    /// Uploads and downloads at once for one tenant (the opaque tag a
    /// satellite puts in its limits).
    pub max_per_tenant: usize,
}

impl Default for TransferLimits {
    fn default() -> Self {
        TransferLimits {
            idle_timeout: Duration::from_secs(60),
            max_concurrent: 256,
            max_per_tenant: 64,
        }
    }
}

type TenantKey = (NodeId, [u8; 16]);

/// The slots of one node.
pub struct TransferSlots {
    limits: TransferLimits,
    metrics: StorageNodeMetrics,
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    total: usize,
    per_tenant: HashMap<TenantKey, usize>,
}

/// A held slot; released when dropped.
pub struct TransferSlot {
    slots: Arc<TransferSlots>,
    tenant: TenantKey,
}

impl TransferSlots {
    /// Slots bounded by `limits`, counted in `metrics`.
    pub fn new(limits: TransferLimits, metrics: StorageNodeMetrics) -> Arc<Self> {
        Arc::new(TransferSlots {
            limits,
            metrics,
            state: Mutex::new(SlotState::default()),
        })
    }

    /// The configured bounds.
    pub fn limits(&self) -> &TransferLimits {
        &self.limits
    }

    /// Takes a slot for a transfer under `limit`, or refuses at once when
    /// the node or the limit's tenant is at its maximum.
    pub fn try_acquire(
        self: &Arc<Self>,
        limit: &OrderLimit,
    ) -> Result<TransferSlot, TransferError> {
        let tenant = (limit.satellite_id, limit.tenant);
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.total >= self.limits.max_concurrent {
            return Err(TransferError::Busy(format!(
                "storage node is busy: {} transfers in progress (the maximum); retry later or elsewhere",
                s.total
            )));
        }
        let mine = s.per_tenant.get(&tenant).copied().unwrap_or(0);
        if mine >= self.limits.max_per_tenant {
            return Err(TransferError::Busy(format!(
                "too many concurrent transfers for this project on this node ({mine}, the maximum); retry later"
            )));
        }
        s.total += 1;
        *s.per_tenant.entry(tenant).or_default() += 1;
        self.metrics.transfers_active.set(s.total as i64);
        Ok(TransferSlot {
            slots: self.clone(),
            tenant,
        })
    }
}

impl Drop for TransferSlot {
    fn drop(&mut self) {
        let mut s = self.slots.state.lock().unwrap_or_else(|e| e.into_inner());
        s.total = s.total.saturating_sub(1);
        if let Some(n) = s.per_tenant.get_mut(&self.tenant) {
            *n -= 1;
            if *n == 0 {
                s.per_tenant.remove(&self.tenant);
            }
        }
        self.slots.metrics.transfers_active.set(s.total as i64);
    }
}

/// When a transfer under `limit` must end: the limit's order expiration.
pub fn expiry(limit: &OrderLimit) -> Instant {
    let left = limit.order_expiration.saturating_sub(now_unix()).max(0);
    Instant::now() + Duration::from_secs(left as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use satstore_common::signing::SigningKeyPair;
    use satstore_common::{PieceAction, PieceId, SerialNumber};

    fn limit(tenant: u8) -> OrderLimit {
        OrderLimit {
            serial_number: SerialNumber::random(),
            satellite_id: NodeId::from_public_key(&[1; 32]),
            storage_node_id: NodeId::from_public_key(&[2; 32]),
            piece_id: PieceId::random(),
            action: PieceAction::Put,
            limit: 1,
            piece_expiration: 0,
            order_creation: 0,
            order_expiration: now_unix() + 10,
            uplink_public_key: SigningKeyPair::generate().public_key(),
            tenant: [tenant; 16],
            encrypted_metadata: vec![],
        }
    }

    #[test]
    fn caps_per_node_and_per_tenant() {
        let mut registry = prometheus_client::registry::Registry::default();
        let metrics = StorageNodeMetrics::register(&mut registry);
        let slots = TransferSlots::new(
            TransferLimits {
                idle_timeout: Duration::from_secs(1),
                max_concurrent: 3,
                max_per_tenant: 2,
            },
            metrics.clone(),
        );
        let a1 = slots.try_acquire(&limit(1)).unwrap();
        let _a2 = slots.try_acquire(&limit(1)).unwrap();
        let e = slots.try_acquire(&limit(1)).err().unwrap();
        assert!(e.to_string().contains("this project"), "{e}");
        let _b1 = slots.try_acquire(&limit(2)).unwrap();
        let e = slots.try_acquire(&limit(3)).err().unwrap();
        assert!(e.to_string().contains("busy"), "{e}");
        assert_eq!(metrics.transfers_active.get(), 3);
        drop(a1);
        assert_eq!(metrics.transfers_active.get(), 2);
        let _a3 = slots.try_acquire(&limit(1)).unwrap();
    }

    #[test]
    fn expiry_follows_the_limit() {
        let l = limit(1);
        let left = expiry(&l) - Instant::now();
        assert!(left <= Duration::from_secs(10) && left >= Duration::from_secs(8));
        let past = OrderLimit {
            order_expiration: 5,
            ..l
        };
        assert!(expiry(&past) <= Instant::now());
    }
}
