//! `uplink share [--readonly|--writeonly] [--not-after TIME]
//! [--not-before TIME] [--disallow-...] sj://B/prefix/ ...`: prints a
//! restricted access grant (the last line of standard output).
//! TIME is RFC 3339 (UTC, e.g. `2030-01-02T03:04:05Z`), `now`, or relative
//! like `+1h` / `-30m`.

use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use clap::Args;
use uplink::{Access, Permission, SharePrefix};

use super::SjUrl;
use super::access::inspect;

/// Options of `uplink share`.
#[derive(Debug, Args)]
pub(crate) struct ShareArgs {
    /// Download and list only (no upload, no delete).
    #[arg(long, conflicts_with = "writeonly")]
    readonly: bool,
    /// Upload and delete only (no download, no list).
    #[arg(long)]
    writeonly: bool,
    /// Forbid downloads.
    #[arg(long)]
    disallow_reads: bool,
    /// Forbid uploads.
    #[arg(long)]
    disallow_writes: bool,
    /// Forbid listings.
    #[arg(long)]
    disallow_lists: bool,
    /// Forbid deletes.
    #[arg(long)]
    disallow_deletes: bool,
    /// Refused before this time (RFC 3339, `now`, `+1h`).
    #[arg(long, value_parser = parse_time)]
    not_before: Option<SystemTime>,
    /// Refused after this time (RFC 3339, `now`, `+1h`).
    #[arg(long, value_parser = parse_time)]
    not_after: Option<SystemTime>,
    /// Shared locations `sj://BUCKET[/PREFIX/]` (none = the whole project).
    prefixes: Vec<String>,
}

/// Parses a TIME argument.
pub(crate) fn parse_time(s: &str) -> Result<SystemTime> {
    parse_time_at(s, SystemTime::now())
}

fn parse_time_at(s: &str, now: SystemTime) -> Result<SystemTime> {
    let s = s.trim();
    if s == "now" {
        return Ok(now);
    }
    if let Some(rel) = s.strip_prefix('+') {
        let d = humantime::parse_duration(rel).with_context(|| format!("bad duration {rel:?}"))?;
        return now
            .checked_add(d)
            .with_context(|| format!("{s:?} is too far in the future"));
    }
    if let Some(rel) = s.strip_prefix('-') {
        let d = humantime::parse_duration(rel).with_context(|| format!("bad duration {rel:?}"))?;
        return now
            .checked_sub(d)
            .with_context(|| format!("{s:?} is too far in the past"));
    }
    humantime::parse_rfc3339_weak(s).with_context(|| {
        format!("bad time {s:?}: use RFC 3339 (2030-01-02T03:04:05Z), `now` or `+1h`")
    })
}

impl ShareArgs {
    fn permission(&self) -> Permission {
        let mut p = Permission::full();
        if self.readonly {
            p.allow_upload = false;
            p.allow_delete = false;
        }
        if self.writeonly {
            p.allow_download = false;
            p.allow_list = false;
        }
        p.allow_download &= !self.disallow_reads;
        p.allow_upload &= !self.disallow_writes;
        p.allow_list &= !self.disallow_lists;
        p.allow_delete &= !self.disallow_deletes;
        p.not_before = self.not_before;
        p.not_after = self.not_after;
        p
    }

    fn prefixes(&self) -> Result<Vec<SharePrefix>> {
        self.prefixes
            .iter()
            .map(|s| {
                let u = SjUrl::parse(s)?;
                Ok(SharePrefix {
                    bucket: u.bucket,
                    prefix: u.key,
                })
            })
            .collect()
    }
}

/// Prints what the new access allows, then the grant as the last line.
pub(crate) fn run(access: &Access, args: &ShareArgs) -> Result<()> {
    let shared = share(access, args)?;
    print!("{}", inspect(&shared));
    println!("{}", shared.serialize());
    Ok(())
}

fn share(access: &Access, args: &ShareArgs) -> Result<Access> {
    if let (Some(b), Some(a)) = (args.not_before, args.not_after)
        && a < b
    {
        bail!("--not-after is before --not-before");
    }
    access
        .share(&args.permission(), &args.prefixes()?)
        .context("share")
}

#[cfg(test)]
mod tests {
    use super::*;
    use satstore_common::macaroon::Caveat;
    use std::time::Duration;
    use uplink::encryption::{EncryptionStore, Key, PathCipher};

    #[test]
    fn times() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(parse_time_at("now", now).unwrap(), now);
        assert_eq!(
            parse_time_at("+1h", now).unwrap(),
            now + Duration::from_secs(3600)
        );
        assert_eq!(
            parse_time_at("-30m", now).unwrap(),
            now - Duration::from_secs(1800)
        );
        assert_eq!(
            parse_time_at("+1d 2h", now).unwrap(),
            now + Duration::from_secs(26 * 3600)
        );
        assert_eq!(
            parse_time_at("2030-01-02T03:04:05Z", now).unwrap(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_553_445)
        );
        for bad in ["", "tomorrow", "+", "+1 fortnight", "2030-13-01T00:00:00Z"] {
            assert!(parse_time_at(bad, now).is_err(), "{bad}");
        }
    }

    fn args(extra: &[&str]) -> ShareArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            a: ShareArgs,
        }
        let mut argv = vec!["share"];
        argv.extend_from_slice(extra);
        T::try_parse_from(argv).unwrap().a
    }

    #[test]
    fn flags_make_the_caveat() {
        let id = satstore_common::NodeId::from_public_key(&[4; 32]);
        let owner = Access::new(
            format!("{id}@127.0.0.1:7777").parse().unwrap(),
            satstore_common::macaroon::ApiKey::new(b"s"),
            EncryptionStore::new(Key::from_bytes([1; 32]), PathCipher::AesGcm),
        );
        let shared = share(
            &owner,
            &args(&["--readonly", "--not-after", "+1h", "sj://b/p", "sj://c"]),
        )
        .unwrap();
        let c = Caveat::decode(&shared.api_key.caveats()[0]).unwrap();
        assert!(!c.disallow_reads && !c.disallow_lists);
        assert!(c.disallow_writes && c.disallow_deletes);
        assert!(c.not_after > 0 && c.not_before == 0);
        assert_eq!(c.allowed_paths.len(), 2);
        assert_eq!(shared.encryption.entries()[0].unencrypted_prefix, "p/");
        let w = args(&["--writeonly", "--disallow-deletes"]).permission();
        assert!(w.allow_upload && !w.allow_download && !w.allow_list && !w.allow_delete);
        // Everything disallowed, an inverted window, a bad URL: errors.
        assert!(
            share(
                &owner,
                &args(&["--readonly", "--disallow-reads", "--disallow-lists"])
            )
            .is_err()
        );
        assert!(
            share(
                &owner,
                &args(&["--not-before", "+2h", "--not-after", "+1h"])
            )
            .is_err()
        );
        assert!(share(&owner, &args(&["b/p"])).is_err());
    }
}
