//! The `storagenode` binary: `storagenode run [flags]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use satstore_common::config::ByteSize;
use satstore_service::cli::{ConfigFileArg, ServeArgs, bind};
use satstore_service::config::{self, Flags};
use satstore_service::telemetry::init_tracing;
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
    #[command(flatten)]
    file: ConfigFileArg,
    #[command(flatten)]
    serve: ServeArgs,
    /// Data directory (identity and pieces).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// host:port advertised to satellites.
    #[arg(long)]
    external_address: Option<String>,
    /// Trusted satellite `id@host:port` (repeatable).
    #[arg(long = "satellite")]
    satellites: Vec<String>,
    /// Allocated space, e.g. "100 GiB".
    #[arg(long)]
    allocated_space: Option<ByteSize>,
    /// Plaintext gRPC instead of identity-bound TLS (trusted networks only).
    #[arg(long)]
    insecure: bool,
}

impl RunArgs {
    fn into_config(self) -> anyhow::Result<StorageNodeConfig> {
        let flags = self
            .serve
            .add_to(Flags::new())
            .set("data_dir", self.data_dir)
            .set("external_address", self.external_address)
            .list("satellites", self.satellites)
            .set("allocated_space", self.allocated_space)
            .switch("insecure", self.insecure);
        Ok(config::load(self.file.config.as_deref(), flags)?)
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = args.into_config()?;
    init_tracing(config.log_format);
    let stop = satstore_service::StopSignals::install().context("install signal handlers")?;
    tracing::info!(?config, "effective config");
    let grpc = bind(config.listen, "gRPC").await?;
    let metrics = bind(config.metrics_listen, "metrics").await?;
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
