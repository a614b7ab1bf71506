//! The `satellite` binary: `run` the daemon, or create projects and API keys.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use satellite::{SatelliteConfig, SatelliteListeners, Store, admin};
use satstore_common::telemetry::{LogFormat, init_tracing};

/// Satstore satellite: metadata, node selection and signed order limits.
#[derive(Parser)]
#[command(name = "satellite", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the config and database are.
#[derive(Args, Clone)]
struct Common {
    /// TOML config file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory (identity, default SQLite database).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL (sqlite://PATH?mode=rwc or postgres://...).
    #[arg(long)]
    database_url: Option<String>,
}

impl Common {
    fn load(&self) -> anyhow::Result<SatelliteConfig> {
        let mut config = SatelliteConfig::load(self.config.as_deref()).context("load config")?;
        if let Some(d) = &self.data_dir {
            config.data_dir = d.clone();
        }
        if let Some(u) = &self.database_url {
            config.database_url = Some(u.clone());
        }
        Ok(config)
    }

    async fn store(&self) -> anyhow::Result<Store> {
        let config = self.load()?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("create data dir {}", config.data_dir.display()))?;
        Store::connect(&config.database_url())
            .await
            .context("open satellite database")
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the satellite until interrupted.
    Run {
        #[command(flatten)]
        common: Common,
        /// gRPC listen address.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Metrics listen address.
        #[arg(long)]
        metrics_listen: Option<SocketAddr>,
        /// Log format: plain or json.
        #[arg(long)]
        log_format: Option<LogFormat>,
    },
    /// Manage projects.
    Project {
        #[command(subcommand)]
        command: ProjectCommand,
    },
    /// Manage API keys.
    #[command(name = "api-key")]
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
}

#[derive(Subcommand)]
enum ProjectCommand {
    /// Create a project and its first API key.
    Create {
        /// Project name.
        name: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create another API key for a project.
    Create {
        /// Project name.
        #[arg(long)]
        project: String,
        /// Name of the key.
        #[arg(long, default_value = "default")]
        name: String,
        #[command(flatten)]
        common: Common,
    },
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            common,
            listen,
            metrics_listen,
            log_format,
        } => {
            let mut config = common.load()?;
            if let Some(l) = listen {
                config.listen = l;
            }
            if let Some(m) = metrics_listen {
                config.metrics_listen = m;
            }
            if let Some(f) = log_format {
                config.log_format = f;
            }
            init_tracing(config.log_format);
            let grpc = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("bind gRPC listener {}", config.listen))?;
            let metrics = tokio::net::TcpListener::bind(config.metrics_listen)
                .await
                .with_context(|| format!("bind metrics listener {}", config.metrics_listen))?;
            let handle = satellite::start(config, SatelliteListeners { grpc, metrics })
                .await
                .context("start satellite")?;
            println!("satellite {} running", handle.url());
            tokio::signal::ctrl_c().await.context("wait for ctrl-c")?;
            handle.shutdown().await;
        }
        Command::Project {
            command: ProjectCommand::Create { name, common },
        } => {
            let store = common.store().await?;
            let (project, key) = admin::create_project(&store, &name)
                .await
                .with_context(|| format!("create project {name:?}"))?;
            println!("project-id: {}", project.id_string());
            println!("api-key: {}", key.serialize());
            store.close().await;
        }
        Command::ApiKey {
            command:
                ApiKeyCommand::Create {
                    project,
                    name,
                    common,
                },
        } => {
            let store = common.store().await?;
            let key = admin::create_api_key(&store, &project, &name)
                .await
                .with_context(|| format!("create API key for project {project:?}"))?;
            println!("{}", key.serialize());
            store.close().await;
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
