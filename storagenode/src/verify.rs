//! Order-limit and order verification: every transfer starts with
//! [`Verifier::verify_limit`] and tracks the uplink's orders with an
//! [`OrderTracker`]. Used serials live in the piece store (persisted until
//! the limit's order expiration).

use std::collections::HashSet;
use std::time::Duration;

use satstore_common::{NodeId, Order, OrderLimit, PieceAction, SignedMessage};

use crate::error::{TransferError, VerifyError};
use crate::store::PieceStore;

/// Which actions an RPC accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RpcKind {
    /// `Piecestore.Upload`: PUT or PUT_REPAIR.
    Upload,
    /// `Piecestore.Download`: GET, GET_AUDIT or GET_REPAIR.
    Download,
    /// `Piecestore.Delete`: DELETE.
    Delete,
}

impl RpcKind {
    fn allows(self, action: PieceAction) -> bool {
        match self {
            RpcKind::Upload => action.is_put(),
            RpcKind::Download => action.is_get(),
            RpcKind::Delete => action == PieceAction::Delete,
        }
    }
    fn name(self) -> &'static str {
        match self {
            RpcKind::Upload => "upload",
            RpcKind::Download => "download",
            RpcKind::Delete => "delete",
        }
    }
}

/// Checks order limits against this node's id, trust list and clock.
#[derive(Clone, Debug)]
pub struct Verifier {
    node_id: NodeId,
    trusted: HashSet<NodeId>,
    creation_grace: i64,
}

impl Verifier {
    /// A verifier for node `node_id` trusting `trusted` satellites and
    /// accepting limits created at most `creation_grace` ago (or ahead).
    pub fn new(
        node_id: NodeId,
        trusted: impl IntoIterator<Item = NodeId>,
        creation_grace: Duration,
    ) -> Self {
        Verifier {
            node_id,
            trusted: trusted.into_iter().collect(),
            creation_grace: i64::try_from(creation_grace.as_secs()).unwrap_or(i64::MAX),
        }
    }

    /// Checks a signed limit for `rpc` at time `now` (unix seconds), without
    /// consuming its serial.
    pub fn check_limit(
        &self,
        signed: &SignedMessage,
        rpc: RpcKind,
        now: i64,
    ) -> Result<OrderLimit, VerifyError> {
        let claimed: OrderLimit = signed
            .decode_unverified()
            .map_err(|e| VerifyError::MalformedLimit(e.to_string()))?;
        if !self.trusted.contains(&claimed.satellite_id) {
            return Err(VerifyError::UntrustedSatellite(claimed.satellite_id));
        }
        let limit: OrderLimit = signed
            .verify(&claimed.satellite_id)
            .map_err(|e| VerifyError::BadLimitSignature(e.to_string()))?;
        if limit.storage_node_id != self.node_id {
            return Err(VerifyError::WrongNode(limit.storage_node_id));
        }
        if !rpc.allows(limit.action) {
            return Err(VerifyError::wrong_action(limit.action, rpc.name()));
        }
        if limit.order_expiration <= now {
            return Err(VerifyError::Expired(format!(
                "order expired at {}, now {now}",
                limit.order_expiration
            )));
        }
        if (now - limit.order_creation).abs() > self.creation_grace {
            return Err(VerifyError::Expired(format!(
                "order created at {}, more than {} s from now ({now})",
                limit.order_creation, self.creation_grace
            )));
        }
        if limit.piece_expiration != 0 && limit.piece_expiration <= now {
            return Err(VerifyError::Expired(format!(
                "piece expired at {}",
                limit.piece_expiration
            )));
        }
        Ok(limit)
    }

    /// Checks a limit and consumes its serial (durably): a second use is
    /// refused, also after a power loss.
    pub fn verify_limit(
        &self,
        store: &dyn PieceStore,
        signed: &SignedMessage,
        rpc: RpcKind,
        now: i64,
    ) -> Result<OrderLimit, TransferError> {
        let limit = self.check_limit(signed, rpc, now)?;
        use_serial(store, &limit, true)?;
        Ok(limit)
    }
}

/// Consumes the serial of a checked `limit`: `SerialUsed` if it was used
/// before. `durable`: synced now (else the caller's commit syncs it).
pub fn use_serial(
    store: &dyn PieceStore,
    limit: &OrderLimit,
    durable: bool,
) -> Result<(), TransferError> {
    let fresh = store.use_serial(
        &limit.satellite_id,
        &limit.serial_number,
        limit.order_expiration,
        durable,
    )?;
    if !fresh {
        return Err(VerifyError::SerialUsed.into());
    }
    Ok(())
}

/// Tracks the uplink's orders under one limit: signature, serial, growth.
#[derive(Debug)]
pub struct OrderTracker {
    limit: OrderLimit,
    largest: Option<(u64, SignedMessage)>,
}

impl OrderTracker {
    /// A tracker for orders under `limit` (already verified).
    pub fn new(limit: OrderLimit) -> Self {
        OrderTracker {
            limit,
            largest: None,
        }
    }

    /// Verifies and records an order; returns the new allowance.
    pub fn add(&mut self, signed: SignedMessage) -> Result<u64, VerifyError> {
        let order: Order = signed
            .verify_with_key(&self.limit.uplink_public_key)
            .map_err(|e| VerifyError::BadOrderSignature(e.to_string()))?;
        if order.serial_number != self.limit.serial_number {
            return Err(VerifyError::OrderSerialMismatch);
        }
        let previous = self.allowance();
        if order.amount < previous {
            return Err(VerifyError::OrderDecreased {
                previous,
                amount: order.amount,
            });
        }
        if order.amount > self.limit.limit {
            return Err(VerifyError::OrderOverLimit {
                amount: order.amount,
                limit: self.limit.limit,
            });
        }
        self.largest = Some((order.amount, signed));
        Ok(order.amount)
    }

