//! End-to-end tests over a real localnet: real gRPC on loopback, real
//! RocksDB, real SQLite and PostgreSQL. Each test owns its network.

mod access;
mod buckets;
mod cli;
mod faults;
mod helpers;
mod listing;
mod orders;
mod roundtrip;
mod services;
