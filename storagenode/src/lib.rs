//! The Satstore storage node: keeps erasure-coded pieces in RocksDB and
//! serves them to uplinks under satellite-signed order limits.
//!
//! Modules:
//! - [`config`]: `StorageNodeConfig` (TOML, env, flags).
//! - [`peer`]: [`start`] and the [`StorageNodeHandle`].
//! - [`store`]: the [`PieceStore`] trait and its RocksDB implementation.
//! - [`verify`]: order-limit and order checks, used serials.
//! - [`transfer`]: upload, download and delete sessions (no gRPC).
//! - [`rpc`]: the `Piecestore` and `Contact` gRPC handlers.
//! - [`checkin`]: the check-in with satellites.
//! - [`metrics`]: per-instance Prometheus metrics.
//! - [`server`]: serving gRPC with graceful and abrupt stops.
//! - [`error`]: error types and their gRPC status mapping.
//! - `testing` (only with the `test-support` feature, for test crates):
//!   fault injection such as corrupting a stored piece.

pub mod checkin;
pub mod config;
pub mod error;
pub mod metrics;
pub mod peer;
pub mod rpc;
pub mod server;
pub mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod transfer;
pub mod verify;

pub use config::StorageNodeConfig;
pub use error::{StorageNodeError, StoreError, TransferError, VerifyError};
pub use peer::{StorageNodeHandle, StorageNodeListeners, start};
pub use store::{PieceHeader, PieceStore, PieceWriter, RocksPieceStore, StoredOrder};
