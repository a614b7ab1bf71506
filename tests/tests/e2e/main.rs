//! End-to-end tests over a real localnet: real gRPC on loopback, real
//! RocksDB, real SQLite and PostgreSQL. Each test owns its network.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod access;
mod attacks;
mod buckets;
mod cli;
mod errors;
mod faults;
mod helpers;
mod listing;
mod multipart;
mod orders;
mod roundtrip;
mod s3_auth;
mod s3_errors;
mod s3_gateway;
mod s3_security;
mod services;
