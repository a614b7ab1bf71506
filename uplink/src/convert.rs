//! Conversions between wire messages and `common` types, validating what
//! the satellite sent before the rest of the crate uses it.

use satstore_common::erasure::RedundancyScheme;
use satstore_common::signing::SigningKeyPair;
use satstore_common::{NodeId, NodeUrl, OrderLimit, SignedMessage};
use satstore_proto::common as pb;
use satstore_proto::metainfo::AddressedOrderLimit;

use crate::error::{Result, UplinkError};

/// The redundancy scheme of a segment, validated.
pub(crate) fn redundancy_from_pb(r: Option<pb::RedundancyScheme>) -> Result<RedundancyScheme> {
    let r = r.ok_or_else(|| UplinkError::Internal("satellite sent no redundancy scheme".into()))?;
    let small = |v: u32| {
        u16::try_from(v)
            .map_err(|_| UplinkError::Internal(format!("redundancy value {v} too large")))
    };
    let scheme = RedundancyScheme {
        required: small(r.required)?,
        repair: small(r.repair)?,
        success: small(r.success)?,
        total: small(r.total)?,
        share_size: r.share_size,
    };
    scheme
        .validate()
        .map_err(|e| UplinkError::Internal(format!("satellite sent {e}")))?;
    Ok(scheme)
}

/// The per-segment piece key sent by the satellite.
pub(crate) fn piece_key(seed: &[u8]) -> Result<SigningKeyPair> {
    SigningKeyPair::from_seed_slice(seed)
        .map_err(|e| UplinkError::Internal(format!("satellite sent a bad piece key: {e}")))
}

/// An order limit checked to be signed by our satellite, with where to use it.
#[derive(Clone, Debug)]
pub(crate) struct AddressedLimit {
    /// Piece number within the segment (erasure share index).
    pub piece_num: u32,
    /// The decoded, verified limit.
    pub limit: OrderLimit,
    /// The limit as signed, to forward to the node.
    pub signed: SignedMessage,
    /// Where the node listens; its id equals `limit.storage_node_id`.
    pub node: NodeUrl,
}

impl AddressedLimit {
    /// Verifies one addressed limit from the satellite (`None` for an empty slot).
    pub(crate) fn from_pb(a: AddressedOrderLimit, satellite: &NodeId) -> Result<Option<Self>> {
        let Some(signed) = a.limit else {
            return Ok(None);
        };
        let signed = SignedMessage::from(signed);
        let limit: OrderLimit = signed.verify(satellite).map_err(|e| {
            UplinkError::Internal(format!("order limit not signed by the satellite: {e}"))
        })?;
        let node: NodeUrl = a.node_address.parse().map_err(|e| {
            UplinkError::Internal(format!("satellite sent a bad node address: {e}"))
        })?;
        if node.id != limit.storage_node_id {
            return Err(UplinkError::Internal(format!(
                "node address {node} does not match the limit's node {}",
                limit.storage_node_id
            )));
        }
        Ok(Some(AddressedLimit {
            piece_num: a.piece_num,
            limit,
            signed,
            node,
        }))
    }
}

/// Unix seconds (0 = none) as an optional time.
pub(crate) fn time_from_unix(secs: i64) -> Option<std::time::SystemTime> {
    (secs > 0).then(|| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64))
}

/// An optional time as unix seconds (0 = none).
pub(crate) fn time_to_unix(t: Option<std::time::SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
