//! The skeleton every Satstore daemon shares, so a new service is a config
//! struct, a `start` function and a few lines of `main`:
//!
//! - [`config`]: defaults < TOML file < `PREFIX_*` environment < flags,
//!   unknown keys and bad values refused by name and source;
//! - [`shutdown`]: SIGTERM and SIGINT both drain;
//! - [`telemetry`]: tracing; [`rpc_metrics`]: per-RPC metrics;
//!   [`health`]: the `/metrics`, `/healthz`, `/readyz` listener;
//! - [`tasks`]: named background tasks stopped together;
//! - [`sql`] (feature `sql`): SQLite/PostgreSQL and versioned migrations;
//! - [`cli`]: the flags every `run` shares; [`exit`]: one-line errors and
//!   exit codes.

pub mod cli;
pub mod config;
pub mod exit;
pub mod health;
pub mod rpc_metrics;
pub mod shutdown;
#[cfg(feature = "sql")]
pub mod sql;
pub mod tasks;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::{ConfigError, Flags, InvalidValue, ServiceConfig};
pub use health::{Readiness, serve_metrics};
pub use rpc_metrics::{RpcMetrics, RpcMetricsLayer};
pub use shutdown::{StopSignal, StopSignals};
pub use tasks::TaskSet;
pub use telemetry::{LogFormat, init_tracing};
