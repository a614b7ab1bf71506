//! Peer identities: an ed25519 key kept in the data dir, created on first
//! start. `NodeId = SHA-256(public key)`.

use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::hex;
use crate::ids::NodeId;
use crate::signing::{PublicKey, SigningKeyPair};

/// File name of the identity key inside a data dir.
pub const IDENTITY_FILE: &str = "identity.key";

/// Why an identity could not be loaded or created.
#[derive(Debug, Error)]
pub enum IdentityError {
    #[error("read identity {path}: {source}")]
    /// The identity file exists but could not be read.
    Read {
        /// The identity file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    #[error("write identity {path}: {source}")]
    /// The identity file could not be written.
    Write {
        /// The identity file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    #[error("identity file {0} is corrupt (expected 64 hex digits)")]
    /// The identity file does not hold a key.
    Corrupt(PathBuf),
}

/// Writes `data` to `path` readable by the owner only (0600), durably: a
/// temp file synced, renamed into place, and the directory synced so the
/// rename survives a power loss.
fn write_private(dir: &Path, path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = dir.join(format!("{IDENTITY_FILE}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// The key pair and id of a satellite or storage node.
#[derive(Clone, Debug)]
pub struct Identity {
    keys: SigningKeyPair,
    id: NodeId,
}

impl Identity {
    /// A fresh identity with at least `difficulty` trailing zero bits.
    pub fn generate(difficulty: u32) -> Self {
        loop {
            let keys = SigningKeyPair::generate();
            let id = keys.public_key().node_id();
            if id.difficulty() >= difficulty {
                return Identity { keys, id };
            }
        }
    }

    /// Loads `dir/identity.key`, creating it (and `dir`) on first start.
    pub fn load_or_create(dir: &Path) -> Result<Self, IdentityError> {
        Self::load_or_create_with_difficulty(dir, 0)
    }

    /// Like [`Identity::load_or_create`]; a new identity is searched until
    /// its id has `difficulty` trailing zero bits (the proof of work a
    /// satellite may require before it admits a node). An existing
    /// identity is loaded as it is.
    pub fn load_or_create_with_difficulty(
        dir: &Path,
        difficulty: u32,
    ) -> Result<Self, IdentityError> {
        let path = dir.join(IDENTITY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let seed = hex::decode(text.trim())
                    .filter(|s| s.len() == 32)
                    .ok_or_else(|| IdentityError::Corrupt(path.clone()))?;
                let keys = SigningKeyPair::from_seed_slice(&seed)
                    .map_err(|_| IdentityError::Corrupt(path.clone()))?;
                let id = keys.public_key().node_id();
                Ok(Identity { keys, id })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let ident = Identity::generate(difficulty);
                let werr = |source| IdentityError::Write {
                    path: path.clone(),
                    source,
                };
                std::fs::create_dir_all(dir).map_err(werr)?;
                write_private(dir, &path, hex::encode(&ident.keys.seed()).as_bytes())
                    .map_err(werr)?;
                Ok(ident)
            }
            Err(source) => Err(IdentityError::Read { path, source }),
        }
    }

    /// This peer's id.
    pub fn id(&self) -> NodeId {
        self.id
    }
    /// This peer's public key.
    pub fn public_key(&self) -> PublicKey {
        self.keys.public_key()
    }
    /// The signing keys.
    pub fn keys(&self) -> &SigningKeyPair {
        &self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_reloaded() {
        let dir = std::env::temp_dir().join(format!("ident-{}", rand::random::<u64>()));
        let a = Identity::load_or_create(&dir).unwrap();
        let b = Identity::load_or_create(&dir).unwrap();
        assert_eq!(a.id(), b.id());
        std::fs::write(dir.join(IDENTITY_FILE), "junk").unwrap();
        assert!(matches!(
            Identity::load_or_create(&dir),
            Err(IdentityError::Corrupt(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_new_identity_meets_the_difficulty_asked() {
        let dir = std::env::temp_dir().join(format!("ident-{}", rand::random::<u64>()));
        let id = Identity::load_or_create_with_difficulty(&dir, 8).unwrap();
        assert!(id.id().difficulty() >= 8);
        // Loaded as it is afterwards, whatever is asked.
        let again = Identity::load_or_create_with_difficulty(&dir, 30).unwrap();
        assert_eq!(again.id(), id.id());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn key_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ident-{}", rand::random::<u64>()));
        Identity::load_or_create(&dir).unwrap();
        let mode = std::fs::metadata(dir.join(IDENTITY_FILE))
            .unwrap()
            .permissions()
            .mode();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(mode & 0o777, 0o600, "identity key file mode {mode:o}");
    }
}
