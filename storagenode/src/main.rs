//! The `storagenode` binary: `storagenode run [flags]`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use satstore_common::config::ByteSize;
use satstore_common::telemetry::{LogFormat, init_tracing};
use storagenode::{StorageNodeConfig, StorageNodeListeners};

/// Satstore storage node.
#[derive(Parser)]
#[command(name = "storagenode", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the node until Ctrl-C / SIGTERM.
    Run(RunArgs),
}

/// Flags override env, which overrides the TOML file.
#[derive(Args)]
struct RunArgs {
    /// TOML config file.
    #[arg(long, env = "STORAGENODE_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (identity and pieces).
    #[arg(long, env = "STORAGENODE_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// gRPC listen address.
    #[arg(long, env = "STORAGENODE_LISTEN")]
    listen: Option<SocketAddr>,
    /// Metrics listen address.
    #[arg(long, env = "STORAGENODE_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// host:port advertised to satellites.
    #[arg(long, env = "STORAGENODE_EXTERNAL_ADDRESS")]
    external_address: Option<String>,
    /// Trusted satellite `id@host:port` (repeatable; env comma separated).
    #[arg(
        long = "satellite",
        env = "STORAGENODE_SATELLITES",
        value_delimiter = ','
    )]
    satellites: Vec<String>,
    /// Allocated space, e.g. "100 GiB".
    #[arg(long, env = "STORAGENODE_ALLOCATED_SPACE")]
    allocated_space: Option<ByteSize>,
    /// Log format: plain or json.
    #[arg(long, env = "STORAGENODE_LOG_FORMAT")]
    log_format: Option<LogFormat>,
    /// Plaintext gRPC instead of identity-bound TLS (trusted networks only).
    #[arg(long, env = "STORAGENODE_INSECURE")]
    insecure: bool,
}

impl RunArgs {
    fn into_config(self) -> anyhow::Result<StorageNodeConfig> {
        let mut c = match &self.config {
            Some(path) => StorageNodeConfig::from_file(path).context("load config")?,
            None => StorageNodeConfig::default(),
        };
        if let Some(v) = self.data_dir {
            c.data_dir = v;
        }
        if let Some(v) = self.listen {
            c.listen = v;
        }
        if let Some(v) = self.metrics_listen {
            c.metrics_listen = v;
        }
        if let Some(v) = self.external_address {
            c.external_address = Some(v);
        }
        if !self.satellites.is_empty() {
            c.satellites = self.satellites;
        }
        if let Some(v) = self.allocated_space {
            c.allocated_space = v;
        }
        if let Some(v) = self.log_format {
            c.log_format = v;
        }
        if self.insecure {
            c.insecure = true;
        }
        c.validate().context("check config")?;
        Ok(c)
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = args.into_config()?;
    init_tracing(config.log_format);
    tracing::info!(?config, "effective config");
    let grpc = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("bind gRPC listener {}", config.listen))?;
    let metrics = tokio::net::TcpListener::bind(config.metrics_listen)
        .await
        .with_context(|| format!("bind metrics listener {}", config.metrics_listen))?;
    let node = storagenode::start(config, StorageNodeListeners { grpc, metrics })
        .await
        .context("start storage node")?;
    println!(
        "storagenode {} listening on {}",
        node.url(),
        node.grpc_addr()
    );
    wait_for_signal().await;
    node.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: start tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Run(args) => runtime.block_on(run(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
