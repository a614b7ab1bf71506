//! The `uplink` command line client: `mb`, `rb`, `ls`, `cp`, `cat`, `rm`,
//! `access create|import|list|inspect|remove|revoke` and `share`.
//! Errors print one line to stderr and exit with status 1.

mod cli;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("uplink: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
