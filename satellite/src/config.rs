//! `SatelliteConfig`: defaults < TOML file < `SATELLITE_*` environment <
//! flags, loaded by the shared service config loader.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use satstore_common::config::{ByteSize, duration};
use satstore_common::erasure::RedundancyScheme;
use satstore_service::config::{InvalidValue, ServiceConfig};
use satstore_service::telemetry::LogFormat;
use serde::{Deserialize, Serialize};

use crate::error::SatelliteError;

/// Everything the satellite needs to start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SatelliteConfig {
    /// Directory of the identity key and the default SQLite database.
    /// Default: `./satellite-data`. Env: `SATELLITE_DATA_DIR`.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH?mode=rwc` or `postgres://...`.
    /// Default: `sqlite://{data_dir}/satellite.db?mode=rwc`.
    /// Env: `SATELLITE_DATABASE_URL`.
    pub database_url: Option<String>,
    /// gRPC listen address. Default: `127.0.0.1:7777`.
    pub listen: SocketAddr,
    /// `/metrics` HTTP listen address. Default: `127.0.0.1:7778`.
    pub metrics_listen: SocketAddr,
    /// Redundancy of new segments. Default: 4/6/8/10 with 256-byte shares.
    pub redundancy: RedundancyScheme,
    /// Largest plaintext segment. Default: `"64 MiB"`.
    pub max_segment_size: ByteSize,
    /// Largest segment stored inline in the database. Default: `"4 KiB"`.
    pub max_inline_size: ByteSize,
    /// Lifetime of order limits. Default: `"24h"`.
    #[serde(with = "duration")]
    pub order_expiration: Duration,
    /// Nodes that checked in within this window are online. Default: `"1h"`.
    #[serde(with = "duration")]
    pub online_window: Duration,
    /// Nodes reporting less free space are not selected. Default: `0`.
    pub min_free_disk: ByteSize,
    /// Minimum node id difficulty accepted at check-in. Default: `0`.
    pub min_node_difficulty: u32,
    /// Timeout of the check-in dial-back and of piece deletions. Default: `"5s"`.
    #[serde(with = "duration")]
    pub dial_timeout: Duration,
    /// Interval of the cleanup chores: deleting expired objects with their
    /// segments (nodes delete the pieces themselves, their limits carried
    /// the expiration), and deleting pending objects older than
    /// `pending_object_timeout`. The first run is one interval after start.
    /// Default: `"1h"`; must be positive.
    #[serde(with = "duration")]
    pub expired_cleanup_interval: Duration,
    /// A pending object (upload begun, never committed nor aborted) older
    /// than this is deleted with its segments, and its pieces are deleted
    /// from the nodes best-effort. Default: `"24h"`; must be positive.
    #[serde(with = "duration")]
    pub pending_object_timeout: Duration,
    /// A multipart upload (S3 CreateMultipartUpload) not committed nor
    /// aborted this long after it began is deleted with its parts by the
    /// cleanup chore (pieces best-effort). Default: `"7days"`; must be
    /// positive.
    #[serde(with = "duration")]
    pub multipart_expiration: Duration,
    /// Log format, `plain` or `json`. Default: `plain`.
    pub log_format: LogFormat,
    /// Serve and dial plaintext gRPC instead of identity-bound TLS. Only for
    /// debugging on a trusted network. Default: false. Env
    /// `SATELLITE_INSECURE`, flag `--insecure`.
    pub insecure: bool,
    /// Node ids allowed to check in (`nodeid` strings); empty = any node
    /// with enough proof of work. Default: empty.
    pub node_allowlist: Vec<String>,
    /// Check-ins accepted per minute from one IP address (each costs a
    /// dial-back). Default: 600.
    pub check_in_rate_per_ip: u32,
    /// Check-ins accepted per minute from one node id. Default: 60.
    pub check_in_rate_per_node: u32,
}

