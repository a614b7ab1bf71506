//! The `uplink` command line: argument parsing and one module per command.

mod access;
mod access_store;
mod cat;
mod cp;
mod ls;
mod mb;
mod progress;
mod rb;
mod rm;
mod share;
mod url;

use anyhow::Result;
use clap::{Parser, Subcommand};
use uplink::Project;

use access_store::AccessStore;

pub(crate) use url::{Location, SjUrl};

/// Command line client of a Satstore satellite.
#[derive(Debug, Parser)]
#[command(name = "uplink", version, about)]
pub(crate) struct Cli {
    /// Access to use: a saved name or a grant (default: the saved default).
    #[arg(long, global = true, env = "UPLINK_ACCESS", hide_env_values = true)]
    access: Option<String>,
    /// Dial the satellite and nodes in plaintext (a network run with
    /// `--insecure`); by default TLS pinned to each peer's id.
    #[arg(long, global = true, env = "UPLINK_INSECURE")]
    insecure: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a bucket: `uplink mb sj://BUCKET`.
    Mb { bucket: String },
    /// Remove a bucket: `uplink rb [--force] sj://BUCKET`.
    Rb {
        /// Delete the bucket's objects too.
        #[arg(long)]
        force: bool,
        bucket: String,
    },
    /// List buckets, or objects under `sj://BUCKET[/PREFIX]`.
    Ls {
        /// List every key under the prefix instead of collapsing at '/'.
        #[arg(long, short)]
        recursive: bool,
        location: Option<String>,
    },
    /// Copy a local file or `-` to `sj://BUCKET/KEY`, or back.
    Cp { source: String, destination: String },
    /// Print an object to stdout: `uplink cat sj://BUCKET/KEY`.
    Cat { object: String },
    /// Delete an object: `uplink rm sj://BUCKET/KEY`.
    Rm { object: String },
    /// Manage saved access grants.
    #[command(subcommand)]
    Access(access::AccessCommand),
    /// Print a restricted access grant for some prefixes (last line).
    Share(share::ShareArgs),
}

/// Runs the parsed command.
pub(crate) async fn run(cli: Cli) -> Result<()> {
    let dir = access_store::config_dir()?;
    let given = cli.access.as_deref();
    let config = uplink::UplinkConfig {
        insecure: cli.insecure,
        ..Default::default()
    };
    let project: Project = match &cli.command {
        Command::Access(cmd) => return access::run(cmd, given, &dir, &config).await,
        Command::Share(args) => {
            let access = AccessStore::load(&dir)?.resolve(given)?;
            return share::run(&access, args);
        }
        _ => {
            let access = AccessStore::load(&dir)?.resolve(given)?;
            access.config_open_project(&config).await?
        }
    };
    match &cli.command {
        Command::Mb { bucket } => mb::run(&project, bucket).await,
        Command::Rb { force, bucket } => rb::run(&project, bucket, *force).await,
        Command::Ls {
            recursive,
            location,
        } => ls::run(&project, location.as_deref(), *recursive).await,
        Command::Cp {
            source,
            destination,
        } => cp::run(&project, source, destination).await,
        Command::Cat { object } => cat::run(&project, object).await,
        Command::Rm { object } => rm::run(&project, object).await,
        Command::Access(_) | Command::Share(_) => unreachable!("handled above"),
    }
}
