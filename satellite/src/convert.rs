//! Conversions between `satstore-proto` wire messages and `common` types,
//! validating what arrives.

use satstore_common::erasure::RedundancyScheme;
use satstore_proto::common as pb;

use crate::error::{SatelliteError, invalid};

/// Wire form of a redundancy scheme.
pub fn redundancy_to_proto(r: &RedundancyScheme) -> pb::RedundancyScheme {
    pb::RedundancyScheme {
        required: r.required as u32,
        repair: r.repair as u32,
        success: r.success as u32,
        total: r.total as u32,
        share_size: r.share_size,
    }
}

/// Parses and validates a wire redundancy scheme.
pub fn redundancy_from_proto(r: &pb::RedundancyScheme) -> Result<RedundancyScheme, SatelliteError> {
    let field = |v: u32, name: &str| {
        u16::try_from(v).map_err(|_| invalid(format!("redundancy {name} {v} is too large")))
    };
    let scheme = RedundancyScheme {
        required: field(r.required, "required")?,
        repair: field(r.repair, "repair")?,
        success: field(r.success, "success")?,
        total: field(r.total, "total")?,
        share_size: r.share_size,
    };
    scheme.validate().map_err(|e| invalid(e.to_string()))?;
    Ok(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redundancy_round_trip_and_validation() {
        let r = RedundancyScheme::default();
        assert_eq!(redundancy_from_proto(&redundancy_to_proto(&r)).unwrap(), r);
        let bad = pb::RedundancyScheme {
            required: 70000,
            ..redundancy_to_proto(&r)
        };
        assert!(redundancy_from_proto(&bad).is_err());
        let bad = pb::RedundancyScheme {
            total: 1,
            ..redundancy_to_proto(&r)
        };
        assert!(redundancy_from_proto(&bad).is_err());
    }
}