impl Default for SatelliteConfig {
    fn default() -> Self {
        SatelliteConfig {
            data_dir: PathBuf::from("./satellite-data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 7777)),
            metrics_listen: SocketAddr::from(([127, 0, 0, 1], 7778)),
            redundancy: RedundancyScheme::default(),
            max_segment_size: ByteSize(64 << 20),
            max_inline_size: ByteSize(4 << 10),
            order_expiration: Duration::from_secs(24 * 3600),
            online_window: Duration::from_secs(3600),
            min_free_disk: ByteSize(0),
            min_node_difficulty: 0,
            dial_timeout: Duration::from_secs(5),
            expired_cleanup_interval: Duration::from_secs(3600),
            pending_object_timeout: Duration::from_secs(24 * 3600),
            multipart_expiration: Duration::from_secs(7 * 24 * 3600),
            log_format: LogFormat::Plain,
            insecure: false,
            node_allowlist: Vec::new(),
            check_in_rate_per_ip: 600,
            check_in_rate_per_node: 60,
        }
    }
}

impl SatelliteConfig {
    /// Parses TOML text over the defaults.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The database URL in effect (explicit, or SQLite in the data dir).
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}/satellite.db?mode=rwc", self.data_dir.display()),
        }
    }

    /// TLS or plaintext, from `insecure`.
    pub fn security(&self) -> satstore_transport::Security {
        satstore_transport::Security::from_insecure(self.insecure)
    }

    /// The node allowlist, parsed; `None` when empty (any node).
    pub fn allowlist(
        &self,
    ) -> Result<Option<std::collections::HashSet<satstore_common::NodeId>>, SatelliteError> {
        if self.node_allowlist.is_empty() {
            return Ok(None);
        }
        self.node_allowlist
            .iter()
            .map(|s| {
                s.parse()
                    .map_err(|e| SatelliteError::Config(format!("node_allowlist: {s:?}: {e}")))
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// Checks values that would make the satellite misbehave.
    pub fn validate(&self) -> Result<(), SatelliteError> {
        self.check()
            .map_err(|e| SatelliteError::Config(e.to_string()))
    }
}

impl ServiceConfig for SatelliteConfig {
    const ENV_PREFIX: &'static str = "SATELLITE";

    fn check(&self) -> Result<(), InvalidValue> {
        for id in &self.node_allowlist {
            id.parse::<satstore_common::NodeId>()
                .map_err(|e| InvalidValue::new("node_allowlist", format!("{id:?}: {e}")))?;
        }
        self.redundancy
            .validate()
            .map_err(|e| InvalidValue::new("redundancy", e.to_string()))?;
        if self.max_segment_size.0 == 0 {
            return Err(InvalidValue::new("max_segment_size", "must be positive"));
        }
        if self.max_inline_size.0 > self.max_segment_size.0 {
            return Err(InvalidValue::new(
                "max_inline_size",
                "must not exceed max_segment_size",
            ));
        }
        for (key, value) in [
            ("expired_cleanup_interval", self.expired_cleanup_interval),
            ("pending_object_timeout", self.pending_object_timeout),
            ("multipart_expiration", self.multipart_expiration),
        ] {
            if value.is_zero() {
                return Err(InvalidValue::new(key, "must be positive"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_toml_and_unknown_fields() {
        let d = SatelliteConfig::default();
        assert_eq!(d.max_segment_size.0, 64 << 20);
        assert!(d.database_url().starts_with("sqlite://./satellite-data/"));
        d.validate().unwrap();
        let c = SatelliteConfig::from_toml(
            "listen = \"127.0.0.1:9000\"\nmax_inline_size = \"1 KiB\"\norder_expiration = \"2h\"\n\
             [redundancy]\nrequired = 2\nrepair = 3\nsuccess = 4\ntotal = 5\nshare_size = 512\n",
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.max_inline_size.0, 1024);
        assert_eq!(c.order_expiration, Duration::from_secs(7200));
        assert_eq!(c.redundancy.total, 5);
        assert!(SatelliteConfig::from_toml("bogus = 1").is_err());
        let bad = SatelliteConfig {
            max_inline_size: ByteSize(1 << 30),
            ..SatelliteConfig::default()
        };
        assert!(bad.validate().is_err());
        assert_eq!(d.expired_cleanup_interval, Duration::from_secs(3600));
        assert_eq!(d.pending_object_timeout, Duration::from_secs(86400));
        assert_eq!(d.multipart_expiration, Duration::from_secs(7 * 86400));
        let c = SatelliteConfig::from_toml("multipart_expiration = \"2days\"\n").unwrap();
        assert_eq!(c.multipart_expiration, Duration::from_secs(2 * 86400));
        let c = SatelliteConfig::from_toml(
            "expired_cleanup_interval = \"5m\"\npending_object_timeout = \"2h\"\n",
        )
        .unwrap();
        assert_eq!(c.expired_cleanup_interval, Duration::from_secs(300));
        assert_eq!(c.pending_object_timeout, Duration::from_secs(7200));
        for (field, bad) in [
            (
                "expired_cleanup_interval",
                SatelliteConfig {
                    expired_cleanup_interval: Duration::ZERO,
                    ..SatelliteConfig::default()
                },
            ),
            (
                "pending_object_timeout",
                SatelliteConfig {
                    pending_object_timeout: Duration::ZERO,
                    ..SatelliteConfig::default()
                },
            ),
            (
                "multipart_expiration",
                SatelliteConfig {
                    multipart_expiration: Duration::ZERO,
                    ..SatelliteConfig::default()
                },
            ),
        ] {
            let e = bad.validate().unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
    }

    #[test]
    fn round_trips_through_toml() {
        let d = SatelliteConfig::default();
        let text = toml::to_string(&d).unwrap();
        assert_eq!(SatelliteConfig::from_toml(&text).unwrap(), d);
    }
}

#[cfg(test)]
mod sample_tests {
    use super::*;

    /// The sample config shipped in `deploy/` parses and equals the defaults,
    /// so the two cannot drift apart.
    #[test]
    fn deploy_sample_matches_defaults() {
        let text = include_str!("../../deploy/satellite.toml");
        let parsed = SatelliteConfig::from_toml(text).expect("sample parses");
        assert_eq!(parsed, SatelliteConfig::default());
    }
}
