//! ListObjects (v1 and v2): one page of the listing walk ([`walk`]) in
//! S3's answer shapes, keys optionally URL-encoded, v2 paged by opaque
//! continuation tokens.

mod walk;

use base64::Engine;
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use uplink::Object;

use crate::acl::Perm;
use crate::meta::ObjectMeta;
use crate::s3error::s3err;
use crate::state::Gateway;
use walk::list;

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

    #[test]
    fn encodings_and_max_keys_are_checked() {
        let plain = encoder(None).unwrap();
        assert_eq!(plain("a b"), "a b");
        let url = encoder(Some(&EncodingType::from_static(EncodingType::URL))).unwrap();
        assert_eq!(url("a b"), "a%20b");
        let e = encoder(Some(&EncodingType::from("base64".to_string()))).unwrap_err();
        assert_eq!(*e.code(), S3ErrorCode::InvalidArgument);
        assert_eq!(max_keys(None).unwrap(), 1000);
        assert_eq!(max_keys(Some(0)).unwrap(), 0);
        assert_eq!(max_keys(Some(5000)).unwrap(), 1000);
        assert_eq!(
            *max_keys(Some(-1)).unwrap_err().code(),
            S3ErrorCode::InvalidArgument
        );
    }
}
