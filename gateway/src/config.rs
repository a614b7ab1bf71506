//! Gateway configuration: TOML file, then environment, then flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use satstore_common::config::{ByteSize, duration};
use satstore_common::telemetry::LogFormat;
use serde::{Deserialize, Serialize};

use crate::error::GatewayError;

/// Everything a gateway needs to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Directory of the default SQLite database. Default: `./gateway-data`.
    /// Env: `GATEWAY_DATA_DIR`.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH?mode=rwc` or `postgres://...`; several
    /// gateways may share one. Default: `sqlite://{data_dir}/gateway.db?mode=rwc`.
    /// Env: `GATEWAY_DATABASE_URL`.
    pub database_url: Option<String>,
    /// S3 HTTP listen address. Default: `127.0.0.1:7070`.
    pub listen: SocketAddr,
    /// `/metrics` HTTP listen address. Default: `127.0.0.1:7071`.
    pub metrics_listen: SocketAddr,
    /// Region the gateway answers for (SigV4 scope, bucket location).
    /// Default: `us-east-1`.
    pub region: String,
    /// Base domains for virtual-host-style requests
    /// (`bucket.DOMAIN`); path-style always works. Default: `["localhost"]`.
    pub domains: Vec<String>,
    /// Smallest part but the last of a multipart upload. Default: `"5 MiB"`.
    pub min_part_size: ByteSize,
    /// Requests served at once; more are answered 503 SlowDown.
    /// Default: `512`.
    pub max_concurrent_requests: usize,
    /// A request whose head does not arrive within this time is dropped.
    /// Default: `"30s"`.
    #[serde(with = "duration")]
    pub header_timeout: Duration,
    /// Largest clock skew accepted in signed requests. Default: `"15m"`.
    #[serde(with = "duration")]
    pub max_clock_skew: Duration,
    /// Serve `POST /_satstore/register` (anyone holding a valid access
    /// grant may turn it into S3 credentials, as with `gateway register`).
    /// Default: `true`.
    pub allow_registration: bool,
    /// Log format, `plain` or `json`. Default: `plain`.
    pub log_format: LogFormat,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            data_dir: PathBuf::from("./gateway-data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 7070)),
            metrics_listen: SocketAddr::from(([127, 0, 0, 1], 7071)),
            region: "us-east-1".to_string(),
            domains: vec!["localhost".to_string()],
            min_part_size: ByteSize(5 << 20),
            max_concurrent_requests: 512,
            header_timeout: Duration::from_secs(30),
            max_clock_skew: Duration::from_secs(15 * 60),
            allow_registration: true,
            log_format: LogFormat::Plain,
        }
    }
}

impl GatewayConfig {
    /// Reads `path` (TOML) over the defaults, then applies
    /// `GATEWAY_DATABASE_URL` and `GATEWAY_DATA_DIR`.
    pub fn load(path: Option<&Path>) -> Result<Self, GatewayError> {
        let mut config = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    GatewayError::Io(format!("read config file {}", p.display()), e)
                })?;
                Self::from_toml(&text)
                    .map_err(|e| GatewayError::InvalidArgument(format!("{}: {e}", p.display())))?
            }
            None => GatewayConfig::default(),
        };
        if let Ok(url) = std::env::var("GATEWAY_DATABASE_URL") {
            config.database_url = Some(url);
        }
        if let Ok(dir) = std::env::var("GATEWAY_DATA_DIR") {
            config.data_dir = PathBuf::from(dir);
        }
        Ok(config)
    }

    /// Parses TOML text over the defaults.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}/gateway.db?mode=rwc", self.data_dir.display()),
        }
    }

    /// Checks values that would make the gateway misbehave.
    pub fn validate(&self) -> Result<(), GatewayError> {
        if self.max_concurrent_requests == 0 {
            return Err(GatewayError::InvalidArgument(
                "max_concurrent_requests must be positive".into(),
            ));
        }
        if self.region.is_empty() {
            return Err(GatewayError::InvalidArgument(
                "region must not be empty".into(),
            ));
        }
        if self.max_clock_skew.as_secs() == 0 || self.max_clock_skew.as_secs() > u32::MAX as u64 {
            return Err(GatewayError::InvalidArgument(
                "max_clock_skew must be positive".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_toml_and_validation() {
        let d = GatewayConfig::default();
        d.validate().unwrap();
        assert!(d.database_url().starts_with("sqlite://./gateway-data/"));
        let c = GatewayConfig::from_toml(
            "listen = \"127.0.0.1:9000\"\nmin_part_size = \"1 MiB\"\nmax_clock_skew = \"5m\"\n",
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.min_part_size.0, 1 << 20);
        assert_eq!(c.max_clock_skew, Duration::from_secs(300));
        assert!(GatewayConfig::from_toml("bogus = 1").is_err());
        let bad = GatewayConfig {
            max_concurrent_requests: 0,
            ..GatewayConfig::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn the_sample_config_in_deploy_is_the_defaults() {
        let text = include_str!("../../deploy/gateway.toml");
        assert_eq!(
            GatewayConfig::from_toml(text).unwrap(),
            GatewayConfig::default()
        );
    }
}
