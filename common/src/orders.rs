//! Order limits (satellite-signed capabilities for one piece transfer),
//! orders (uplink-signed byte allowances) and piece hashes (signed proofs of
//! what a piece holds), with their canonical encodings.

use crate::codec::{DecodeError, Reader, Writer};
use crate::ids::{NodeId, PieceId, SerialNumber};
use crate::signing::{Canonical, PublicKey, SigningDomain};

const TAG_ORDER_LIMIT: u8 = 0x01;
const TAG_ORDER: u8 = 0x02;
const TAG_PIECE_HASH: u8 = 0x03;

/// What an order limit allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PieceAction {
    /// Upload of a new piece.
    Put = 1,
    /// Download by a client.
    Get = 2,
    /// Download of a stripe by the satellite's auditor.
    GetAudit = 3,
    /// Download by the repairer.
    GetRepair = 4,
    /// Upload of a repaired piece.
    PutRepair = 5,
    /// Deletion of a piece.
    Delete = 6,
}

impl PieceAction {
    /// Parses the wire value.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::Put,
            2 => Self::Get,
            3 => Self::GetAudit,
            4 => Self::GetRepair,
            5 => Self::PutRepair,
            6 => Self::Delete,
            _ => return None,
        })
    }
    /// True for actions that store a piece.
    pub fn is_put(self) -> bool {
        matches!(self, Self::Put | Self::PutRepair)
    }
    /// True for actions that read a piece.
    pub fn is_get(self) -> bool {
        matches!(self, Self::Get | Self::GetAudit | Self::GetRepair)
    }
    /// Short lowercase name for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Put => "put",
            Self::Get => "get",
            Self::GetAudit => "get_audit",
            Self::GetRepair => "get_repair",
            Self::PutRepair => "put_repair",
            Self::Delete => "delete",
        }
    }
}

/// A satellite's permission for one transfer of one piece on one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderLimit {
    /// Unique per limit; a node accepts each serial once.
    pub serial_number: SerialNumber,
    /// The satellite that signed the limit.
    pub satellite_id: NodeId,
    /// The only node that may accept the limit.
    pub storage_node_id: NodeId,
    /// The piece the transfer is for.
    pub piece_id: PieceId,
    /// What the transfer may do.
    pub action: PieceAction,
    /// Most bytes the transfer may move.
    pub limit: u64,
    /// When the stored piece may be deleted (unix seconds, 0 = never).
    pub piece_expiration: i64,
    /// When the limit was signed (unix seconds).
    pub order_creation: i64,
    /// After this (unix seconds) the limit is refused.
    pub order_expiration: i64,
    /// Per-segment key that signs orders and the uplink's piece hash.
    pub uplink_public_key: PublicKey,
    /// Opaque tag of the tenant (project) the transfer is for, stable per
    /// satellite and project and meaningless to nodes: they cap concurrent
    /// transfers per tag so one tenant cannot take a node's every slot.
    pub tenant: [u8; 16],
    /// Satellite-only data (project, bucket), opaque to nodes.
    pub encrypted_metadata: Vec<u8>,
}

impl Canonical for OrderLimit {
    const DOMAIN: SigningDomain = SigningDomain::OrderLimit;
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_ORDER_LIMIT);
        w.fixed(self.serial_number.as_bytes())
            .fixed(self.satellite_id.as_bytes())
            .fixed(self.storage_node_id.as_bytes())
            .fixed(self.piece_id.as_bytes())
            .u8(self.action as u8)
            .u64(self.limit)
            .i64(self.piece_expiration)
            .i64(self.order_creation)
            .i64(self.order_expiration)
            .fixed(&self.uplink_public_key.0)
            .fixed(&self.tenant)
            .bytes(&self.encrypted_metadata);
        w.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, TAG_ORDER_LIMIT)?;
        let l = OrderLimit {
            serial_number: SerialNumber::from_slice(&r.fixed::<16>()?)
                .map_err(|_| DecodeError::Invalid("serial"))?,
            satellite_id: NodeId::from_slice(&r.fixed::<32>()?)
                .map_err(|_| DecodeError::Invalid("satellite id"))?,
            storage_node_id: NodeId::from_slice(&r.fixed::<32>()?)
                .map_err(|_| DecodeError::Invalid("node id"))?,
            piece_id: PieceId::from_slice(&r.fixed::<32>()?)
                .map_err(|_| DecodeError::Invalid("piece id"))?,
            action: PieceAction::from_u8(r.u8()?).ok_or(DecodeError::Invalid("action"))?,
            limit: r.u64()?,
            piece_expiration: r.i64()?,
            order_creation: r.i64()?,
            order_expiration: r.i64()?,
            uplink_public_key: PublicKey(r.fixed::<32>()?),
            tenant: r.fixed::<16>()?,
            encrypted_metadata: r.bytes()?,
        };
        r.finish()?;
        Ok(l)
    }
}

