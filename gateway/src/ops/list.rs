//! ListObjects (v1 and v2): S3 prefixes and delimiters over the uplink's
//! folder listing, in lexicographic key order, paged by key markers.

use base64::Engine;
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use uplink::{ListObjectsOptions, Object, Project};

use crate::acl::Perm;
use crate::error::{s3err, uplink_error};
use crate::meta::ObjectMeta;
use crate::state::Gateway;

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

/// Percent-encodes a key for `encoding-type=url` (everything but
/// unreserved characters and '/').
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn encoder(encoding: Option<&EncodingType>) -> S3Result<fn(&str) -> String> {
    match encoding.map(|e| e.as_str()) {
        None => Ok(|s| s.to_string()),
        Some("url") => Ok(url_encode),
        Some(other) => Err(s3err(
            S3ErrorCode::InvalidArgument,
            format!("Invalid Encoding Method specified in Request: {other}"),
        )),
    }
}

fn max_keys(n: Option<i32>) -> S3Result<usize> {
    match n {
        None => Ok(1000),
        Some(n) if n < 0 => Err(s3err(
            S3ErrorCode::InvalidArgument,
            "max-keys must be non-negative",
        )),
        Some(n) => Ok((n as usize).min(1000)),
    }
}

fn contents(objects: Vec<Object>, enc: fn(&str) -> String) -> Vec<s3s::dto::Object> {
    objects
        .into_iter()
        .map(|o| {
            let meta = ObjectMeta::from_custom(&o.custom);
            s3s::dto::Object {
                e_tag: Some(meta.etag()),
                key: Some(enc(&o.key)),
                last_modified: Some(Timestamp::from(o.system.created)),
                size: Some(o.system.content_length),
                storage_class: Some(ObjectStorageClass::from_static(
                    ObjectStorageClass::STANDARD,
                )),
                ..Default::default()
            }
        })
        .collect()
}

fn prefixes(p: Vec<String>, enc: fn(&str) -> String) -> Vec<CommonPrefix> {
    p.into_iter()
        .map(|p| CommonPrefix {
            prefix: Some(enc(&p)),
        })
        .collect()
}

/// ListObjects (v1).
pub async fn list_v1(
    gw: &Gateway,
    req: S3Request<ListObjectsInput>,
) -> S3Result<S3Response<ListObjectsOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = gw.resolve_bucket(&actor, &i.bucket, Perm::Read).await?;
    let enc = encoder(i.encoding_type.as_ref())?;
    let limit = max_keys(i.max_keys)?;
    let prefix = i.prefix.clone().unwrap_or_default();
    let marker = i.marker.clone().unwrap_or_default();
    let page = list(
        &target.project,
        &i.bucket,
        &prefix,
        i.delimiter.as_deref(),
        &marker,
        limit,
    )
    .await?;
    Ok(S3Response::new(ListObjectsOutput {
        name: Some(i.bucket),
        prefix: Some(enc(&prefix)),
        marker: Some(enc(&marker)),
        max_keys: Some(limit as i32),
        is_truncated: Some(page.truncated),
        next_marker: if page.truncated {
            page.last.as_deref().map(enc)
        } else {
            None
        },
        contents: Some(contents(page.objects, enc)),
        common_prefixes: Some(prefixes(page.prefixes, enc)),
        delimiter: i.delimiter.as_deref().map(enc),
        encoding_type: i.encoding_type,
        request_charged: None,
    }))
}

/// ListObjectsV2.
pub async fn list_v2(
    gw: &Gateway,
    req: S3Request<ListObjectsV2Input>,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = gw.resolve_bucket(&actor, &i.bucket, Perm::Read).await?;
    let enc = encoder(i.encoding_type.as_ref())?;
    let limit = max_keys(i.max_keys)?;
    let prefix = i.prefix.clone().unwrap_or_default();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let marker = match &i.continuation_token {
        Some(t) => b64
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                s3err(
                    S3ErrorCode::InvalidArgument,
                    "The continuation token provided is incorrect",
                )
            })?,
        None => i.start_after.clone().unwrap_or_default(),
    };
    let page = list(
        &target.project,
        &i.bucket,
        &prefix,
        i.delimiter.as_deref(),
        &marker,
        limit,
    )
    .await?;
    let key_count = (page.objects.len() + page.prefixes.len()) as i32;
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(i.bucket),
        prefix: Some(enc(&prefix)),
        max_keys: Some(limit as i32),
        key_count: Some(key_count),
        continuation_token: i.continuation_token,
        is_truncated: Some(page.truncated),
        next_continuation_token: if page.truncated {
            page.last.map(|l| b64.encode(l))
        } else {
            None
        },
        contents: Some(contents(page.objects, enc)),
        common_prefixes: Some(prefixes(page.prefixes, enc)),
        delimiter: i.delimiter.as_deref().map(enc),
        encoding_type: i.encoding_type,
        start_after: i.start_after.as_deref().map(enc),
        request_charged: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding_keeps_slashes_and_unreserved() {
        assert_eq!(url_encode("a b/c+d~é"), "a%20b/c%2Bd~%C3%A9");
    }
}
