//! Request bodies streamed into uplink writers, hashed on the way, with
//! the declared length and Content-MD5 checked.

use futures::StreamExt;
use md5::{Digest, Md5};
use s3s::dto::StreamingBlob;
use s3s::{S3ErrorCode, S3Result};
use uplink::UplinkError;

use super::failure::BodyOrigin;
use crate::s3error::{s3err, uplink_error};

/// Something an S3 body is written into (an object or a part upload).
pub trait Sink: Send {
    /// Writes all of `data`.
    fn write_all(&mut self, data: &[u8]) -> impl Future<Output = Result<(), UplinkError>> + Send;
}

impl Sink for uplink::Upload {
    async fn write_all(&mut self, data: &[u8]) -> Result<(), UplinkError> {
        uplink::Upload::write_all(self, data).await
    }
}

impl Sink for uplink::PartUpload {
    async fn write_all(&mut self, data: &[u8]) -> Result<(), UplinkError> {
        uplink::PartUpload::write_all(self, data).await
    }
}

/// What was written.
pub struct Written {
    /// Bytes written.
    pub len: u64,
    /// MD5 of them.
    pub md5: [u8; 16],
}

/// Copies `body` (from `origin`) into `sink`, hashing it; checks the
/// declared length and Content-MD5 (base64) when given. A body that
/// breaks is answered as [`BodyOrigin::failure`] says. The caller aborts
/// the sink on error.
pub async fn drain<S: Sink>(
    body: Option<StreamingBlob>,
    origin: &BodyOrigin,
    sink: &mut S,
    content_length: Option<i64>,
    content_md5: Option<&str>,
) -> S3Result<Written> {
    let expected_md5 = match content_md5 {
        Some(b64) => {
            use base64::Engine;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
                .filter(|d| d.len() == 16)
                .ok_or_else(|| {
                    s3err(
                        S3ErrorCode::InvalidDigest,
                        "The Content-MD5 you specified was invalid.",
                    )
                })?;
            Some(raw)
        }
        None => None,
    };
    let mut hasher = Md5::new();
    let mut len = 0u64;
    if let Some(mut body) = body {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| origin.failure(&e).into_s3_error())?;
            hasher.update(&chunk);
            len += chunk.len() as u64;
            sink.write_all(&chunk).await.map_err(uplink_error)?;
        }
    }
    if let Some(n) = content_length
        && n >= 0
        && n as u64 != len
    {
        return Err(s3err(
            S3ErrorCode::IncompleteBody,
            format!("the body had {len} bytes but Content-Length said {n}"),
        ));
    }
    let md5: [u8; 16] = hasher.finalize().into();
    if let Some(expected) = expected_md5
        && expected != md5
    {
        return Err(s3err(
            S3ErrorCode::BadDigest,
            "The Content-MD5 you specified did not match what we received.",
        ));
    }
    Ok(Written { len, md5 })
}
