//! `uplink ls [--recursive] [sj://BUCKET[/PREFIX]]`: list buckets or objects.
//!
//! Output lines: `<created> <name>` per bucket; `PRE <name>/` per prefix
//! and `OBJ <created> <size> <key>` per object. Non-recursive listings
//! print names relative to the prefix, recursive ones full keys.

use std::time::SystemTime;

use anyhow::{Context, Result};
use uplink::{ListBucketsOptions, ListObjectsOptions, Project};

use super::SjUrl;

/// RFC 3339 time in UTC, to the second.
pub(crate) fn format_time(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

pub(crate) async fn run(project: &Project, location: Option<&str>, recursive: bool) -> Result<()> {
    let Some(location) = location else {
        let buckets = project
            .list_buckets(&ListBucketsOptions::default())
            .await
            .context("list buckets")?;
        for b in buckets {
            println!("{} {}", format_time(b.created), b.name);
        }
        return Ok(());
    };
    let u = SjUrl::parse(location)?;
    let mut prefix = u.key.clone();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    let opts = ListObjectsOptions {
        prefix: prefix.clone(),
        recursive,
        system: true,
        ..Default::default()
    };
    let objects = project
        .list_objects(&u.bucket, &opts)
        .await
        .with_context(|| format!("list {location}"))?;
    for o in objects {
        let name = if recursive {
            o.key.as_str()
        } else {
            o.key.strip_prefix(prefix.as_str()).unwrap_or(&o.key)
        };
        if o.is_prefix {
            println!("PRE {name}");
        } else {
            println!(
                "OBJ {} {} {name}",
                format_time(o.system.created),
                o.system.content_length
            );
        }
    }
    Ok(())
}
