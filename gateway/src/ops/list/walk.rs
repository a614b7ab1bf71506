//! The S3 listing walk: prefixes and delimiters over the uplink's folder
//! listing, in lexicographic key order, after a key marker, within a
//! budget of items read and calls made per page.

use s3s::S3Result;
use uplink::{ListObjectsOptions, Object, Project};

use crate::s3error::uplink_error;

/// One page of an S3 listing.
#[derive(Debug, Default)]
pub struct Page {
    /// Objects, in key order.
    pub objects: Vec<Object>,
    /// Common prefixes, in order.
    pub prefixes: Vec<String>,
    /// Whether more entries follow.
    pub truncated: bool,
    /// The last key or prefix returned (the next marker).
    pub last: Option<String>,
}

enum Entry {
    Object(Object),
    Prefix(String),
}

/// Items read from the satellite for one S3 listing page at most, rolled
/// up or skipped ones included. A page that reaches it ends truncated at
/// the last key read (S3 allows fewer than max-keys entries), so one
/// request never walks a whole bucket of keys that roll up into one
/// prefix.
const LIST_SCAN_LIMIT: usize = 10_000;

/// Uplink listing calls for one S3 listing page at most. With plain keys
/// each is one satellite call; with encrypted keys each lists the folder
/// (the satellite cannot sort encrypted keys), and one call then asks for
/// the whole budget.
const LIST_CALLS_LIMIT: usize = 12;

/// Lists `bucket` the S3 way: keys starting with `prefix`, after `marker`,
/// rolled up at `delimiter`, at most `max_keys` entries, reading at most
/// [`LIST_SCAN_LIMIT`] items in at most [`LIST_CALLS_LIMIT`] calls.
pub async fn list(
    project: &Project,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    marker: &str,
    max_keys: usize,
) -> S3Result<Page> {
    let delimiter = delimiter.filter(|d| !d.is_empty());
    if max_keys == 0 {
        return Ok(Page::default());
    }
    // The uplink lists folders: start at the folder holding the prefix.
    let dir = match prefix.rfind('/') {
        Some(i) => &prefix[..=i],
        None => "",
    };
    // Folder listing matches S3's "/" delimiter; anything else lists
    // everything below and rolls up here.
    let recursive = delimiter != Some("/");
    let mut cursor = if let Some(rest) = marker.strip_prefix(dir) {
        rest.to_string()
    } else if marker < dir {
        String::new()
    } else {
        return Ok(Page::default());
    };
    let mut entries: Vec<Entry> = Vec::new();
    let mut last_prefix: Option<String> = None;
    let (mut scanned, mut calls) = (0usize, 0usize);
    let mut last_scanned: Option<String> = None;
    // Whether the listing reached its end (nothing more under the prefix).
    let mut ended = false;
    // With encrypted keys every call lists the whole folder: one call with
    // the whole budget then, instead of a small first one.
    let ordered = project.lists_in_key_order(bucket, dir);
    'pages: while calls < LIST_CALLS_LIMIT && scanned < LIST_SCAN_LIMIT {
        let opts = ListObjectsOptions {
            prefix: dir.to_string(),
            cursor: cursor.clone(),
            recursive,
            system: true,
            custom: true,
        };
        // First what the page needs; after roll-ups or skips, what is left
        // of the budget (one call then covers what many small ones would).
        let left = LIST_SCAN_LIMIT - scanned;
        let want = if calls == 0 && ordered {
            max_keys + 1 - entries.len()
        } else {
            left
        };
        calls += 1;
        let (items, more) = project
            .list_objects_page(bucket, &opts, want.clamp(1, left) as u32)
            .await
            .map_err(uplink_error)?;
        let page_len = items.len();
        for item in items {
            scanned += 1;
            cursor = item.key[dir.len().min(item.key.len())..].to_string();
            last_scanned = Some(item.key.clone());
            if !item.key.starts_with(prefix) {
                if item.key.as_str() > prefix {
                    // Keys come in order: none after this one has the prefix.
                    ended = true;
                    break 'pages;
                }
                continue;
            }
            let entry = if item.is_prefix {
                Entry::Prefix(item.key.clone())
            } else if let (true, Some(d)) = (recursive, delimiter)
                && let Some(i) = item.key[prefix.len()..].find(d)
            {
                Entry::Prefix(item.key[..prefix.len() + i + d.len()].to_string())
            } else {
                Entry::Object(item)
            };
            if let Entry::Prefix(p) = &entry {
                if p.as_str() <= marker || last_prefix.as_deref() == Some(p.as_str()) {
                    continue;
                }
                last_prefix = Some(p.clone());
            }
            entries.push(entry);
            if entries.len() > max_keys {
                break 'pages;
            }
        }
        if !more || page_len == 0 {
            ended = true;
            break;
        }
    }
    let full = entries.len() > max_keys;
    entries.truncate(max_keys);
    let mut page = Page {
        truncated: full || !ended,
        ..Default::default()
    };
    for e in entries {
        match e {
            Entry::Object(o) => {
                page.last = Some(o.key.clone());
                page.objects.push(o);
            }
            Entry::Prefix(p) => {
                page.last = Some(p.clone());
                page.prefixes.push(p);
            }
        }
    }
    if !full && !ended {
        // The budget ran out first: the next page starts after the last
        // key read (every key up to it is in this page or rolled up).
        page.last = last_scanned.or(page.last);
    }
    Ok(page)
}