/// An uplink's signed allowance: the node may move up to `amount` bytes in
/// total under the limit with this serial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    /// The serial of the limit the order is under.
    pub serial_number: SerialNumber,
    /// Bytes transferred so far under the limit.
    pub amount: u64,
}

impl Canonical for Order {
    const DOMAIN: SigningDomain = SigningDomain::Order;
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_ORDER);
        w.fixed(self.serial_number.as_bytes()).u64(self.amount);
        w.finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, TAG_ORDER)?;
        let o = Order {
            serial_number: SerialNumber::from_slice(&r.fixed::<16>()?)
                .map_err(|_| DecodeError::Invalid("serial"))?,
            amount: r.u64()?,
        };
        r.finish()?;
        Ok(o)
    }
}

/// What a piece holds: signed by the uplink at the end of an upload and
/// countersigned by the node that stored it. `hash` is the BLAKE3 of the
/// piece's chunk hashes (see [`crate::piece`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PieceHash {
    /// The piece described.
    pub piece_id: PieceId,
    /// BLAKE3 over the piece's chunk hashes.
    pub hash: [u8; 32],
    /// Bytes of the piece.
    pub piece_size: u64,
    /// When the hash was signed (unix seconds).
    pub timestamp: i64,
}

impl Canonical for PieceHash {
    const DOMAIN: SigningDomain = SigningDomain::PieceHash;
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(TAG_PIECE_HASH);
        w.fixed(self.piece_id.as_bytes())
            .fixed(&self.hash)
            .u64(self.piece_size)
            .i64(self.timestamp);
        w.finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, TAG_PIECE_HASH)?;
        let h = PieceHash {
            piece_id: PieceId::from_slice(&r.fixed::<32>()?)
                .map_err(|_| DecodeError::Invalid("piece id"))?,
            hash: r.fixed::<32>()?,
            piece_size: r.u64()?,
            timestamp: r.i64()?,
        };
        r.finish()?;
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::SigningKeyPair;

    fn limit() -> OrderLimit {
        OrderLimit {
            serial_number: SerialNumber::new(100),
            satellite_id: NodeId::from_public_key(&[1; 32]),
            storage_node_id: NodeId::from_public_key(&[2; 32]),
            piece_id: PieceId::random(),
            action: PieceAction::Put,
            limit: 1 << 20,
            piece_expiration: 0,
            order_creation: 10,
            order_expiration: 100,
            uplink_public_key: SigningKeyPair::generate().public_key(),
            tenant: [4; 16],
            encrypted_metadata: vec![9, 9],
        }
    }

    #[test]
    fn canonical_round_trips() {
        let l = limit();
        assert_eq!(OrderLimit::decode(&l.encode()).unwrap(), l);
        let o = Order {
            serial_number: l.serial_number,
            amount: 5,
        };
        assert_eq!(Order::decode(&o.encode()).unwrap(), o);
        let h = PieceHash {
            piece_id: l.piece_id,
            hash: [3; 32],
            piece_size: 77,
            timestamp: 5,
        };
        assert_eq!(PieceHash::decode(&h.encode()).unwrap(), h);
    }

    #[test]
    fn type_confusion_and_trailing_bytes_refused() {
        let l = limit();
        let o = Order {
            serial_number: l.serial_number,
            amount: 5,
        };
        assert_eq!(
            OrderLimit::decode(&o.encode()),
            Err(DecodeError::WrongType(TAG_ORDER))
        );
        let mut bytes = l.encode();
        bytes.push(0);
        assert_eq!(OrderLimit::decode(&bytes), Err(DecodeError::Trailing));
        assert_eq!(
            OrderLimit::decode(&bytes[..10]),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn signed_limit_verifies_only_for_its_satellite() {
        let sat = SigningKeyPair::generate();
        let mut l = limit();
        l.satellite_id = sat.public_key().node_id();
        let signed = sat.sign(&l);
        assert_eq!(signed.verify::<OrderLimit>(&l.satellite_id).unwrap(), l);
        let mut forged = signed.clone();
        forged.payload[60] ^= 0xff;
        assert!(forged.verify::<OrderLimit>(&l.satellite_id).is_err());
    }
}
