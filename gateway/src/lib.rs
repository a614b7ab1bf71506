//! Satstore's S3 gateway: an S3-compatible HTTP server on top of the
//! `uplink` library. Requests are authenticated with SigV4/SigV2 (s3s) by
//! secrets the gateway keeps for registered users; each user's access grant
//! is sealed under their secret, and names one of the satellites the
//! gateway trusts. Bucket names are claimed by projects; ACLs, CORS rules
//! and the restricted grants that serve public and shared objects live in
//! the gateway's own database, per owning project, sealed under a share key
//! kept outside it.
//!
//! Modules: `config` (settings), `server` (start/stop), `http` (HTTP layer,
//! registration endpoint), `idle` (body idle timeout), `ratelimit`,
//! `state` (who acts with which access), `ops` (the S3 operations, one
//! module per verb), `conditions` (If-Match and friends), `overrides`
//! (`response-*` parameters), `acl`, `cors`, `meta` (S3 models), `body`
//! (request and response bodies, why a body broke), `s3error` (S3 error
//! codes, the uplink mapping, error documents), `error` (the gateway's
//! own error), `register`, `trust`, `sharekey`, `crypto` (credentials and
//! sealing), `store` (SQL).

pub mod acl;
pub mod body;
pub mod conditions;
pub mod config;
pub mod cors;
pub mod crypto;
pub mod error;
pub mod host;
pub mod http;
pub mod idle;
pub mod meta;
pub mod metrics;
mod ops;
pub mod overrides;
pub mod ratelimit;
pub mod register;
pub mod s3error;
pub mod server;
pub mod sharekey;
pub mod state;
pub mod store;
pub mod tls;
pub mod trust;

pub use config::GatewayConfig;
pub use error::GatewayError;
pub use register::{Credentials, Registrar, Registration, register_http};
pub use server::{GatewayHandle, GatewayListeners, start};
pub use state::Gateway;
pub use store::Store;
pub use trust::TrustedSatellites;
