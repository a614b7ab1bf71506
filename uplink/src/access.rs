//! Access grants: which satellite to talk to and with which API key, in a
//! text form a person can copy around.

use prost::Message;
use satstore_common::NodeUrl;
use satstore_common::macaroon::ApiKey;
use satstore_proto::access::Scope;

use crate::config::UplinkConfig;
use crate::error::{Result, UplinkError};
use crate::project::Project;

/// Everything a client needs to open a project: the satellite address and
/// the API key. (Encryption keys join in a later version.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// `nodeid@host:port` of the satellite; its id authenticates the order
    /// limits it signs.
    pub satellite: NodeUrl,
    /// The (possibly restricted) API key.
    pub api_key: ApiKey,
}

impl Access {
    /// An access for a satellite and API key.
    pub fn new(satellite: NodeUrl, api_key: ApiKey) -> Self {
        Access { satellite, api_key }
    }

    /// Parses the text form made by [`Access::serialize`].
    pub fn parse(text: &str) -> Result<Self> {
        let bad =
            |why: String| UplinkError::InvalidArgument(format!("invalid access grant: {why}"));
        let text = text.trim();
        if text.is_empty() {
            return Err(bad("it is empty".into()));
        }
        let raw = bs58::decode(text)
            .with_check(Some(0))
            .into_vec()
            .map_err(|e| bad(format!("not base58check text ({e})")))?;
        let scope =
            Scope::decode(&raw[1..]).map_err(|e| bad(format!("malformed contents ({e})")))?;
        let satellite: NodeUrl = scope
            .satellite_addr
            .parse()
            .map_err(|e| bad(format!("satellite address: {e}")))?;
        let api_key =
            ApiKey::from_bytes(&scope.api_key).map_err(|e| bad(format!("API key: {e}")))?;
        Ok(Access { satellite, api_key })
    }

    /// The text form: base58check (version 0) of the encoded `access.v1.Scope`.
    pub fn serialize(&self) -> String {
        let scope = Scope {
            satellite_addr: self.satellite.to_string(),
            api_key: self.api_key.to_bytes(),
            encryption_access: None,
        };
        bs58::encode(scope.encode_to_vec())
            .with_check_version(0)
            .into_string()
    }

    /// Opens the project with the default configuration. No RPC is made
    /// until the first call.
    pub async fn open_project(&self) -> Result<Project> {
        self.config_open_project(&UplinkConfig::default()).await
    }

    /// Opens the project with `config`.
    pub async fn config_open_project(&self, config: &UplinkConfig) -> Result<Project> {
        Project::open(self.clone(), config.clone())
    }
}

impl std::str::FromStr for Access {
    type Err = UplinkError;
    fn from_str(s: &str) -> Result<Self> {
        Access::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use satstore_common::NodeId;

    fn sample() -> Access {
        let id = NodeId::from_public_key(&[4; 32]);
        Access::new(
            format!("{id}@127.0.0.1:7777").parse().unwrap(),
            ApiKey::new(b"secret"),
        )
    }

    #[test]
    fn round_trips() {
        let a = sample();
        let text = a.serialize();
        assert_eq!(Access::parse(&text).unwrap(), a);
        assert_eq!(Access::parse(&format!("  {text}\n")).unwrap(), a);
    }

    #[test]
    fn bad_text_is_invalid_argument() {
        for bad in ["", "   ", "not base58 0OIl", "3mJr7AoUXx2Wqd"] {
            let e = Access::parse(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}: {e}");
            assert!(e.to_string().contains("invalid access grant"), "{e}");
        }
        // Corrupting one character breaks the checksum.
        let mut text = sample().serialize().into_bytes();
        text[10] = if text[10] == b'2' { b'3' } else { b'2' };
        let e = Access::parse(std::str::from_utf8(&text).unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        // Valid base58check around a bad satellite address.
        let scope = Scope {
            satellite_addr: "nowhere".into(),
            api_key: ApiKey::new(b"s").to_bytes(),
            encryption_access: None,
        };
        let text = bs58::encode(scope.encode_to_vec())
            .with_check_version(0)
            .into_string();
        let e = Access::parse(&text).unwrap_err();
        assert!(e.to_string().contains("satellite address"), "{e}");
        // And around a bad API key.
        let scope = Scope {
            satellite_addr: sample().satellite.to_string(),
            api_key: vec![1, 2, 3],
            encryption_access: None,
        };
        let text = bs58::encode(scope.encode_to_vec())
            .with_check_version(0)
            .into_string();
        let e = Access::parse(&text).unwrap_err();
        assert!(e.to_string().contains("API key"), "{e}");
    }
}
