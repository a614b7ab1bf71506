//! The Satstore satellite: metadata, node registry and selection, signed
//! order limits, node check-in with dial-back, and the admin operations.
//!
//! Modules:
//! - [`config`]: `SatelliteConfig` (TOML + env + flags).
//! - [`peer`]: [`start`] / [`SatelliteHandle`]: wires the services together.
//! - [`store`]: the SQL store (SQLite or PostgreSQL via sqlx `Any`).
//! - [`auth`]: API-key (macaroon) verification and caveat enforcement.
//! - [`tokens`]: satellite-signed stream and segment ids.
//! - [`orders`]: order-limit signing.
//! - [`overlay`]: node selection.
//! - [`contact`]: the `Node` gRPC service (check-in with dial-back).
//! - [`metainfo`]: the `Metainfo` gRPC service (buckets, objects, segments).
//! - [`deleter`]: best-effort piece deletion on the nodes.
//! - [`chores`]: background cleanup of expired and zombie pending objects.
//! - [`revocation`]: API-key revocation (by a key's holder or the operator).
//! - [`admin`]: projects and API keys (create, list, revoke, delete) for
//!   the CLI, localnet and tests.
//! - [`metrics`]: the satellite's Prometheus metrics.
//! - [`convert`]: proto <-> common conversions.
//! - [`error`]: [`SatelliteError`] and its mapping to gRPC status codes.

pub mod admin;
pub mod auth;
pub mod chores;
pub mod config;
pub mod contact;
pub mod convert;
pub mod deleter;
pub mod error;
pub mod metainfo;
pub mod metrics;
pub mod orders;
pub mod overlay;
pub mod peer;
pub mod revocation;
pub mod store;
pub mod tokens;

pub use config::SatelliteConfig;
pub use error::SatelliteError;
pub use peer::{SatelliteHandle, SatelliteListeners, start};
pub use store::{NodeRecord, ProjectInfo, Store, StoreError};
