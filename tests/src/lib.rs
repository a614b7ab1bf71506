//! Test harness for Satstore's end-to-end tests: a localnet per test in a
//! temp dir (kept and printed when the test fails), throwaway PostgreSQL
//! clusters, and deterministic data streams compared by hash.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

pub mod data;
pub mod dial;
pub mod fuzz;
pub mod metrics;
pub mod net;
pub mod postgres;
pub mod s3;

pub use data::{DataStream, hash_of};
pub use net::{Db, TestNet, TestNetBuilder};
pub use postgres::TempPostgres;
