//! The S3 client: path-style requests signed with SigV4 over a keep-alive
//! connection pool (hyper-util's legacy client), returning status, headers
//! and body. `send` gives tests full control over what goes on the wire.

use std::time::SystemTime;

use bytes::Bytes;
use futures::Stream;
use http::header::{CONTENT_LENGTH, HeaderMap, HeaderValue};
use http::request::Parts;
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::body::{S3Body, aws_chunked_body, empty_body, full_body, stream_body};
use super::crypto::sha256_hex;
use super::encode::uri_encode;
use super::sigv4::{
    self, ChunkSigner, STREAMING_PAYLOAD, UNSIGNED_PAYLOAD, V4Signature, chunked_encoded_length,
};
use super::{Credentials, SignError};

/// Why a request failed before an HTTP response came back.
#[derive(Debug, thiserror::Error)]
pub enum S3ClientError {
    /// The endpoint is not an `http://host:port` URL.
    #[error("bad endpoint {0:?}: expected http://host:port")]
    BadEndpoint(String),
    /// The request could not be signed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The request could not be built (bad method, URI or header).
    #[error("invalid request: {0}")]
    Request(#[from] http::Error),
    /// Connecting or talking to the server failed.
    #[error("HTTP request failed: {0}")]
    Http(#[from] hyper_util::client::legacy::Error),
    /// Reading the response body failed.
    #[error("reading response body failed: {0}")]
    Body(#[from] hyper::Error),
}

/// How `put_object_stream` signs its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadSigning {
    /// `x-amz-content-sha256: UNSIGNED-PAYLOAD`, body sent as is.
    Unsigned,
    /// `aws-chunked` with a signature per chunk of `chunk_size` bytes.
    Chunked {
        /// Decoded bytes per chunk (S3 requires >= 8 KiB except the last).
        chunk_size: usize,
    },
}

/// A whole response: status, headers and the collected body.
#[derive(Clone, Debug)]
pub struct S3Response {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl S3Response {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The text of the first `<tag>...</tag>` in the body.
    pub fn xml_field(&self, tag: &str) -> Option<String> {
        let text = self.text();
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let start = text.find(&open)? + open.len();
        let len = text[start..].find(&close)?;
        Some(text[start..start + len].to_owned())
    }

    /// The S3 error `<Code>` of the body, if it is an error document.
    pub fn error_code(&self) -> Option<String> {
        self.xml_field("Code")
    }
}

/// A path-style S3 client with its credentials and a connection pool.
#[derive(Clone)]
pub struct S3Client {
    http: Client<HttpConnector, S3Body>,
    endpoint: String,
    creds: Credentials,
}

impl S3Client {
    /// A client for `endpoint` (`http://host:port`), region `us-east-1`.
    pub fn new(endpoint: &str, access_key: &str, secret_key: &str) -> Result<Self, S3ClientError> {
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let uri: Uri = endpoint
            .parse()
            .map_err(|_| S3ClientError::BadEndpoint(endpoint.clone()))?;
        if uri.scheme_str() != Some("http") || uri.authority().is_none() {
            return Err(S3ClientError::BadEndpoint(endpoint));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let http = Client::builder(TokioExecutor::new()).build(connector);
        Ok(S3Client {
            http,
            endpoint,
            creds: Credentials::new(access_key, secret_key),
        })
    }

    /// The same client (sharing its pool) signing with other credentials.
    pub fn with_credentials(&self, creds: Credentials) -> Self {
        S3Client {
            http: self.http.clone(),
            endpoint: self.endpoint.clone(),
            creds,
        }
    }

    /// The credentials requests are signed with.
    pub fn credentials(&self) -> &Credentials {
        &self.creds
    }

    /// The endpoint, `http://host:port`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The URI of `bucket` (and `key`, encoded per segment) with a raw
    /// query string (already encoded; empty for none).
    pub fn uri(&self, bucket: &str, key: Option<&str>, query: &str) -> Result<Uri, S3ClientError> {
        let mut s = format!("{}/{}", self.endpoint, uri_encode(bucket, true));
        if let Some(key) = key {
            s.push('/');
            s.push_str(&uri_encode(key, false));
        }
        if !query.is_empty() {
            s.push('?');
            s.push_str(query);
        }
        Ok(s.parse::<Uri>().map_err(http::Error::from)?)
    }

    /// Request parts for `method` on `uri` with `headers`, not yet signed.
    pub fn parts(
        &self,
        method: Method,
        uri: Uri,
        headers: &[(&str, &str)],
    ) -> Result<Parts, S3ClientError> {
        let mut b = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        Ok(b.body(())?.into_parts().0)
    }

    /// Signs `parts` with SigV4 header auth at time `at`.
    pub fn sign_v4(
        &self,
        parts: &mut Parts,
        payload_hash: &str,
        at: SystemTime,
    ) -> Result<V4Signature, S3ClientError> {
        Ok(sigv4::sign_parts(&self.creds, parts, payload_hash, at)?)
    }

    /// Sends a request as is (no signing) and collects the response.
    pub async fn send(&self, req: Request<S3Body>) -> Result<S3Response, S3ClientError> {
        let resp = self.send_streaming(req).await?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(S3Response {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// Sends a request as is and returns the response with its body unread.
    pub async fn send_streaming(
        &self,
        req: Request<S3Body>,
    ) -> Result<Response<Incoming>, S3ClientError> {
        Ok(self.http.request(req).await?)
    }

    /// Signs (SigV4, payload hash of `body`) and sends a request; `query`
    /// is a raw encoded query string, `headers` extra headers.
    pub async fn signed(
        &self,
        method: Method,
        bucket: &str,
        key: Option<&str>,
        query: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<S3Response, S3ClientError> {
        let mut parts = self.parts(method, self.uri(bucket, key, query)?, headers)?;
        if !body.is_empty() || parts.method == Method::PUT || parts.method == Method::POST {
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        }
        self.sign_v4(&mut parts, &sha256_hex(&body), SystemTime::now())?;
        let body = if body.is_empty() {
            empty_body()
        } else {
            full_body(body)
        };
        self.send(Request::from_parts(parts, body)).await
    }

    /// `CreateBucket`.
    pub async fn create_bucket(&self, bucket: &str) -> Result<S3Response, S3ClientError> {
        self.signed(Method::PUT, bucket, None, "", &[], Bytes::new())
            .await
    }

    /// `PutObject` of in-memory bytes with a signed payload hash.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        data: Bytes,
    ) -> Result<S3Response, S3ClientError> {
        self.signed(Method::PUT, bucket, Some(key), "", &[], data)
            .await
    }

    /// `PutObject` of `len` bytes streamed from `body`, signed as `signing` says.
    pub async fn put_object_stream<S>(
        &self,
        bucket: &str,
        key: &str,
        len: u64,
        body: S,
        signing: PayloadSigning,
    ) -> Result<S3Response, S3ClientError>
    where
        S: Stream<Item = Bytes> + Send + Unpin + 'static,
    {
        let uri = self.uri(bucket, Some(key), "")?;
        let at = SystemTime::now();
        match signing {
            PayloadSigning::Unsigned => {
                let mut parts = self.parts(Method::PUT, uri, &[])?;
                parts.headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
                self.sign_v4(&mut parts, UNSIGNED_PAYLOAD, at)?;
                self.send(Request::from_parts(parts, stream_body(body)))
                    .await
            }
            PayloadSigning::Chunked { chunk_size } => {
                let encoded = chunked_encoded_length(len, chunk_size as u64).to_string();
                let decoded = len.to_string();
                let mut parts = self.parts(
                    Method::PUT,
                    uri,
                    &[
                        ("content-encoding", "aws-chunked"),
                        ("content-length", &encoded),
                        ("x-amz-decoded-content-length", &decoded),
                    ],
                )?;
                let seed = self.sign_v4(&mut parts, STREAMING_PAYLOAD, at)?;
                let signer = ChunkSigner::new(&self.creds, at, &seed.signature);
                let body = aws_chunked_body(body, signer, chunk_size);
                self.send(Request::from_parts(parts, body)).await
            }
        }
    }

    fn range_headers(range: Option<&str>) -> Vec<(&str, &str)> {
        range.map(|r| vec![("range", r)]).unwrap_or_default()
    }

    /// `GetObject`, optionally of a `Range` (e.g. `bytes=0-9`), collected.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<&str>,
    ) -> Result<S3Response, S3ClientError> {
        let h = Self::range_headers(range);
        self.signed(Method::GET, bucket, Some(key), "", &h, Bytes::new())
            .await
    }

    /// `GetObject` with the body left to stream.
    pub async fn get_object_stream(
        &self,
        bucket: &str,
        key: &str,
        range: Option<&str>,
    ) -> Result<Response<Incoming>, S3ClientError> {
        let h = Self::range_headers(range);
        let mut parts = self.parts(Method::GET, self.uri(bucket, Some(key), "")?, &h)?;
        self.sign_v4(&mut parts, sigv4::EMPTY_SHA256, SystemTime::now())?;
        self.send_streaming(Request::from_parts(parts, empty_body()))
            .await
    }

    /// `HeadObject`.
    pub async fn head_object(&self, bucket: &str, key: &str) -> Result<S3Response, S3ClientError> {
        self.signed(Method::HEAD, bucket, Some(key), "", &[], Bytes::new())
            .await
    }

    /// `DeleteObject`.
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<S3Response, S3ClientError> {
        self.signed(Method::DELETE, bucket, Some(key), "", &[], Bytes::new())
            .await
    }
}
