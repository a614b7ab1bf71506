//! The share key: it seals the restricted grants the gateway keeps for
//! ACLs. It lives in a file outside the database (created 0600 on first
//! start), so a copy of the database alone opens no share. The database
//! keeps only a fingerprint, so that a gateway started with another key on
//! the same database refuses to start instead of failing every share.

use std::io::Write;
use std::path::Path;

use satstore_common::hex;

use crate::crypto::{self, SealKey};
use crate::error::GatewayError;
use crate::store::Store;

/// Name of the setting holding the key's fingerprint.
const FINGERPRINT_SETTING: &str = "share_key_fingerprint";

/// Reads the key from `path`, or creates the file with a new random key
/// (readable by the owner only) when it does not exist.
pub fn load_or_create(path: &Path) -> Result<SealKey, GatewayError> {
    let io =
        |what: &str, e| GatewayError::Io(format!("{what} share key file {}", path.display()), e);
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).ok_or_else(|| {
            GatewayError::InvalidArgument(format!(
                "share key file {} must hold 64 hex digits",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| io("create the directory of the", e))?;
            }
            let key = crypto::new_key();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            match options.open(path) {
                Ok(mut f) => {
                    f.write_all(format!("{}\n", hex::encode(&key)).as_bytes())
                        .and_then(|_| f.sync_all())
                        .map_err(|e| io("write the", e))?;
                    tracing::info!(path = %path.display(), "created a new share key");
                    Ok(key)
                }
                // Another gateway created it just now: use that one.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(path),
                Err(e) => Err(io("create the", e)),
            }
        }
        Err(e) => Err(io("read the", e)),
    }
}

fn parse(text: &str) -> Option<SealKey> {
    let bytes = hex::decode(text.trim()).filter(|b| b.len() == 32)?;
    let mut key = [0u8; 32];
    key.copy_from_slice(&bytes);
    Some(key)
}

/// A public fingerprint of the key (reveals nothing that opens a share).
fn fingerprint(key: &SealKey) -> String {
    hex::encode(&blake3::derive_key("satstore gateway 2026 share key fingerprint", key)[..16])
}

/// Records the key's fingerprint in the database (first gateway), or
/// checks it against the recorded one.
pub async fn check_against(store: &Store, key: &SealKey) -> Result<(), GatewayError> {
    let mine = fingerprint(key);
    let recorded = store.setting_or_init(FINGERPRINT_SETTING, &mine).await?;
    if recorded != mine {
        return Err(GatewayError::InvalidArgument(
            "the share key differs from the one this database's shares were sealed with: \
             give every gateway on one database the same share_key_file"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::sqlite_store;

    #[tokio::test]
    async fn the_key_file_is_created_private_once_and_checked_against_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/share.key");
        let key = load_or_create(&path).unwrap();
        assert_eq!(load_or_create(&path).unwrap(), key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (store, _db) = sqlite_store().await;
        check_against(&store, &key).await.unwrap();
        check_against(&store, &key).await.unwrap();
        assert!(check_against(&store, &crypto::new_key()).await.is_err());
        // The database holds no key, only the fingerprint.
        let recorded = store.setting(FINGERPRINT_SETTING).await.unwrap().unwrap();
        assert!(!recorded.contains(&hex::encode(&key)));
        std::fs::write(&path, "short").unwrap();
        assert!(load_or_create(&path).is_err());
    }
}
