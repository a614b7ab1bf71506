//! The user's saved access grants: `access.toml` in the config directory
//! (`$UPLINK_CONFIG_DIR`, else `$XDG_CONFIG_HOME/satstore/uplink`, else
//! `~/.config/satstore/uplink`), holding named grants and the default name.
//! Access resolution for every command: `--access` (a saved name or a
//! grant), then `UPLINK_ACCESS` (same), then the default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use uplink::Access;

/// File name of the access store inside the config directory.
const FILE: &str = "access.toml";

/// Contents of `access.toml`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccessStore {
    /// Name of the access used when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Serialized grants by name.
    #[serde(default)]
    pub access: BTreeMap<String, String>,
}

/// The config directory from the environment.
pub(crate) fn config_dir() -> Result<PathBuf> {
    config_dir_from(|k| std::env::var_os(k))
}

fn config_dir_from(env: impl Fn(&str) -> Option<std::ffi::OsString>) -> Result<PathBuf> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set("UPLINK_CONFIG_DIR") {
        return Ok(dir);
    }
    if let Some(xdg) = set("XDG_CONFIG_HOME") {
        return Ok(xdg.join("satstore").join("uplink"));
    }
    if let Some(home) = set("HOME") {
        return Ok(home.join(".config").join("satstore").join("uplink"));
    }
    bail!("cannot find a config directory: set UPLINK_CONFIG_DIR or HOME")
}

impl AccessStore {
    /// The store file in `dir`.
    pub(crate) fn path(dir: &Path) -> PathBuf {
        dir.join(FILE)
    }

    /// Loads the store from `dir`; empty if the file does not exist.
    pub(crate) fn load(dir: &Path) -> Result<Self> {
        let path = Self::path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
        };
        toml::from_str(&text).with_context(|| format!("parse {}", path.display()))
    }

    /// Writes the store to `dir` (created if needed), readable by the user
    /// only, replacing the file atomically.
    pub(crate) fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        let path = Self::path(dir);
        let tmp = dir.join(format!(".{FILE}.tmp"));
        let text = toml::to_string(self).context("encode the access store")?;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        {
            use std::io::Write;
            let mut f = opts
                .open(&tmp)
                .with_context(|| format!("write {}", tmp.display()))?;
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("write {}", tmp.display()))?;
        }
        std::fs::rename(&tmp, &path).with_context(|| format!("replace {}", path.display()))
    }

    /// The grant text for `name_or_grant`: a saved name, else the text
    /// itself (parsed by the caller).
    pub(crate) fn resolve_text<'a>(&'a self, name_or_grant: &'a str) -> &'a str {
        self.access
            .get(name_or_grant)
            .map(String::as_str)
            .unwrap_or(name_or_grant)
    }

    /// The access to use: `given` (from `--access` or `UPLINK_ACCESS`) or
    /// the default.
    pub(crate) fn resolve(&self, given: Option<&str>) -> Result<Access> {
        let text = match given {
            Some(g) => self.resolve_text(g),
            None => {
                let name = self.default.as_deref().context(
                    "no access grant: run `uplink access create`, pass --access NAME|GRANT or set UPLINK_ACCESS",
                )?;
                self.access.get(name).with_context(|| {
                    format!("the default access {name:?} is not in the access store")
                })?
            }
        };
        Access::parse(text).with_context(|| match given {
            Some(g) if !self.access.contains_key(g) && g.len() < 40 => {
                format!("{g:?} is neither a saved access name nor a valid access grant")
            }
            _ => "bad access grant".to_string(),
        })
    }

    /// Saves `grant` as `name`; makes it the default when `make_default`
    /// or when there is no default yet.
    pub(crate) fn insert(&mut self, name: &str, grant: String, make_default: bool) -> Result<()> {
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '/') {
            bail!("invalid access name {name:?}: use letters, digits, '-' or '_'");
        }
        self.access.insert(name.to_string(), grant);
        if make_default || self.default.is_none() {
            self.default = Some(name.to_string());
        }
        Ok(())
    }

    /// Removes `name`; clears the default if it was the default.
    pub(crate) fn remove(&mut self, name: &str) -> Result<()> {
        if self.access.remove(name).is_none() {
            bail!("no saved access named {name:?}");
        }
        if self.default.as_deref() == Some(name) {
            self.default = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use uplink::encryption::{EncryptionStore, Key, PathCipher};

    fn grant() -> String {
        let id = satstore_common::NodeId::from_public_key(&[4; 32]);
        Access::new(
            format!("{id}@127.0.0.1:7777").parse().unwrap(),
            satstore_common::macaroon::ApiKey::new(b"s"),
            EncryptionStore::new(Key::from_bytes([1; 32]), PathCipher::AesGcm),
        )
        .serialize()
    }

    #[test]
    fn store_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("nested");
        assert_eq!(AccessStore::load(&sub).unwrap(), AccessStore::default());
        let mut s = AccessStore::default();
        s.insert("main", grant(), false).unwrap();
        s.insert("other", "x".into(), false).unwrap();
        assert_eq!(
            s.default.as_deref(),
            Some("main"),
            "first one is the default"
        );
        s.insert("other", grant(), true).unwrap();
        assert_eq!(s.default.as_deref(), Some("other"));
        s.save(&sub).unwrap();
        let back = AccessStore::load(&sub).unwrap();
        assert_eq!(back, s);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(AccessStore::path(&sub))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only the user may read grants");
        }
        // Resolution: a name, a grant, the default, garbage.
        assert!(back.resolve(Some("main")).is_ok());
        assert!(back.resolve(Some(&grant())).is_ok());
        assert!(back.resolve(None).is_ok());
        let e = back.resolve(Some("nope")).unwrap_err();
        assert!(
            format!("{e:#}").contains("neither a saved access name"),
            "{e:#}"
        );
        let mut s = back;
        s.remove("other").unwrap();
        assert_eq!(s.default, None);
        assert!(s.remove("other").is_err());
        let e = s.resolve(None).unwrap_err();
        assert!(e.to_string().contains("uplink access create"), "{e}");
        assert!(s.insert("bad name", grant(), false).is_err());
        // A broken file is reported with its path.
        std::fs::write(AccessStore::path(&sub), "default = [").unwrap();
        let e = AccessStore::load(&sub).unwrap_err();
        assert!(e.to_string().contains("access.toml"), "{e}");
    }

    #[test]
    fn config_dir_order() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            config_dir_from(env(&[("UPLINK_CONFIG_DIR", "/a"), ("HOME", "/h")])).unwrap(),
            PathBuf::from("/a")
        );
        assert_eq!(
            config_dir_from(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])).unwrap(),
            PathBuf::from("/x/satstore/uplink")
        );
        assert_eq!(
            config_dir_from(env(&[("HOME", "/h"), ("UPLINK_CONFIG_DIR", "")])).unwrap(),
            PathBuf::from("/h/.config/satstore/uplink")
        );
        assert!(config_dir_from(env(&[])).is_err());
    }
}
