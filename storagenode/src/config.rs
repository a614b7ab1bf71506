//! `StorageNodeConfig`: defaults < TOML file < `STORAGENODE_*` environment
//! < flags, loaded by the shared service config loader.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use satstore_common::NodeUrl;
use satstore_common::config::{ByteSize, duration};
use satstore_service::config::{InvalidValue, ServiceConfig};
use satstore_service::telemetry::LogFormat;
use serde::{Deserialize, Serialize};

use crate::error::StorageNodeError;

/// Configuration of one storage node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageNodeConfig {
    /// Directory holding `identity.key` and `pieces.db`.
    /// Default `./storagenode-data`; env `STORAGENODE_DATA_DIR`.
    pub data_dir: PathBuf,
    /// gRPC listen address. Default `127.0.0.1:28967`.
    pub listen: SocketAddr,
    /// `/metrics`, `/healthz`, `/readyz` listen address. Default `127.0.0.1:28968`.
    pub metrics_listen: SocketAddr,
    /// `host:port` advertised to satellites at check-in; default: the bound
    /// gRPC address. Env `STORAGENODE_EXTERNAL_ADDRESS`.
    pub external_address: Option<String>,
    /// Trusted satellites, checked in with: `nodeid@host:port`.
    /// Env `STORAGENODE_SATELLITES` (comma separated).
    pub satellites: Vec<String>,
    /// Space the node may use for pieces, e.g. `"100 GiB"` (the default).
    pub allocated_space: ByteSize,
    /// Interval between check-ins, e.g. `"1h"` (the default).
    #[serde(with = "duration")]
    pub check_in_interval: Duration,
    /// Accepted distance between a limit's creation time and now. Default `"1h"`.
    #[serde(with = "duration")]
    pub order_creation_grace: Duration,
    /// Interval of the sweep that deletes expired pieces (whose order limit
    /// carried a `piece_expiration` now past) and forgets used serials whose
    /// orders expired. Default `"10m"`; must be positive. An expired piece is
    /// refused to downloads at once; the sweep reclaims its space.
    #[serde(with = "duration")]
    pub expiration_sweep_interval: Duration,
    /// Log output: `plain` (default) or `json`.
    pub log_format: LogFormat,
    /// Serve and dial plaintext gRPC instead of identity-bound TLS. Only for
    /// debugging on a trusted network. Default false; env
    /// `STORAGENODE_INSECURE`, flag `--insecure`.
    pub insecure: bool,
    /// Trailing zero bits a new identity's id must have (the proof of work
    /// a satellite may require). Default 0; used only when the identity is
    /// created.
    pub identity_difficulty: u32,
    /// Bytes the node's filesystem keeps free whatever `allocated_space`
    /// says. Default `"256 MiB"`.
    pub min_free_disk: ByteSize,
    /// A transfer whose client sends (or, for downloads, reads) nothing for
    /// this long is ended. Default `"60s"`.
    #[serde(with = "duration")]
    pub transfer_idle_timeout: Duration,
    /// Uploads and downloads at once on this node; more are refused with
    /// RESOURCE_EXHAUSTED. Default 256.
    pub max_concurrent_transfers: usize,
    /// Uploads and downloads at once for one project (as tagged by its
    /// satellite). Default 64.
    pub max_transfers_per_project: usize,
}

impl Default for StorageNodeConfig {
    fn default() -> Self {
        StorageNodeConfig {
            data_dir: PathBuf::from("./storagenode-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 28967)),
            metrics_listen: SocketAddr::from(([127, 0, 0, 1], 28968)),
            external_address: None,
            satellites: Vec::new(),
            allocated_space: ByteSize(100 << 30),
            check_in_interval: Duration::from_secs(3600),
            order_creation_grace: Duration::from_secs(3600),
            expiration_sweep_interval: Duration::from_secs(600),
            log_format: LogFormat::Plain,
            insecure: false,
            identity_difficulty: 0,
            min_free_disk: ByteSize(256 << 20),
            transfer_idle_timeout: Duration::from_secs(60),
            max_concurrent_transfers: 256,
            max_transfers_per_project: 64,
        }
    }
}

impl StorageNodeConfig {
    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Self, StorageNodeError> {
        toml::from_str(text).map_err(|e| StorageNodeError::Config(e.to_string()))
    }

    /// TLS or plaintext, from `insecure`.
    pub fn security(&self) -> satstore_transport::Security {
        satstore_transport::Security::from_insecure(self.insecure)
    }

