//! `localnet`: run a whole Satstore network on 127.0.0.1 in one process.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use localnet::{Localnet, LocalnetConfig};
use satstore_service::config::{ConfigError, Source};
use satstore_service::telemetry::{LogFormat, init_tracing};

#[derive(Parser)]
#[command(name = "localnet", version, about = "Run a local Satstore network")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start (or resume) a satellite, N storage nodes and an S3 gateway
    /// until SIGINT (Ctrl-C) or SIGTERM, then drain and stop.
    Run {
        /// Data dir; a second run with the same dir resumes the network.
        #[arg(long, default_value = ".localnet", env = "LOCALNET_DIR")]
        dir: PathBuf,
        /// Number of storage nodes.
        #[arg(long, default_value_t = 10)]
        nodes: usize,
        /// Satellite database URL (default: SQLite under DIR/satellite/).
        #[arg(long, env = "LOCALNET_DATABASE_URL")]
        database: Option<String>,
        /// Encryption passphrase of the access written to DIR/env.
        #[arg(long, env = "LOCALNET_PASSPHRASE", default_value = "localnet")]
        passphrase: String,
        /// Log format: plain or json.
        #[arg(long, default_value = "plain")]
        log_format: LogFormat,
        /// Plaintext gRPC between the peers instead of identity-bound TLS.
        #[arg(long, env = "LOCALNET_INSECURE")]
        insecure: bool,
    },
}

fn main() -> ExitCode {
    satstore_service::exit::run(run(Cli::parse()))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            dir,
            nodes,
            database,
            passphrase,
            log_format,
            insecure,
        } => {
            init_tracing(log_format);
            let stop =
                satstore_service::StopSignals::install().context("install signal handlers")?;
            let mut config = LocalnetConfig::new(&dir);
            config.nodes = nodes;
            config.database_url = database;
            config.passphrase = passphrase;
            config.insecure = insecure;
            if nodes < config.redundancy.total as usize {
                return Err(ConfigError::Invalid {
                    key: "nodes".into(),
                    origin: Source::Flag("--nodes".into()),
                    message: format!(
                        "{nodes} is fewer than the redundancy total {}",
                        config.redundancy.total
                    ),
                }
                .into());
            }
            let net = Localnet::start(config)
                .await
                .with_context(|| format!("start localnet in {}", dir.display()))?;
            let env_path = net.write_env().context("write env file")?;
            println!(
                "# localnet is running; source {} to use it",
                env_path.display()
            );
            print!("{}", net.env_text());
            let signal = stop.wait().await;
            eprintln!("{}: stopping localnet...", signal.name());
            net.shutdown().await;
            Ok(())
        }
    }
}
