//! What a localnet remembers between runs: its ports and API key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::LocalnetError;

/// File name of the state inside the localnet dir.
pub const STATE_FILE: &str = "localnet.toml";

/// Ports and credentials kept so that a second run resumes the same network.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// Satellite gRPC port.
    pub satellite_port: u16,
    /// Satellite metrics port.
    pub satellite_metrics_port: u16,
    /// Serialized API key of the localnet project.
    pub api_key: String,
    /// gRPC and metrics port per node, index 0 = node 01.
    pub nodes: Vec<NodePorts>,
    /// S3 gateway port.
    #[serde(default)]
    pub gateway_port: u16,
    /// S3 gateway metrics port.
    #[serde(default)]
    pub gateway_metrics_port: u16,
    /// Serialized API key of the second project (the second S3 user).
    #[serde(default)]
    pub second_api_key: String,
    /// S3 users registered at the gateway (first = the localnet project).
    #[serde(default)]
    pub s3_users: Vec<S3Credentials>,
}

/// Credentials of an S3 user registered at the localnet gateway.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Credentials {
    /// Endpoint URL (`http://127.0.0.1:PORT`); filled in at start.
    #[serde(skip)]
    pub endpoint: String,
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// Canonical user id.
    pub canonical_id: String,
    /// Email registered with the user.
    pub email: String,
}

/// The two ports of one storage node.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct NodePorts {
    pub grpc: u16,
    pub metrics: u16,
}

impl State {
    /// Path of the state file in `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(STATE_FILE)
    }

    /// Loads the state of a previous run, if any.
    pub fn load(dir: &Path) -> Result<Option<State>, LocalnetError> {
        let path = Self::path(dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(toml::from_str(&text).map_err(|e| {
                LocalnetError::State(format!(
                    "parse {}: {e} (delete it to start afresh)",
                    path.display()
                ))
            })?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(LocalnetError::Io(format!("read {}", path.display()), e)),
        }
    }

    /// Writes the state atomically.
    pub fn save(&self, dir: &Path) -> Result<(), LocalnetError> {
        let path = Self::path(dir);
        let tmp = dir.join(format!("{STATE_FILE}.tmp"));
        let text = toml::to_string_pretty(self).map_err(|e| LocalnetError::State(e.to_string()))?;
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| LocalnetError::Io(format!("write {}", path.display()), e))
    }
}