    /// The transfer bounds.
    pub fn transfer_limits(&self) -> crate::transfer::TransferLimits {
        crate::transfer::TransferLimits {
            idle_timeout: self.transfer_idle_timeout,
            max_concurrent: self.max_concurrent_transfers,
            max_per_tenant: self.max_transfers_per_project,
        }
    }

    /// The trusted satellites, parsed.
    pub fn satellite_urls(&self) -> Result<Vec<NodeUrl>, StorageNodeError> {
        self.satellites
            .iter()
            .map(|s| {
                s.parse::<NodeUrl>()
                    .map_err(|e| StorageNodeError::Config(format!("satellites: {e}")))
            })
            .collect()
    }

    /// Checks values that serde cannot.
    pub fn validate(&self) -> Result<(), StorageNodeError> {
        self.check()
            .map_err(|e| StorageNodeError::Config(e.to_string()))
    }
}

impl ServiceConfig for StorageNodeConfig {
    const ENV_PREFIX: &'static str = "STORAGENODE";

    fn check(&self) -> Result<(), InvalidValue> {
        for (key, value) in [
            ("check_in_interval", self.check_in_interval),
            ("expiration_sweep_interval", self.expiration_sweep_interval),
            ("transfer_idle_timeout", self.transfer_idle_timeout),
        ] {
            if value.is_zero() {
                return Err(InvalidValue::new(key, "must be positive"));
            }
        }
        for (key, value) in [
            ("max_concurrent_transfers", self.max_concurrent_transfers),
            ("max_transfers_per_project", self.max_transfers_per_project),
        ] {
            if value == 0 {
                return Err(InvalidValue::new(key, "must be positive"));
            }
        }
        if self.identity_difficulty > 32 {
            return Err(InvalidValue::new(
                "identity_difficulty",
                "above 32 would take too long to generate",
            ));
        }
        if let Some(addr) = &self.external_address
            && addr
                .rsplit_once(':')
                .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
        {
            return Err(InvalidValue::new(
                "external_address",
                format!("{addr:?} must be host:port"),
            ));
        }
        for s in &self.satellites {
            s.parse::<NodeUrl>()
                .map_err(|e| InvalidValue::new("satellites", format!("{s:?}: {e}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_defaults_and_unknown_fields_fail() {
        let c = StorageNodeConfig::from_toml(
            r#"
            data_dir = "/tmp/x"
            allocated_space = "2 GiB"
            check_in_interval = "30s"
            expiration_sweep_interval = "2m"
            log_format = "json"
            "#,
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.allocated_space, ByteSize(2 << 30));
        assert_eq!(c.check_in_interval, Duration::from_secs(30));
        assert_eq!(c.order_creation_grace, Duration::from_secs(3600));
        assert_eq!(c.expiration_sweep_interval, Duration::from_secs(120));
        assert_eq!(
            StorageNodeConfig::default().expiration_sweep_interval,
            Duration::from_secs(600)
        );
        assert_eq!(c.log_format, LogFormat::Json);
        assert!(StorageNodeConfig::from_toml("bogus = 1").is_err());
    }

    #[test]
    fn validation_names_the_bad_field() {
        let mut c = StorageNodeConfig {
            satellites: vec!["nope".into()],
            ..Default::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("satellites"), "{e}");
        c.satellites.clear();
        c.external_address = Some("no-port".into());
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("external_address")
        );
        c.external_address = None;
        c.check_in_interval = Duration::ZERO;
        assert!(c.validate().is_err());
        c.check_in_interval = Duration::from_secs(1);
        c.expiration_sweep_interval = Duration::ZERO;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("expiration_sweep_interval")
        );
    }
}

#[cfg(test)]
mod sample_tests {
    use super::*;

    /// The sample config shipped in `deploy/` parses, validates, and differs
    /// from the defaults only in its satellite list.
    #[test]
    fn deploy_sample_is_valid() {
        let text = include_str!("../../deploy/storagenode.toml");
        let parsed = StorageNodeConfig::from_toml(text).expect("sample parses");
        assert_eq!(parsed.satellite_urls().expect("satellite urls").len(), 1);
        parsed.validate().expect("sample validates");
        let defaults = StorageNodeConfig {
            satellites: parsed.satellites.clone(),
            ..StorageNodeConfig::default()
        };
        assert_eq!(parsed, defaults);
    }
}
