//! Types and helpers every Satstore service and client shares: ids,
//! identities and signatures, signed order limits / orders / piece hashes,
//! the erasure scheme, API-key macaroons, config and telemetry helpers.
//!
//! This crate knows nothing of protobuf, HTTP routing or SQL; conversions to
//! wire types live in the `satstore-proto` users.
//!
//! Modules:
//! - [`ids`]: `NodeId`, `PieceId`, `SerialNumber`, `StreamId` newtypes.
//! - [`identity`]: ed25519 identities stored in a data dir.
//! - [`signing`]: signed envelopes over canonical bytes.
//! - [`orders`]: order limits, orders and piece hashes.
//! - [`contact`]: a node's signed check-in and ping proof.
//! - [`piece`]: piece hash-chunking shared by uplink and node.
//! - [`erasure`]: the Reed-Solomon redundancy scheme on stripes.
//! - [`macaroon`]: API keys as HMAC-chained macaroons.
//! - [`nodeurl`]: `nodeid@host:port` addresses.
//! - [`config`]: sizes and durations in config files.
//! - [`ratelimit`]: per-key token buckets.
//! - [`telemetry`]: tracing init and the `/metrics` HTTP endpoint.

pub mod codec;
pub mod config;
pub mod contact;
pub mod erasure;
pub mod hex;
pub mod identity;
pub mod ids;
pub mod macaroon;
pub mod nodeurl;
pub mod orders;
pub mod piece;
pub mod ratelimit;
pub mod signing;
pub mod time;

pub use identity::{Identity, IdentityError};
pub use ids::{IdError, NodeId, PieceId, SerialNumber, StreamId};
pub use nodeurl::NodeUrl;
pub use orders::{Order, OrderLimit, PieceAction, PieceHash};
pub use signing::{PublicKey, SignatureError, SignedMessage};
