//! AWS Signature Version 2 (HMAC-SHA1): the `Authorization: AWS key:sig`
//! header and query-string authentication (`AWSAccessKeyId`, `Expires`,
//! `Signature`) as boto 2's `generate_url` makes it. Path-style URLs: the
//! canonical resource is the URI path plus the signed sub-resources.

use std::time::SystemTime;

use http::header::{AUTHORIZATION, CONTENT_TYPE, DATE, HeaderMap, HeaderValue};
use http::request::Parts;
use http::{Method, Uri};

use super::crypto::hmac_sha1_base64;
use super::encode::{parse_query, uri_encode};
use super::time::UtcTime;
use super::{Credentials, SignError};

/// Query parameters that are part of the canonical resource (sorted).
const SUB_RESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// The intermediate and final values of one SigV2 signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V2Signature {
    /// What was signed.
    pub string_to_sign: String,
    /// Base64 HMAC-SHA1 of the string to sign.
    pub signature: String,
    /// The `Authorization` header value, or the presigned URL.
    pub authorization: String,
}

/// `VERB\nContent-MD5\nContent-Type\nDate-or-Expires\n<amz headers><resource>`;
/// `amz_headers` are `(lowercase name, value)` pairs, sorted and merged here.
pub fn string_to_sign(
    method: &str,
    content_md5: &str,
    content_type: &str,
    date_or_expires: &str,
    amz_headers: &[(String, String)],
    resource: &str,
) -> String {
    let mut sorted: Vec<(String, String)> = amz_headers.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut amz = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let name = &sorted[i].0;
        let mut values = vec![sorted[i].1.trim().to_owned()];
        while i + 1 < sorted.len() && sorted[i + 1].0 == *name {
            i += 1;
            values.push(sorted[i].1.trim().to_owned());
        }
        amz.push_str(&format!("{name}:{}\n", values.join(",")));
        i += 1;
    }
    format!("{method}\n{content_md5}\n{content_type}\n{date_or_expires}\n{amz}{resource}")
}

/// The canonical resource of a path-style `uri`: its path plus the
/// sub-resource parameters (decoded values), in sorted order.
pub fn canonical_resource(uri: &Uri) -> String {
    let pairs = parse_query(uri.query().unwrap_or(""));
    let mut out = uri.path().to_owned();
    let mut first = true;
    for name in SUB_RESOURCES {
        if let Some((_, v)) = pairs.iter().find(|(k, _)| k == name) {
            out.push(if first { '?' } else { '&' });
            first = false;
            out.push_str(name);
            if !v.is_empty() {
                out.push('=');
                out.push_str(v);
            }
        }
    }
    out
}

/// The base64 HMAC-SHA1 signature of a string to sign.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    hmac_sha1_base64(secret.as_bytes(), string_to_sign.as_bytes())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn amz_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(n, _)| n.as_str().starts_with("x-amz-"))
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect()
}

/// Signs a request in place with `Authorization: AWS key:signature`. Sets
/// `Date` from `at` unless the request already has one (or an `x-amz-date`,
/// which then replaces the date in the string to sign).
pub fn sign_parts(
    creds: &Credentials,
    parts: &mut Parts,
    at: SystemTime,
) -> Result<V2Signature, SignError> {
    if !parts.headers.contains_key(DATE) && !parts.headers.contains_key("x-amz-date") {
        let date = UtcTime::from_system(at).http_date();
        parts.headers.insert(
            DATE,
            HeaderValue::from_str(&date).map_err(|_| SignError::HeaderNotAscii(date))?,
        );
    }
    let date = if parts.headers.contains_key("x-amz-date") {
        ""
    } else {
        header_str(&parts.headers, "date")
    };
    let string_to_sign = string_to_sign(
        parts.method.as_str(),
        header_str(&parts.headers, "content-md5"),
        header_str(&parts.headers, CONTENT_TYPE.as_str()),
        date,
        &amz_headers(&parts.headers),
        &canonical_resource(&parts.uri),
    );
    let signature = signature(&creds.secret_key, &string_to_sign);
    let authorization = format!("AWS {}:{signature}", creds.access_key);
    parts.headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&authorization)
            .map_err(|_| SignError::HeaderNotAscii(authorization.clone()))?,
    );
    Ok(V2Signature {
        string_to_sign,
        signature,
        authorization,
    })
}

/// A query-authenticated URL for `method` on `url`, valid until the Unix
/// time `expires`, in boto 2's form: `?Signature=..&Expires=..&AWSAccessKeyId=..`
/// (after the URL's own query parameters).
pub fn presign_url(
    creds: &Credentials,
    method: &Method,
    url: &Uri,
    expires: u64,
) -> Result<V2Signature, SignError> {
    let authority = url.authority().ok_or(SignError::NoHost)?;
    let expires = expires.to_string();
    let string_to_sign = string_to_sign(
        method.as_str(),
        "",
        "",
        &expires,
        &[],
        &canonical_resource(url),
    );
    let signature = signature(&creds.secret_key, &string_to_sign);
    let scheme = url.scheme_str().unwrap_or("http");
    let own = url.query().map(|q| format!("{q}&")).unwrap_or_default();
    let authorization = format!(
        "{scheme}://{authority}{}?{own}Signature={}&Expires={expires}&AWSAccessKeyId={}",
        url.path(),
        uri_encode(&signature, true),
        uri_encode(&creds.access_key, true)
    );
    Ok(V2Signature {
        string_to_sign,
        signature,
        authorization,
    })
}
