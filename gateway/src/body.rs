//! Streaming request bodies into uplink writers and downloads out as
//! response bodies, hashing on the way; memory stays bounded by one chunk.

use bytes::Bytes;
use futures::StreamExt;
use md5::{Digest, Md5};
use s3s::dto::StreamingBlob;
use s3s::{S3ErrorCode, S3Result};
use uplink::{Download, UplinkError};

use crate::error::{s3err, uplink_error};

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

/// The S3 error for a body that failed mid-stream: a client that went
/// quiet is RequestTimeout, a bad aws-chunked chunk signature a signature
/// error, anything else an incomplete body.
fn body_error(e: s3s::StdError) -> s3s::S3Error {
    let text = format!("{e:?}");
    if crate::idle::is_idle_timeout(e.as_ref()) {
        s3err(
            S3ErrorCode::RequestTimeout,
            "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.",
        )
    } else if text.contains("SignatureMismatch") {
        s3err(
            S3ErrorCode::SignatureDoesNotMatch,
            "The chunk signature we calculated does not match the signature you provided.",
        )
    } else {
        s3err(
            S3ErrorCode::IncompleteBody,
            format!("reading the request body: {e}"),
        )
    }
}

/// What was written.
pub struct Written {
    /// Bytes written.
    pub len: u64,
    /// MD5 of them.
    pub md5: [u8; 16],
}

/// Copies `body` into `sink`, hashing it; checks the declared length and
/// Content-MD5 (base64) when given. The caller aborts the sink on error.
pub async fn drain<S: Sink>(
    body: Option<StreamingBlob>,
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
            let chunk = chunk.map_err(body_error)?;
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

/// A response body that hands the download's verified chunks to the
/// client without copying, reading a few chunks ahead (a task reads; the
/// body drains a small channel), and stops reading when the client goes
/// away.
pub fn download_body(mut download: Download) -> StreamingBlob {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        loop {
            match download.read_chunk().await {
                Ok(Some(chunk)) => {
                    if tx.send(Ok(chunk)).await.is_err() {
                        break; // the client went away
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "download failed mid-stream");
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            }
        }
        let _ = download.close().await;
    });
    StreamingBlob::wrap(tokio_stream::wrappers::ReceiverStream::new(rx))
}
