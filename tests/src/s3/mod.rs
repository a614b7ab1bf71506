//! A small S3 client for tests and benches, with its own request signers:
//! SigV4 (header, presigned URL, `aws-chunked` streaming) and SigV2 (header
//! and query, as boto 2 makes them), on a keep-alive hyper client.
//! Path-style addressing (`http://host:port/bucket/key`).

pub mod body;
pub mod client;
pub mod crypto;
pub mod encode;
pub mod sigv2;
pub mod sigv4;
pub mod time;

#[cfg(test)]
mod loopback;
#[cfg(test)]
mod vectors;

pub use body::{BoxError, S3Body, aws_chunked_body, empty_body, full_body, stream_body};
pub use client::{PayloadSigning, S3Client, S3ClientError, S3Response};

/// Who signs and for which scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// Access key id (goes in the request).
    pub access_key: String,
    /// Secret key (only used to sign).
    pub secret_key: String,
    /// SigV4 region of the scope.
    pub region: String,
    /// SigV4 service of the scope (`s3`; the generic test suite uses `service`).
    pub service: String,
}

impl Credentials {
    /// S3 credentials for region `us-east-1`.
    pub fn new(access_key: &str, secret_key: &str) -> Self {
        Credentials {
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            region: "us-east-1".to_owned(),
            service: "s3".to_owned(),
        }
    }
}

/// Why a request could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The URI has no host: give an absolute URI (`http://host:port/...`).
    #[error("request URI has no host; use an absolute http://host:port/... URI")]
    NoHost,
    /// A header value is not visible ASCII and cannot be signed or sent.
    #[error("header value is not printable ASCII: {0:?}")]
    HeaderNotAscii(String),
}
