//! Peer addresses written `nodeid@host:port`, so a client can check that it
//! reached the peer it meant to.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::ids::NodeId;

/// Why an address could not be parsed.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid peer address {input:?}: {reason}")]
pub struct NodeUrlError {
    input: String,
    reason: String,
}

/// A peer's id and network address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeUrl {
    /// The peer's identity (hash of its public key).
    pub id: NodeId,
    /// `host:port`.
    pub address: String,
}

impl NodeUrl {
    /// The gRPC endpoint URI of this peer (plaintext HTTP/2).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl fmt::Display for NodeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.id, self.address)
    }
}

impl FromStr for NodeUrl {
    type Err = NodeUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| NodeUrlError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let (id, address) = s.split_once('@').ok_or_else(|| err("missing 'nodeid@'"))?;
        let id: NodeId = id
            .parse()
            .map_err(|e: crate::IdError| err(&e.to_string()))?;
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| err("missing ':port'"))?;
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(err("expected host:port"));
        }
        Ok(NodeUrl {
            id,
            address: address.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let id = NodeId::from_public_key(&[3; 32]);
        let s = format!("{id}@127.0.0.1:7777");
        let u: NodeUrl = s.parse().unwrap();
        assert_eq!(u.id, id);
        assert_eq!(u.address, "127.0.0.1:7777");
        assert_eq!(u.to_string(), s);
        assert!("127.0.0.1:7777".parse::<NodeUrl>().is_err());
        assert!(format!("{id}@host").parse::<NodeUrl>().is_err());
        assert!("abc@host:1".parse::<NodeUrl>().is_err());
    }
}
