//! `uplink access create|import|list|inspect|remove|revoke`: manage the
//! saved access grants.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use satstore_common::macaroon::Caveat;
use uplink::encryption::PathCipher;
use uplink::{Access, UplinkConfig};

use super::access_store::AccessStore;
use super::ls::format_time;

/// The `uplink access` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum AccessCommand {
    /// Create an access from a satellite, an API key and a passphrase, and
    /// save it (as the default).
    Create {
        /// Satellite address `nodeid@host:port`.
        #[arg(long)]
        satellite: String,
        /// API key (base58 text).
        #[arg(long)]
        api_key: String,
        /// Read the passphrase as one line from standard input (otherwise
        /// from UPLINK_PASSPHRASE, or a prompt on a terminal).
        #[arg(long)]
        passphrase_stdin: bool,
        /// Name to save it under.
        #[arg(long, default_value = "default")]
        name: String,
        /// Store object keys in the clear (path cipher "none").
        #[arg(long)]
        unencrypted_keys: bool,
    },
    /// Save an access grant under a name.
    Import { name: String, grant: String },
    /// List the saved accesses (`*` marks the default).
    List,
    /// Show what an access holds (never its keys).
    Inspect {
        /// Saved name or grant; default: the access in use.
        access: Option<String>,
    },
    /// Forget a saved access.
    Remove { name: String },
    /// Make the satellite refuse an access (and everything shared from it).
    Revoke {
        /// Saved name or grant to revoke.
        access: String,
    },
}

/// Runs an access subcommand; `given` is `--access` / `UPLINK_ACCESS`.
pub(crate) async fn run(
    cmd: &AccessCommand,
    given: Option<&str>,
    dir: &Path,
    base: &UplinkConfig,
) -> Result<()> {
    let mut store = AccessStore::load(dir)?;
    match cmd {
        AccessCommand::Create {
            satellite,
            api_key,
            passphrase_stdin,
            name,
            unencrypted_keys,
        } => {
            let passphrase = read_passphrase(*passphrase_stdin)?;
            let config = UplinkConfig {
                unencrypted_object_keys: *unencrypted_keys,
                ..base.clone()
            };
            let access = uplink::config_request_access_with_passphrase(
                &config,
                satellite,
                api_key,
                &passphrase,
            )
            .await
            .context("request access")?;
            store.insert(name, access.serialize(), true)?;
            store.save(dir)?;
            println!(
                "Access {name:?} saved to {} (default)",
                AccessStore::path(dir).display()
            );
            Ok(())
        }
        AccessCommand::Import { name, grant } => {
            let access = Access::parse(grant).context("import")?;
            store.insert(name, access.serialize(), false)?;
            store.save(dir)?;
            println!("Access {name:?} saved");
            Ok(())
        }
        AccessCommand::List => {
            for (name, grant) in &store.access {
                let mark = if store.default.as_deref() == Some(name) {
                    "*"
                } else {
                    " "
                };
                let sat = Access::parse(grant)
                    .map(|a| a.satellite.to_string())
                    .unwrap_or_else(|e| format!("(unreadable: {e})"));
                println!("{mark} {name} {sat}");
            }
            Ok(())
        }
        AccessCommand::Inspect { access } => {
            let access = store.resolve(access.as_deref().or(given))?;
            print!("{}", inspect(&access));
            Ok(())
        }
        AccessCommand::Remove { name } => {
            store.remove(name)?;
            store.save(dir)?;
            println!("Access {name:?} removed");
            Ok(())
        }
        AccessCommand::Revoke { access } => {
            let target = Access::parse(store.resolve_text(access))
                .with_context(|| format!("{access:?} is not a saved name or a grant"))?;
            let acting = store.resolve(given)?;
            let project = acting.config_open_project(base).await?;
            project
                .revoke_access(&target)
                .await
                .context("revoke access")?;
            println!("Access revoked");
            Ok(())
        }
    }
}

