//! Command-line pieces every daemon's `run` shares, so the flags are
//! spelled the same everywhere and feed the config loader the same way.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::Flags;
use crate::telemetry::LogFormat;

/// `--config FILE`; without it the loader reads `PREFIX_CONFIG`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ConfigFileArg {
    /// TOML config file (default: the PREFIX_CONFIG variable, else none).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The listener and log flags of every `run` command.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ServeArgs {
    /// Service listen address (config key `listen`).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// `/metrics`, `/healthz`, `/readyz` listen address (`metrics_listen`).
    #[arg(long)]
    pub metrics_listen: Option<SocketAddr>,
    /// Log format: plain or json (`log_format`).
    #[arg(long)]
    pub log_format: Option<LogFormat>,
}

impl ServeArgs {
    /// Adds the flags that were given to `flags`.
    pub fn add_to(&self, flags: Flags) -> Flags {
        flags
            .set("listen", self.listen)
            .set("metrics_listen", self.metrics_listen)
            .set("log_format", self.log_format)
    }
}

/// Binds a TCP listener, the error naming what it was for and where.
pub async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("bind {what} listener {addr}"))
}
