//! The `satellite` binary: `run` the daemon, or manage projects and API keys
//! (create, list, revoke, delete).

use std::path::PathBuf;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use satellite::{SatelliteConfig, SatelliteListeners, Store, admin};
use satstore_service::cli::{ConfigFileArg, ServeArgs, bind};
use satstore_service::config::{self, Flags};
use satstore_service::telemetry::init_tracing;

/// Satstore satellite: metadata, node selection and signed order limits.
#[derive(Parser)]
#[command(name = "satellite", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the config and database are. Every config key can also be set
/// as `SATELLITE_<KEY>` in the environment (flags win over it, it wins over
/// the file).
#[derive(Args, Clone)]
struct Common {
    #[command(flatten)]
    file: ConfigFileArg,
    /// Data directory (identity, default SQLite database).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL (sqlite://PATH?mode=rwc or postgres://...).
    #[arg(long)]
    database_url: Option<String>,
}

impl Common {
    /// The flags every subcommand shares.
    fn flags(&self) -> Flags {
        Flags::new()
            .set("data_dir", self.data_dir.clone())
            .set("database_url", self.database_url.clone())
    }

    fn load(&self, flags: Flags) -> anyhow::Result<SatelliteConfig> {
        Ok(config::load(self.file.config.as_deref(), flags)?)
    }

    async fn store(&self) -> anyhow::Result<Store> {
        let config = self.load(self.flags())?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("create data dir {}", config.data_dir.display()))?;
        Store::connect(&config.database_url())
            .await
            .context("open satellite database")
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the satellite until SIGINT or SIGTERM, then drain and stop.
    Run {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        serve: ServeArgs,
        /// Plaintext gRPC instead of identity-bound TLS (trusted networks only).
        #[arg(long)]
        insecure: bool,
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
    /// List a project's API keys (name, creation time, head in hex).
    List {
        /// Project name.
        #[arg(long)]
        project: String,
        #[command(flatten)]
        common: Common,
    },
    /// Revoke an API key (or the key of an access grant), restricted or
    /// not: it and every key derived from it are refused from now on.
    Revoke {
        /// Serialized API key or access grant.
        key_or_grant: String,
        #[command(flatten)]
        common: Common,
    },
    /// Delete an API key: every key derived from it becomes unknown.
    Delete {
        /// Project name.
        #[arg(long)]
        project: String,
        /// Name of the key (all keys with this name are deleted).
        #[arg(long)]
        name: String,
        #[command(flatten)]
        common: Common,
    },
}

/// Unix seconds as RFC 3339 (UTC), or the number if out of range.
fn format_time(unix: i64) -> String {
    u64::try_from(unix)
        .ok()
        .and_then(|s| std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(s)))
        .map(|t| humantime::format_rfc3339_seconds(t).to_string())
        .unwrap_or_else(|| unix.to_string())
}

async fn api_key_command(command: ApiKeyCommand) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create {
            project,
            name,
            common,
        } => {
            let store = common.store().await?;
            let key = admin::create_api_key(&store, &project, &name)
                .await
                .with_context(|| format!("create API key for project {project:?}"))?;
            println!("{}", key.serialize());
            store.close().await;
        }
        ApiKeyCommand::List { project, common } => {
            let store = common.store().await?;
            let keys = admin::list_api_keys(&store, &project)
                .await
                .with_context(|| format!("list API keys of project {project:?}"))?;
            println!("NAME\tCREATED\tHEAD");
            for k in keys {
                println!(
                    "{}\t{}\t{}",
                    k.name,
                    format_time(k.created_at),
                    satstore_common::hex::encode(&k.head)
                );
            }
            store.close().await;
        }
        ApiKeyCommand::Revoke {
            key_or_grant,
            common,
        } => {
            let key = admin::parse_key_or_grant(&key_or_grant).context("read the key to revoke")?;
            let store = common.store().await?;
            admin::revoke_api_key(&store, &key)
                .await
                .context("revoke API key")?;
            println!(
                "revoked API key with head {} ({} caveats) and every key derived from it",
                satstore_common::hex::encode(key.head()),
                key.caveats().len()
            );
            store.close().await;
        }
        ApiKeyCommand::Delete {
            project,
            name,
            common,
        } => {
            let store = common.store().await?;
            let n = admin::delete_api_key(&store, &project, &name)
                .await
                .with_context(|| format!("delete API key {name:?} of project {project:?}"))?;
            println!("deleted {n} API key(s) named {name:?} of project {project:?}");
            store.close().await;
        }
    }
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            common,
            serve,
            insecure,
        } => {
            let config = common.load(serve.add_to(common.flags()).switch("insecure", insecure))?;
            init_tracing(config.log_format);
            let stop =
                satstore_service::StopSignals::install().context("install signal handlers")?;
            let grpc = bind(config.listen, "gRPC").await?;
            let metrics = bind(config.metrics_listen, "metrics").await?;
            let handle = satellite::start(config, SatelliteListeners { grpc, metrics })
                .await
                .context("start satellite")?;
            println!("satellite {} running", handle.url());
            stop.wait().await;
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
        Command::ApiKey { command } => api_key_command(command).await?,
    }
    Ok(())
}

fn main() -> ExitCode {
    satstore_service::exit::run(run(Cli::parse()))
}
