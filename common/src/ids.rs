//! Identifier newtypes. Raw bytes never cross module boundaries: parse them
//! into these types, which validate length and print in one text form.

use std::fmt;
use std::str::FromStr;

use ring::hmac;
use thiserror::Error;

use crate::hex;

/// Why an identifier could not be parsed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum IdError {
    #[error("{kind} must be {expected} bytes, got {got}")]
    /// The bytes are not as long as the id type.
    Length {
        /// Which id type.
        kind: &'static str,
        /// Its length in bytes.
        expected: usize,
        /// The length given.
        got: usize,
    },
    #[error("{kind} is not valid text: {reason}")]
    /// The text form does not decode.
    Text {
        /// Which id type.
        kind: &'static str,
        /// Why it does not decode.
        reason: String,
    },
}

macro_rules! fixed_id {
    ($name:ident, $len:expr, $kind:expr) => {
        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Wraps raw bytes, checking the length.
            pub fn from_slice(b: &[u8]) -> Result<Self, IdError> {
                let arr: [u8; $len] = b.try_into().map_err(|_| IdError::Length {
                    kind: $kind,
                    expected: $len,
                    got: b.len(),
                })?;
                Ok(Self(arr))
            }

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// A fresh random id.
            pub fn random() -> Self {
                Self(rand::random())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }
    };
}

/// Identity of a satellite or storage node: SHA-256 of its ed25519 public
/// key. Text form: base58check with version byte 0.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId([u8; 32]);
fixed_id!(NodeId, 32, "node id");

impl NodeId {
    /// The id of the peer holding this public key.
    pub fn from_public_key(public_key: &[u8; 32]) -> Self {
        let d = ring::digest::digest(&ring::digest::SHA256, public_key);
        let mut id = [0u8; 32];
        id.copy_from_slice(d.as_ref());
        NodeId(id)
    }

    /// Proof-of-work difficulty: the number of trailing zero bits.
    pub fn difficulty(&self) -> u32 {
        let mut bits = 0;
        for b in self.0.iter().rev() {
            if *b == 0 {
                bits += 8;
            } else {
                bits += b.trailing_zeros();
                break;
            }
        }
        bits
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(&self.0).with_check_version(0).into_string())
    }
}

impl FromStr for NodeId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let raw = bs58::decode(s)
            .with_check(Some(0))
            .into_vec()
            .map_err(|e| IdError::Text {
                kind: "node id",
                reason: e.to_string(),
            })?;
        NodeId::from_slice(&raw[1..])
    }
}

/// Identity of one piece on one node. Derived from a segment's root piece id
/// so that nodes cannot correlate the pieces of a segment. Text form: hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PieceId([u8; 32]);
fixed_id!(PieceId, 32, "piece id");

impl PieceId {
    /// The id of piece number `piece_num` of the segment with this root id,
    /// stored on `node`: HMAC-SHA512(root, node ‖ BE u32 num)[..32].
    pub fn derive(&self, node: &NodeId, piece_num: u32) -> PieceId {
        let key = hmac::Key::new(hmac::HMAC_SHA512, &self.0);
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(node.as_bytes());
        ctx.update(&piece_num.to_be_bytes());
        let tag = ctx.sign();
        let mut id = [0u8; 32];
        id.copy_from_slice(&tag.as_ref()[..32]);
        PieceId(id)
    }
}

/// Serial number of an order limit: one per segment and action, shared by its
/// limits. The first 8 bytes hold the order expiration (BE unix seconds).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SerialNumber([u8; 16]);
fixed_id!(SerialNumber, 16, "serial number");

impl SerialNumber {
    /// A new serial for limits expiring at `expires_unix`.
    pub fn new(expires_unix: i64) -> Self {
        let mut s: [u8; 16] = rand::random();
        s[..8].copy_from_slice(&expires_unix.to_be_bytes());
        SerialNumber(s)
    }
}

/// Identity of one object upload (a stream of segments).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId([u8; 16]);
fixed_id!(StreamId, 16, "stream id");

macro_rules! hex_text {
    ($name:ident, $kind:expr) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(&self.0))
            }
        }
        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                let raw = hex::decode(s).ok_or_else(|| IdError::Text {
                    kind: $kind,
                    reason: "not hex".into(),
                })?;
                Self::from_slice(&raw)
            }
        }
    };
}
hex_text!(PieceId, "piece id");
hex_text!(SerialNumber, "serial number");
hex_text!(StreamId, "stream id");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_id_text_round_trip_and_checksum() {
        let id = NodeId::from_public_key(&[7u8; 32]);
        let s = id.to_string();
        assert_eq!(s.parse::<NodeId>().unwrap(), id);
        let mut bad = s.into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'2' { b'3' } else { b'2' };
        assert!(String::from_utf8(bad).unwrap().parse::<NodeId>().is_err());
    }

    #[test]
    fn derived_piece_ids_differ_by_node_and_number() {
        let root = PieceId::random();
        let a = NodeId::from_public_key(&[1; 32]);
        let b = NodeId::from_public_key(&[2; 32]);
        assert_ne!(root.derive(&a, 0), root.derive(&b, 0));
        assert_ne!(root.derive(&a, 0), root.derive(&a, 1));
        assert_eq!(root.derive(&a, 3), root.derive(&a, 3));
    }

    #[test]
    fn lengths_are_checked() {
        assert!(PieceId::from_slice(&[0; 31]).is_err());
        assert!(SerialNumber::from_slice(&[0; 16]).is_ok());
        let p = PieceId::random();
        assert_eq!(p.to_string().parse::<PieceId>().unwrap(), p);
    }

    #[test]
    fn difficulty_counts_trailing_zero_bits() {
        let mut raw = [0xffu8; 32];
        raw[31] = 0b1000_0000;
        assert_eq!(NodeId::from_slice(&raw).unwrap().difficulty(), 7);
        raw[31] = 0;
        raw[30] = 0b10;
        assert_eq!(NodeId::from_slice(&raw).unwrap().difficulty(), 9);
    }
}
