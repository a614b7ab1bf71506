//! The `gateway` binary: `run` the S3 gateway, `register` an access grant
//! as an S3 user, or `confirm-email` of a user (operator actions).

use std::path::PathBuf;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use gateway::{GatewayConfig, GatewayListeners, Registrar, Registration, Store};
use satstore_service::cli::{ConfigFileArg, ServeArgs, bind};
use satstore_service::config::{self, Flags};
use satstore_service::telemetry::init_tracing;

/// Satstore S3 gateway: S3 over the uplink library.
#[derive(Parser)]
#[command(name = "gateway", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the config and database are. Every config key can also be set
/// as `GATEWAY_<KEY>` in the environment (flags win over it, it wins over
/// the file).
#[derive(Args, Clone)]
struct Common {
    #[command(flatten)]
    file: ConfigFileArg,
    /// Data directory (default SQLite database).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL (sqlite://PATH?mode=rwc or postgres://...).
    #[arg(long)]
    database_url: Option<String>,
    /// Dial the satellite and nodes in plaintext (a network run with
    /// --insecure).
    #[arg(long)]
    insecure: bool,
}

impl Common {
    /// The flags every subcommand shares.
    fn flags(&self) -> Flags {
        Flags::new()
            .set("data_dir", self.data_dir.clone())
            .set("database_url", self.database_url.clone())
            .switch("insecure", self.insecure)
    }

    fn load(&self, flags: Flags) -> anyhow::Result<GatewayConfig> {
        Ok(config::load(self.file.config.as_deref(), flags)?)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve S3 until SIGINT or SIGTERM, then drain and stop.
    Run {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        serve: ServeArgs,
        /// PEM certificate chain: serve HTTPS (with --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Register an access grant as an S3 user and print its credentials
    /// (the secret is shown only once). The grant's satellite must be in
    /// trusted_satellites and must accept the grant.
    Register {
        #[command(flatten)]
        common: Common,
        /// Serialized access grant (or set GATEWAY_REGISTER_ACCESS).
        #[arg(long, env = "GATEWAY_REGISTER_ACCESS", hide_env_values = true)]
        access: String,
        /// Email for email grants (add_email_grant).
        #[arg(long)]
        email: Option<String>,
        /// You checked that the email is the user's: grants by email
        /// reach this user (otherwise confirm it later with confirm-email).
        #[arg(long, requires = "email")]
        email_confirmed: bool,
        /// Display name shown as owner.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Confirm (as the operator, having checked it) that an email belongs
    /// to a registered user: grants by that email reach them from then on.
    ConfirmEmail {
        #[command(flatten)]
        common: Common,
        /// The user's canonical id.
        #[arg(long)]
        canonical_id: String,
        /// The email.
        #[arg(long)]
        email: String,
    },
}

/// Opens the database of `config` (creating the SQLite directory).
async fn open_store(config: &GatewayConfig) -> anyhow::Result<Store> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("create {}", config.data_dir.display()))?;
    }
    Store::connect(&config.database_url())
        .await
        .context("open gateway database")
}

fn main() -> ExitCode {
    satstore_service::exit::run(run(Cli::parse()))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            common,
            serve,
            tls_cert,
            tls_key,
        } => {
            let config = common.load(
                serve
                    .add_to(common.flags())
                    .set("tls_cert_file", tls_cert)
                    .set("tls_key_file", tls_key),
            )?;
            init_tracing(config.log_format);
            let stop =
                satstore_service::StopSignals::install().context("install signal handlers")?;
            let s3 = bind(config.listen, "S3").await?;
            let metrics = bind(config.metrics_listen, "metrics").await?;
            let uplink = config.uplink_config();
            let handle = gateway::start(config, GatewayListeners { s3, metrics }, uplink)
                .await
                .context("start gateway")?;
            println!("S3 endpoint: {}", handle.endpoint());
            stop.wait().await;
            handle.shutdown().await;
            Ok(())
        }
        Command::Register {
            common,
            access,
            email,
            email_confirmed,
            display_name,
        } => {
            let config = common.load(common.flags())?;
            let trusted = config.trusted().context("trusted_satellites")?;
            let store = open_store(&config).await?;
            let registrar = Registrar::new(store.clone(), trusted, config.uplink_config());
            let creds = registrar
                .register(&Registration {
                    grant: access.trim(),
                    email: email.as_deref(),
                    display_name: display_name.as_deref(),
                    email_confirmed,
                })
                .await
                .context("register")?;
            println!("access key: {}", creds.access_key);
            println!("secret key: {}", creds.secret_key);
            println!("canonical id: {}", creds.canonical_id);
            println!("display name: {}", creds.display_name);
            store.close().await;
            Ok(())
        }
        Command::ConfirmEmail {
            common,
            canonical_id,
            email,
        } => {
            let config = common.load(common.flags())?;
            let store = open_store(&config).await?;
            store
                .confirm_email(&canonical_id, &email)
                .await
                .context("confirm email")?;
            println!("confirmed {email} for {canonical_id}");
            store.close().await;
            Ok(())
        }
    }
}