/// The passphrase: stdin line, `UPLINK_PASSPHRASE`, or a terminal prompt.
fn read_passphrase(from_stdin: bool) -> Result<String> {
    if !from_stdin {
        if let Ok(p) = std::env::var("UPLINK_PASSPHRASE")
            && !p.is_empty()
        {
            return Ok(p);
        }
        if !std::io::stdin().is_terminal() {
            bail!(
                "no passphrase: pass --passphrase-stdin and write it to standard input, or set UPLINK_PASSPHRASE"
            );
        }
        eprint!("Encryption passphrase: ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("read the passphrase")?;
    let p = line.trim_end_matches(['\n', '\r']).to_string();
    if p.is_empty() {
        bail!("the passphrase is empty");
    }
    Ok(p)
}

fn cipher_name(c: PathCipher) -> &'static str {
    match c {
        PathCipher::None => "none (object keys in the clear)",
        PathCipher::AesGcm => "AES-GCM",
    }
}

fn time_text(unix: i64) -> String {
    if unix <= 0 {
        return "-".into();
    }
    format_time(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix as u64))
}

/// A person-readable description of `access`, without any key.
pub(crate) fn inspect(access: &Access) -> String {
    let mut out = String::new();
    let key = &access.api_key;
    let head = satstore_common::hex::encode(key.head());
    out.push_str(&format!("satellite: {}\n", access.satellite));
    out.push_str(&format!("api key head: {}\n", &head[..head.len().min(16)]));
    out.push_str(&format!("caveats: {}\n", key.caveats().len()));
    for raw in key.caveats() {
        match Caveat::decode(raw) {
            Ok(c) => {
                let mut denied = Vec::new();
                for (flag, what) in [
                    (c.disallow_reads, "download"),
                    (c.disallow_writes, "upload"),
                    (c.disallow_lists, "list"),
                    (c.disallow_deletes, "delete"),
                ] {
                    if flag {
                        denied.push(what);
                    }
                }
                out.push_str(&format!(
                    "  - disallow: {}; not before: {}; not after: {}\n",
                    if denied.is_empty() {
                        "-".to_string()
                    } else {
                        denied.join(", ")
                    },
                    time_text(c.not_before),
                    time_text(c.not_after)
                ));
                for (bucket, prefix) in &c.allowed_paths {
                    let plain =
                        uplink::encryption::decrypt_path(&access.encryption, bucket, prefix)
                            .unwrap_or_else(|_| "?".into());
                    out.push_str(&format!(
                        "    allowed: sj://{bucket}/{plain} (encrypted prefix {} bytes)\n",
                        prefix.len()
                    ));
                }
            }
            Err(e) => out.push_str(&format!("  - unreadable caveat: {e}\n")),
        }
    }
    let enc = &access.encryption;
    out.push_str(&format!(
        "default key: {}\n",
        if enc.default_key().is_some() {
            "yes (whole project)"
        } else {
            "no"
        }
    ));
    out.push_str(&format!(
        "path cipher: {}\n",
        cipher_name(enc.default_cipher())
    ));
    for e in enc.entries() {
        out.push_str(&format!(
            "key for: sj://{}/{} ({})\n",
            e.bucket,
            e.unencrypted_prefix,
            cipher_name(e.cipher)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use uplink::encryption::{EncryptionStore, Key};
    use uplink::{Permission, SharePrefix};

    #[test]
    fn inspect_shows_caveats_but_no_keys() {
        let id = satstore_common::NodeId::from_public_key(&[4; 32]);
        let owner = Access::new(
            format!("{id}@127.0.0.1:7777").parse().unwrap(),
            satstore_common::macaroon::ApiKey::new(b"s"),
            EncryptionStore::new(Key::from_bytes([0xab; 32]), PathCipher::AesGcm),
        );
        let shared = owner
            .share(
                &Permission::read_only(),
                &[SharePrefix {
                    bucket: "b".into(),
                    prefix: "p/".into(),
                }],
            )
            .unwrap();
        let text = inspect(&shared);
        assert!(text.contains("disallow: upload, delete"), "{text}");
        assert!(text.contains("allowed: sj://b/p/"), "{text}");
        assert!(text.contains("key for: sj://b/p/ (AES-GCM)"), "{text}");
        assert!(text.contains("default key: no"), "{text}");
        let owner_text = inspect(&owner);
        assert!(owner_text.contains("default key: yes"), "{owner_text}");
        assert!(!owner_text.contains("abab"), "{owner_text}");
    }
}
