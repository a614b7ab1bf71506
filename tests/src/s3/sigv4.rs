//! AWS Signature Version 4: header authentication, presigned URLs and the
//! `aws-chunked` streaming payload signatures (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`).
//!
//! Every step is public and returned ([`V4Signature`]) so tests can compare
//! the canonical request, the string to sign and the signature with AWS's
//! published examples.

use std::time::SystemTime;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{AUTHORIZATION, HOST, HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;
use http::{Method, Uri};

use super::crypto::{hex, hmac_sha256, sha256_hex};
use super::encode::{canonical_query, canonical_query_from_pairs, parse_query, uri_encode};
use super::time::UtcTime;
use super::{Credentials, SignError};

/// The signing algorithm name.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// `x-amz-content-sha256` of a request whose body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// `x-amz-content-sha256` of an `aws-chunked` body with chunk signatures.
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// SHA-256 of the empty string.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Headers a client may change on the way (never signed).
const UNSIGNED_HEADERS: &[&str] = &[
    "authorization",
    "user-agent",
    "expect",
    "connection",
    "transfer-encoding",
    "accept-encoding",
    "x-amzn-trace-id",
];

/// The intermediate and final values of one SigV4 signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V4Signature {
    /// The canonical request that was hashed.
    pub canonical_request: String,
    /// `AWS4-HMAC-SHA256\n<date>\n<scope>\n<hash of canonical request>`.
    pub string_to_sign: String,
    /// `;`-joined lowercase names of the signed headers.
    pub signed_headers: String,
    /// Hex HMAC of the string to sign: the signature.
    pub signature: String,
    /// The `Authorization` header value (header auth), or the presigned URL.
    pub authorization: String,
}

/// `<date>/<region>/<service>/aws4_request`.
pub fn scope(creds: &Credentials, date_stamp: &str) -> String {
    format!(
        "{date_stamp}/{}/{}/aws4_request",
        creds.region, creds.service
    )
}

