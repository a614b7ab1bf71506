//! A whole Satstore network on 127.0.0.1 in one process: one satellite and
//! N storage nodes and an S3 gateway. Used by people
//! (`localnet run`) and by the end-to-end tests, which also use its fault
//! injection (stop, kill and restart nodes; restart the satellite).
//!
//! Layout of the data dir:
//! - `satellite/`: identity and SQLite database (unless a database URL is given)
//! - `nodes/NN/`: one storage node each (NN = 01..N)
//! - `gateway/`: the S3 gateway's SQLite database (users, ACLs, CORS)
//! - `localnet.toml`: ports, API keys and S3 credentials, so a second run resumes
//! - `env`: shell-sourceable addresses and access for clients

mod network;
mod state;

pub use network::{Localnet, LocalnetConfig, LocalnetError};
pub use state::S3Credentials;
