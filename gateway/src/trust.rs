//! The satellites a gateway trusts: it registers grants of these only, and
//! never dials an address a grant names unless it is one of them.

use satstore_common::NodeUrl;

use crate::error::GatewayError;

/// The allowlist of satellites (`nodeid@host:port`, id and address both
/// matched).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedSatellites(Vec<NodeUrl>);

impl TrustedSatellites {
    /// An allowlist of these satellites.
    pub fn new(satellites: Vec<NodeUrl>) -> Self {
        TrustedSatellites(satellites)
    }

    /// Parses `nodeid@host:port` entries.
    pub fn parse(entries: &[String]) -> Result<Self, GatewayError> {
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let url: NodeUrl = e.trim().parse().map_err(|err| {
                GatewayError::InvalidArgument(format!(
                    "trusted_satellites entry {e:?}: {err} (expected nodeid@host:port)"
                ))
            })?;
            out.push(url);
        }
        Ok(TrustedSatellites(out))
    }

    /// Whether no satellite is trusted (the gateway then serves no user).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Ok when `satellite` is on the list; `UntrustedSatellite` otherwise.
    pub fn check(&self, satellite: &NodeUrl) -> Result<(), GatewayError> {
        if self.0.iter().any(|t| t == satellite) {
            return Ok(());
        }
        Err(GatewayError::UntrustedSatellite(satellite.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use satstore_common::NodeId;

    use super::*;

    #[test]
    fn id_and_address_must_both_match() {
        let id = NodeId::from_public_key(&[1; 32]);
        let other = NodeId::from_public_key(&[2; 32]);
        let trusted = TrustedSatellites::parse(&[format!("{id}@127.0.0.1:7777")]).unwrap();
        trusted
            .check(&format!("{id}@127.0.0.1:7777").parse().unwrap())
            .unwrap();
        for bad in [
            format!("{id}@127.0.0.1:7778"),
            format!("{id}@10.0.0.1:7777"),
            format!("{other}@127.0.0.1:7777"),
        ] {
            assert!(matches!(
                trusted.check(&bad.parse().unwrap()),
                Err(GatewayError::UntrustedSatellite(_))
            ));
        }
        assert!(
            TrustedSatellites::default()
                .check(&format!("{id}@a:1").parse().unwrap())
                .is_err()
        );
        assert!(TrustedSatellites::parse(&["127.0.0.1:7777".into()]).is_err());
    }
}
