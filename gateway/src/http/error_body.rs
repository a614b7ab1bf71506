//! Error responses as clients get them: s3s's error documents completed
//! with what the HTTP layer knows.

use bytes::Bytes;
use http::{HeaderValue, Response, header};
use http_body_util::BodyExt;

use crate::s3error::ErrorDocument;

/// Completes an S3 error response ([`ErrorDocument::completed`]): a
/// standard message when s3s gave none, `<Key>` / `<BucketName>` for
/// NoSuchKey / NoSuchBucket, and the `<RequestId>` (errors raised inside
/// s3s, such as signature failures, carry none). A body that is not an
/// error document stays as it is.
pub async fn completed_error(
    resp: Response<s3s::Body>,
    id: &str,
    bucket: Option<&str>,
    key: Option<&str>,
) -> Response<s3s::Body> {
    let is_xml = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("xml"));
    if !is_xml {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes: Bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let bytes = match ErrorDocument::parse(&bytes) {
        Some(doc) => Bytes::from(doc.completed(id, bucket, key).to_xml()),
        None => bytes,
    };
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Response::from_parts(parts, s3s::Body::from(bytes))
}
