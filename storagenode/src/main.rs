//! The `storagenode` binary: `storagenode run [flags]`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use satstore_common::config::ByteSize;
use satstore_service::config::{self, Flags};
use satstore_service::telemetry::{LogFormat, init_tracing};
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
    /// Run the node until SIGINT or SIGTERM, then drain and stop.
    Run(RunArgs),
}

/// Flags override the environment (`STORAGENODE_<KEY>` for every config
/// key), which overrides the TOML file.
#[derive(Args)]
struct RunArgs {
    /// TOML config file.
    #[arg(long, env = "STORAGENODE_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (identity and pieces).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// gRPC listen address.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Metrics listen address.
    #[arg(long)]
    metrics_listen: Option<SocketAddr>,
    /// host:port advertised to satellites.
    #[arg(long)]
    external_address: Option<String>,
    /// Trusted satellite `id@host:port` (repeatable).
    #[arg(long = "satellite")]
    satellites: Vec<String>,
    /// Allocated space, e.g. "100 GiB".
    #[arg(long)]
    allocated_space: Option<ByteSize>,
    /// Log format: plain or json.
    #[arg(long)]
    log_format: Option<LogFormat>,
    /// Plaintext gRPC instead of identity-bound TLS (trusted networks only).
    #[arg(long)]
    insecure: bool,
}

impl RunArgs {
    fn into_config(self) -> anyhow::Result<StorageNodeConfig> {
        let flags = Flags::new()
            .set("data_dir", self.data_dir)
            .set("listen", self.listen)
            .set("metrics_listen", self.metrics_listen)
            .set("external_address", self.external_address)
            .list("satellites", self.satellites)
            .set("allocated_space", self.allocated_space)
            .set("log_format", self.log_format)
            .switch("insecure", self.insecure);
        Ok(config::load(self.config.as_deref(), flags)?)
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = args.into_config()?;
    init_tracing(config.log_format);
    let stop = satstore_service::StopSignals::install().context("install signal handlers")?;
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
    stop.wait().await;
    node.shutdown().await;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    satstore_service::exit::run(async move {
        match cli.command {
            Command::Run(args) => run(args).await,
        }
    })
}