    /// Bytes the orders received so far allow in total.
    pub fn allowance(&self) -> u64 {
        self.largest.as_ref().map_or(0, |(a, _)| *a)
    }

    /// The largest order received and its amount.
    pub fn largest(&self) -> Option<&(u64, SignedMessage)> {
        self.largest.as_ref()
    }

    /// The limit the orders are checked against.
    pub fn limit(&self) -> &OrderLimit {
        &self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use satstore_common::signing::SigningKeyPair;
    use satstore_common::{Identity, PieceId, SerialNumber};

    const NOW: i64 = 1_000_000;

    struct Fixture {
        sat: Identity,
        node: NodeId,
        piece_key: SigningKeyPair,
        verifier: Verifier,
    }

    fn fixture() -> Fixture {
        let sat = Identity::generate(0);
        let node = NodeId::from_public_key(&[9; 32]);
        let verifier = Verifier::new(node, [sat.id()], Duration::from_secs(3600));
        Fixture {
            sat,
            node,
            piece_key: SigningKeyPair::generate(),
            verifier,
        }
    }

    impl Fixture {
        fn limit(&self, action: PieceAction) -> OrderLimit {
            OrderLimit {
                serial_number: SerialNumber::new(NOW + 100),
                satellite_id: self.sat.id(),
                storage_node_id: self.node,
                piece_id: PieceId::random(),
                action,
                limit: 1000,
                piece_expiration: 0,
                order_creation: NOW,
                order_expiration: NOW + 100,
                uplink_public_key: self.piece_key.public_key(),
                tenant: [0; 16],
                encrypted_metadata: vec![],
            }
        }
        fn check(&self, l: &OrderLimit, rpc: RpcKind) -> Result<OrderLimit, VerifyError> {
            self.verifier
                .check_limit(&self.sat.keys().sign(l), rpc, NOW)
        }
    }

    #[test]
    fn valid_limit_passes_and_each_field_is_checked() {
        let f = fixture();
        let l = f.limit(PieceAction::Put);
        assert_eq!(f.check(&l, RpcKind::Upload).unwrap(), l);
        assert!(matches!(
            f.check(&l, RpcKind::Download),
            Err(VerifyError::WrongAction { .. })
        ));
        let mut other = l.clone();
        other.storage_node_id = NodeId::from_public_key(&[1; 32]);
        assert!(matches!(
            f.check(&other, RpcKind::Upload),
            Err(VerifyError::WrongNode(_))
        ));
        let mut expired = l.clone();
        expired.order_expiration = NOW;
        assert!(matches!(
            f.check(&expired, RpcKind::Upload),
            Err(VerifyError::Expired(_))
        ));
        let mut old = l.clone();
        old.order_creation = NOW - 3601;
        assert!(matches!(
            f.check(&old, RpcKind::Upload),
            Err(VerifyError::Expired(_))
        ));
        let mut gone = l.clone();
        gone.piece_expiration = NOW - 1;
        assert!(matches!(
            f.check(&gone, RpcKind::Upload),
            Err(VerifyError::Expired(_))
        ));
    }

    #[test]
    fn forged_and_untrusted_limits_refused() {
        let f = fixture();
        let l = f.limit(PieceAction::Get);
        // Signed by someone else but claiming the trusted satellite id.
        let forger = Identity::generate(0);
        let forged = forger.keys().sign(&l);
        assert!(matches!(
            f.verifier.check_limit(&forged, RpcKind::Download, NOW),
            Err(VerifyError::BadLimitSignature(_))
        ));
        let mut own = l.clone();
        own.satellite_id = forger.id();
        let untrusted = forger.keys().sign(&own);
        assert!(matches!(
            f.verifier.check_limit(&untrusted, RpcKind::Download, NOW),
            Err(VerifyError::UntrustedSatellite(_))
        ));
        let garbage = SignedMessage {
            payload: vec![1, 2, 3],
            ..Default::default()
        };
        assert!(matches!(
            f.verifier.check_limit(&garbage, RpcKind::Download, NOW),
            Err(VerifyError::MalformedLimit(_))
        ));
    }

    #[test]
    fn orders_must_be_signed_grow_and_fit() {
        let f = fixture();
        let l = f.limit(PieceAction::Put);
        let mut t = OrderTracker::new(l.clone());
        let order = |amount| Order {
            serial_number: l.serial_number,
            amount,
        };
        assert_eq!(t.add(f.piece_key.sign(&order(100))).unwrap(), 100);
        assert!(matches!(
            t.add(f.piece_key.sign(&order(50))),
            Err(VerifyError::OrderDecreased { .. })
        ));
        assert!(matches!(
            t.add(f.piece_key.sign(&order(1001))),
            Err(VerifyError::OrderOverLimit { .. })
        ));
        assert!(matches!(
            t.add(SigningKeyPair::generate().sign(&order(200))),
            Err(VerifyError::BadOrderSignature(_))
        ));
        let other_serial = Order {
            serial_number: SerialNumber::new(5),
            amount: 200,
        };
        assert!(matches!(
            t.add(f.piece_key.sign(&other_serial)),
            Err(VerifyError::OrderSerialMismatch)
        ));
        assert_eq!(t.add(f.piece_key.sign(&order(1000))).unwrap(), 1000);
        assert_eq!(t.allowance(), 1000);
    }
}
