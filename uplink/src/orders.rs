//! The order signing schedule: how far ahead of the data the uplink
//! allows a node to move bytes. Orders are cumulative; each new amount
//! doubles the previous one (starting at 1 MiB) and never exceeds the cap
//! (the order limit, or the bytes actually needed).

use satstore_common::signing::SigningKeyPair;
use satstore_common::{Order, SerialNumber, SignedMessage};

/// First order amount.
pub(crate) const FIRST_ORDER: u64 = 1 << 20;

/// Tracks the largest amount ordered so far for one piece transfer.
#[derive(Debug)]
pub(crate) struct OrderSchedule {
    ordered: u64,
    cap: u64,
}

impl OrderSchedule {
    /// A schedule that never orders more than `cap` bytes.
    pub(crate) fn new(cap: u64) -> Self {
        OrderSchedule { ordered: 0, cap }
    }

    /// Bytes allowed so far.
    #[cfg(test)]
    pub(crate) fn ordered(&self) -> u64 {
        self.ordered
    }

    /// If `needed` bytes are not covered yet, the next cumulative amount to
    /// order (covering `needed`, grown by doubling, capped); `None` when
    /// already covered. `needed` above the cap is clamped to the cap.
    pub(crate) fn cover(&mut self, needed: u64) -> Option<u64> {
        let needed = needed.min(self.cap);
        if needed <= self.ordered {
            return None;
        }
        let mut next = if self.ordered == 0 {
            FIRST_ORDER
        } else {
            self.ordered.saturating_mul(2)
        };
        while next < needed {
            next = next.saturating_mul(2);
        }
        self.ordered = next.min(self.cap);
        Some(self.ordered)
    }
}

/// Signs an order for `amount` cumulative bytes under `serial`.
pub(crate) fn sign_order(key: &SigningKeyPair, serial: SerialNumber, amount: u64) -> SignedMessage {
    key.sign(&Order {
        serial_number: serial,
        amount,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_by_doubling_and_stops_at_the_cap() {
        let mut s = OrderSchedule::new(5 << 20);
        assert_eq!(s.cover(0), None);
        assert_eq!(s.cover(1), Some(1 << 20));
        assert_eq!(s.cover(1 << 20), None);
        assert_eq!(s.cover((1 << 20) + 1), Some(2 << 20));
        // A big jump skips ahead by doubling.
        assert_eq!(s.cover((3 << 20) + 5), Some(4 << 20));
        assert_eq!(s.cover((4 << 20) + 1), Some(5 << 20));
        assert_eq!(s.cover(100 << 20), None, "capped: nothing more to order");
        assert_eq!(s.ordered(), 5 << 20);
    }

    #[test]
    fn small_cap_orders_exactly_the_cap() {
        let mut s = OrderSchedule::new(1000);
        assert_eq!(s.cover(10), Some(1000));
        assert_eq!(s.cover(1000), None);
        let mut zero = OrderSchedule::new(0);
        assert_eq!(zero.cover(10), None);
    }

    #[test]
    fn signed_orders_verify_with_the_piece_key() {
        let key = SigningKeyPair::generate();
        let serial = SerialNumber::new(100);
        let signed = sign_order(&key, serial, 42);
        let o: Order = signed.verify_with_key(&key.public_key()).unwrap();
        assert_eq!(
            o,
            Order {
                serial_number: serial,
                amount: 42
            }
        );
        assert!(
            signed
                .verify_with_key::<Order>(&SigningKeyPair::generate().public_key())
                .is_err()
        );
    }
}
