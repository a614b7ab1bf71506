//! Gateway configuration: defaults < TOML file < `GATEWAY_*` environment <
//! flags, loaded by the shared service config loader.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use satstore_common::config::{ByteSize, duration};
use satstore_service::config::{InvalidValue, ServiceConfig};
use satstore_service::telemetry::LogFormat;
use serde::{Deserialize, Serialize};

use crate::error::GatewayError;
use crate::trust::TrustedSatellites;

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
    /// Serve `POST /_satstore/register`: anyone holding an access grant of
    /// a trusted satellite that the satellite accepts may turn it into S3
    /// credentials (rate-limited; emails given there are not trusted for
    /// grants until an operator confirms them). Default: `false`.
    pub allow_registration: bool,
    /// Registrations accepted per minute from one client address (and ten
    /// times that from all clients together). Default: `10`.
    pub registrations_per_minute: u32,
    /// Satellites (`nodeid@host:port`) whose access grants the gateway
    /// registers and acts with. A grant naming any other satellite is
    /// refused at registration and never dialed. Default: `[]` (none: set
    /// it). Env: `GATEWAY_TRUSTED_SATELLITES` (comma-separated).
    pub trusted_satellites: Vec<String>,
    /// File holding the share key (64 hex digits), which seals the
    /// restricted grants kept for ACLs. Created (mode 0600) on first start
    /// when missing; every gateway on one database needs the same key.
    /// Default: `{data_dir}/share.key`. Env: `GATEWAY_SHARE_KEY_FILE`.
    pub share_key_file: Option<PathBuf>,
    /// A request body that sends nothing for this long is cut off
    /// (RequestTimeout). Default: `"30s"`.
    #[serde(with = "duration")]
    pub body_idle_timeout: Duration,
    /// Log format, `plain` or `json`. Default: `plain`.
    pub log_format: LogFormat,
    /// PEM certificate chain for HTTPS on `listen`; with `tls_key_file`.
    /// Default: none (plain HTTP, e.g. behind a TLS-terminating proxy).
    /// Env: `GATEWAY_TLS_CERT_FILE`.
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of `tls_cert_file`. Env: `GATEWAY_TLS_KEY_FILE`.
    pub tls_key_file: Option<PathBuf>,
    /// Dial the satellite and the nodes in plaintext (a network run with
    /// `--insecure`). Default: false. Env: `GATEWAY_INSECURE`, flag
    /// `--insecure`.
    pub insecure: bool,
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
            allow_registration: false,
            registrations_per_minute: 10,
            trusted_satellites: Vec::new(),
            share_key_file: None,
            body_idle_timeout: Duration::from_secs(30),
            log_format: LogFormat::Plain,
            tls_cert_file: None,
            tls_key_file: None,
            insecure: false,
        }
    }
}

impl GatewayConfig {
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

    /// The share key file in effect.
    pub fn share_key_path(&self) -> PathBuf {
        match &self.share_key_file {
            Some(p) => p.clone(),
            None => self.data_dir.join("share.key"),
        }
    }

    /// The trusted satellites, parsed.
    pub fn trusted(&self) -> Result<TrustedSatellites, GatewayError> {
        TrustedSatellites::parse(&self.trusted_satellites)
    }

    /// Checks values that would make the gateway misbehave.
    pub fn validate(&self) -> Result<(), GatewayError> {
        self.check()
            .map_err(|e| GatewayError::InvalidArgument(e.to_string()))
    }

    /// How the gateway's uplinks dial.
    pub fn uplink_config(&self) -> uplink::UplinkConfig {
        uplink::UplinkConfig {
            insecure: self.insecure,
            ..Default::default()
        }
    }
}

impl ServiceConfig for GatewayConfig {
    const ENV_PREFIX: &'static str = "GATEWAY";
    const ENV_RESERVED: &'static [&'static str] = &["CONFIG", "REGISTER_ACCESS"];

    fn check(&self) -> Result<(), InvalidValue> {
        self.trusted()
            .map_err(|e| InvalidValue::new("trusted_satellites", e.to_string()))?;
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            return Err(InvalidValue::new(
                "tls_cert_file",
                "tls_cert_file and tls_key_file go together: set both for HTTPS, or neither",
            ));
        }
        if self.body_idle_timeout.is_zero() {
            return Err(InvalidValue::new("body_idle_timeout", "must be positive"));
        }
        if self.allow_registration && self.registrations_per_minute == 0 {
            return Err(InvalidValue::new(
                "registrations_per_minute",
                "must be positive when allow_registration is on",
            ));
        }
        if self.domains.iter().any(|d| d.trim_matches('.').is_empty()) {
            return Err(InvalidValue::new("domains", "must not contain empty names"));
        }
        if self.max_concurrent_requests == 0 {
            return Err(InvalidValue::new(
                "max_concurrent_requests",
                "must be positive",
            ));
        }
        if self.region.is_empty() {
            return Err(InvalidValue::new("region", "must not be empty"));
        }
        if self.max_clock_skew.as_secs() == 0 || self.max_clock_skew.as_secs() > u32::MAX as u64 {
            return Err(InvalidValue::new(
                "max_clock_skew",
                "must be positive and below 136 years",
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
        assert!(!d.allow_registration, "registration is opt-in");
        assert_eq!(d.body_idle_timeout, Duration::from_secs(30));
        assert!(d.share_key_path().ends_with("gateway-data/share.key"));
        let bad = GatewayConfig {
            trusted_satellites: vec!["not-a-node-url".into()],
            ..GatewayConfig::default()
        };
        assert!(bad.validate().is_err());
        let bad = GatewayConfig {
            domains: vec![String::new()],
            ..GatewayConfig::default()
        };
        assert!(bad.validate().is_err());
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
