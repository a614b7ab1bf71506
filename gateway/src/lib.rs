//! Satstore's S3 gateway: an S3-compatible HTTP server on top of the
//! `uplink` library. Requests are authenticated with SigV4/SigV2 (s3s) by
//! secrets the gateway keeps for registered users; each user's access grant
//! is sealed under their secret. ACLs, CORS rules and the restricted grants
//! that serve public and shared objects live in the gateway's own database.

pub mod acl;
pub mod body;
pub mod config;
pub mod cors;
pub mod crypto;
pub mod error;
pub mod host;
pub mod http;
pub mod meta;
pub mod metrics;
mod ops;
pub mod register;
pub mod server;
pub mod state;
pub mod store;

pub use config::GatewayConfig;
pub use error::GatewayError;
pub use register::{Credentials, register, register_http};
pub use server::{GatewayHandle, GatewayListeners, start};
pub use state::Gateway;
pub use store::Store;
