//! Tracing for every daemon: one subscriber per process, plain or JSON
//! lines on stderr, filtered by `RUST_LOG`.

/// Log output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Plain,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "plain" => Ok(LogFormat::Plain),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("unknown log format {s:?} (plain or json)")),
        }
    }
}

/// Installs the process-wide tracing subscriber (filter from `RUST_LOG`,
/// default `info`, with the s3s library's per-request error lines off: the
/// gateway logs every request with its status itself). Later calls are no-ops, so in-process peers can share it.
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,s3s=off"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Plain => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