/// The derived key: HMAC chain over date, region, service, `aws4_request`.
pub fn signing_key(secret: &str, date_stamp: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date_stamp.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// The string to sign of a canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Trims a header value and collapses inner runs of whitespace.
fn normalize_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical header block and signed-header list of `headers`
/// (every header except the ones proxies may change), sorted by name.
pub fn canonical_headers(headers: &HeaderMap) -> Result<(String, String), SignError> {
    let mut names: Vec<&HeaderName> = headers
        .keys()
        .filter(|n| !UNSIGNED_HEADERS.contains(&n.as_str()))
        .collect();
    names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut block = String::new();
    for name in &names {
        let values = headers
            .get_all(*name)
            .iter()
            .map(|v| {
                v.to_str()
                    .map(normalize_value)
                    .map_err(|_| SignError::HeaderNotAscii(name.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        block.push_str(name.as_str());
        block.push(':');
        block.push_str(&values.join(","));
        block.push('\n');
    }
    let signed = names
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    Ok((block, signed))
}

/// Assembles a canonical request. `canonical_uri` is the URI path as sent
/// (S3 signs it encoded once, as is); `canonical_query` is already canonical.
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    let uri = if canonical_uri.is_empty() {
        "/"
    } else {
        canonical_uri
    };
    format!(
        "{method}\n{uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}"
    )
}

/// The `host` header value for `uri` (authority without userinfo).
fn host_of(uri: &Uri) -> Result<HeaderValue, SignError> {
    let authority = uri.authority().ok_or(SignError::NoHost)?;
    HeaderValue::from_str(authority.as_str()).map_err(|_| SignError::NoHost)
}

fn header_value(v: &str) -> Result<HeaderValue, SignError> {
    HeaderValue::from_str(v).map_err(|_| SignError::HeaderNotAscii(v.to_owned()))
}

/// Signs a request in place with header authentication: sets `host` (from
/// the URI, if missing), `x-amz-date`, `x-amz-content-sha256` (= `payload_hash`,
/// only for service `s3`) and `Authorization`; signs every header present
/// except the few proxies may change.
pub fn sign_parts(
    creds: &Credentials,
    parts: &mut Parts,
    payload_hash: &str,
    at: SystemTime,
) -> Result<V4Signature, SignError> {
    let t = UtcTime::from_system(at);
    let amz_date = t.amz_date();
    if !parts.headers.contains_key(HOST) {
        let host = host_of(&parts.uri)?;
        parts.headers.insert(HOST, host);
    }
    parts.headers.remove(AUTHORIZATION);
    parts.headers.insert("x-amz-date", header_value(&amz_date)?);
    if creds.service == "s3" {
        parts
            .headers
            .insert("x-amz-content-sha256", header_value(payload_hash)?);
    }
    let (block, signed_headers) = canonical_headers(&parts.headers)?;
    let canonical_request = canonical_request(
        parts.method.as_str(),
        parts.uri.path(),
        &canonical_query(parts.uri.query().unwrap_or("")),
        &block,
        &signed_headers,
        payload_hash,
    );
    let scope = scope(creds, &t.date_stamp());
    let string_to_sign = string_to_sign(&amz_date, &scope, &canonical_request);
    let key = signing_key(
        &creds.secret_key,
        &t.date_stamp(),
        &creds.region,
        &creds.service,
    );
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key
    );
    parts
        .headers
        .insert(AUTHORIZATION, header_value(&authorization)?);
    Ok(V4Signature {
        canonical_request,
        string_to_sign,
        signed_headers,
        signature,
        authorization,
    })
}

/// A presigned URL for `method` on `url` valid `expires_secs` from `at`,
/// signing only `host` with an unsigned payload (as the AWS SDKs do). The
/// URL's own query parameters are kept and signed. The returned
/// [`V4Signature::authorization`] is the full URL.
pub fn presign_url(
    creds: &Credentials,
    method: &Method,
    url: &Uri,
    expires_secs: u64,
    at: SystemTime,
) -> Result<V4Signature, SignError> {
    let t = UtcTime::from_system(at);
    let amz_date = t.amz_date();
    let host = host_of(url)?;
    let host = host.to_str().map_err(|_| SignError::NoHost)?;
    let scope = scope(creds, &t.date_stamp());
    let mut pairs = parse_query(url.query().unwrap_or(""));
    pairs.extend([
        ("X-Amz-Algorithm".to_owned(), ALGORITHM.to_owned()),
        (
            "X-Amz-Credential".to_owned(),
            format!("{}/{scope}", creds.access_key),
        ),
        ("X-Amz-Date".to_owned(), amz_date.clone()),
        ("X-Amz-Expires".to_owned(), expires_secs.to_string()),
        ("X-Amz-SignedHeaders".to_owned(), "host".to_owned()),
    ]);
    let query = canonical_query_from_pairs(&pairs);
    let canonical_request = canonical_request(
        method.as_str(),
        url.path(),
        &query,
        &format!("host:{host}\n"),
        "host",
        UNSIGNED_PAYLOAD,
    );
    let string_to_sign = string_to_sign(&amz_date, &scope, &canonical_request);
    let key = signing_key(
        &creds.secret_key,
        &t.date_stamp(),
        &creds.region,
        &creds.service,
    );
    let signature = hex(&hmac_sha256(&key, string_to_sign.as_bytes()));
    let scheme = url.scheme_str().unwrap_or("http");
    let path = if url.path().is_empty() {
        "/"
    } else {
        url.path()
    };
    let authorization = format!("{scheme}://{host}{path}?{query}&X-Amz-Signature={signature}");
    Ok(V4Signature {
        canonical_request,
        string_to_sign,
        signed_headers: "host".to_owned(),
        signature,
        authorization,
    })
}

/// Signs the chunks of an `aws-chunked` body: each signature chains on the
/// previous one, starting from the request's (seed) signature.
#[derive(Clone, Debug)]
pub struct ChunkSigner {
    key: [u8; 32],
    amz_date: String,
    scope: String,
    previous: String,
}

impl ChunkSigner {
    /// A signer continuing from `seed_signature`, the header signature of
    /// the request made at `at` by `creds`.
    pub fn new(creds: &Credentials, at: SystemTime, seed_signature: &str) -> Self {
        let t = UtcTime::from_system(at);
        ChunkSigner {
            key: signing_key(
                &creds.secret_key,
                &t.date_stamp(),
                &creds.region,
                &creds.service,
            ),
            amz_date: t.amz_date(),
            scope: scope(creds, &t.date_stamp()),
            previous: seed_signature.to_owned(),
        }
    }

    /// The string to sign of the next chunk `data`.
    pub fn string_to_sign(&self, data: &[u8]) -> String {
        format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{}",
            self.amz_date,
            self.scope,
            self.previous,
            sha256_hex(data)
        )
    }

    /// Signs the next chunk (the empty chunk ends the body) and advances.
    pub fn sign(&mut self, data: &[u8]) -> String {
        let sts = self.string_to_sign(data);
        let sig = hex(&hmac_sha256(&self.key, sts.as_bytes()));
        self.previous.clone_from(&sig);
        sig
    }

    /// The wire frame of the next chunk:
    /// `<hex len>;chunk-signature=<sig>\r\n<data>\r\n`.
    pub fn frame(&mut self, data: &[u8]) -> Bytes {
        let sig = self.sign(data);
        encode_frame(data, &sig)
    }
}

/// The wire frame of one chunk with the given signature.
pub fn encode_frame(data: &[u8], signature: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(data.len() + 100);
    out.put_slice(format!("{:x};chunk-signature={signature}\r\n", data.len()).as_bytes());
    out.put_slice(data);
    out.put_slice(b"\r\n");
    out.freeze()
}

/// The `Content-Length` of an `aws-chunked` body carrying `decoded` bytes in
/// chunks of `chunk_size` (the last may be shorter), plus the final 0-chunk.
pub fn chunked_encoded_length(decoded: u64, chunk_size: u64) -> u64 {
    let frame = |len: u64| format!("{len:x}").len() as u64 + 17 + 64 + 2 + len + 2;
    let full = decoded / chunk_size;
    let rest = decoded % chunk_size;
    let mut total = full * frame(chunk_size) + frame(0);
    if rest > 0 {
        total += frame(rest);
    }
    total
}

/// Path of `key` in `bucket`, each segment URI-encoded (what is signed).
pub fn object_path(bucket: &str, key: &str) -> String {
    format!("/{bucket}/{}", uri_encode(key, false))
}
