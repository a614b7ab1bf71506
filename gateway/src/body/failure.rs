//! Why a request body broke, by type. s3s hands an operation the body
//! decoded (aws-chunked, checksummed) with its errors boxed, and the error
//! types of its decoders are private to it; the raw body underneath is
//! the gateway's own. So the HTTP layer wraps each raw body in a
//! [`WatchedBody`], which records in a [`BodyWatch`] (put into the
//! request's extensions) what went wrong with the bytes themselves: the
//! client went quiet, or the connection broke. When the decoded body fails
//! while the bytes underneath arrived intact, s3s's decoder refused them:
//! for a body with signed chunks (SigV4 streaming) that is a chunk whose
//! signature does not verify, or a frame too malformed to verify.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Extensions, HeaderMap};
use http_body::{Body, Frame, SizeHint};
use s3s::{S3Error, S3ErrorCode, StdError};

use crate::idle::is_idle_timeout;
use crate::s3error::codes::wording;
use crate::s3error::s3err;

/// What went wrong with the raw bytes of a request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawFailure {
    /// The client sent nothing for too long ([`crate::idle`]).
    IdleTimeout,
    /// The connection or its framing broke.
    Broken,
}

/// The first [`RawFailure`] of one request body, shared between the
/// [`WatchedBody`] that reads the bytes and the operation that reads
/// them decoded. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct BodyWatch(Arc<OnceLock<RawFailure>>);

impl BodyWatch {
    /// A watch with nothing recorded.
    pub fn new() -> BodyWatch {
        BodyWatch::default()
    }

    /// Records `failure` unless one was recorded already.
    pub fn record(&self, failure: RawFailure) {
        let _ = self.0.set(failure);
    }

    /// What was recorded, if anything.
    pub fn failure(&self) -> Option<RawFailure> {
        self.0.get().copied()
    }
}

/// A raw request body that records its errors in a [`BodyWatch`].
pub struct WatchedBody<B> {
    inner: B,
    watch: BodyWatch,
}

impl<B> WatchedBody<B> {
    /// Wraps `inner`, recording into `watch`.
    pub fn new(inner: B, watch: BodyWatch) -> Self {
        WatchedBody { inner, watch }
    }
}

impl<B> Body for WatchedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<StdError>,
{
    type Data = Bytes;
    type Error = StdError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Err(e))) => {
                let e: StdError = e.into();
                this.watch.record(if is_idle_timeout(e.as_ref()) {
                    RawFailure::IdleTimeout
                } else {
                    RawFailure::Broken
                });
                Poll::Ready(Some(Err(e)))
            }
            other => other.map(|f| f.map(|f| f.map_err(Into::into))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Where a body being drained comes from.
#[derive(Clone, Debug, Default)]
pub struct BodyOrigin {
    /// The raw body's watch, for a request body the HTTP layer watched.
    watch: Option<BodyWatch>,
    /// Whether s3s verifies a signature on each chunk of it.
    signed_chunks: bool,
}

/// `x-amz-content-sha256` of a payload sent in aws-chunked frames
/// without chunk signatures; every other `STREAMING-` value signs them.
const UNSIGNED_STREAMING: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

impl BodyOrigin {
    /// A request's body: the watch the HTTP layer put into its
    /// extensions, and whether its payload has signed chunks (its
    /// `x-amz-content-sha256` says `STREAMING-AWS4-...`).
    pub fn request(headers: &HeaderMap, extensions: &Extensions) -> BodyOrigin {
        let signed_chunks = headers
            .get("x-amz-content-sha256")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("STREAMING-") && v != UNSIGNED_STREAMING);
        BodyOrigin {
            watch: extensions.get::<BodyWatch>().cloned(),
            signed_chunks,
        }
    }

    /// A body the gateway streams itself (the source of a copy).
    pub fn internal() -> BodyOrigin {
        BodyOrigin::default()
    }

    /// Why the body broke with `e`.
    pub fn failure(&self, e: &StdError) -> BodyFailure {
        match self.watch.as_ref().and_then(BodyWatch::failure) {
            Some(RawFailure::IdleTimeout) => BodyFailure::IdleTimeout,
            Some(RawFailure::Broken) => BodyFailure::Broken(e.to_string()),
            None if is_idle_timeout(e.as_ref()) => BodyFailure::IdleTimeout,
            None if self.signed_chunks && self.watch.is_some() => BodyFailure::ChunkSignature,
            None => BodyFailure::Broken(e.to_string()),
        }
    }
}

/// Why a request body broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyFailure {
    /// The client went quiet in the middle of it.
    IdleTimeout,
    /// Its bytes arrived, but a chunk's signature did not verify.
    ChunkSignature,
    /// It ended early or broke otherwise (the error's text).
    Broken(String),
}

impl BodyFailure {
    /// The S3 error clients get for it.
    pub fn into_s3_error(self) -> S3Error {
        match self {
            BodyFailure::IdleTimeout => {
                s3err(S3ErrorCode::RequestTimeout, wording::REQUEST_TIMEOUT)
            }
            BodyFailure::ChunkSignature => s3err(
                S3ErrorCode::SignatureDoesNotMatch,
                wording::CHUNK_SIGNATURE_DOES_NOT_MATCH,
            ),
            BodyFailure::Broken(why) => s3err(
                S3ErrorCode::IncompleteBody,
                format!("reading the request body: {why}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::{HeaderValue, StatusCode};
    use http_body_util::{BodyExt, StreamBody};

    use super::*;
    use crate::idle::{BodyIdleTimeout, IdleTimeoutBody};

    const SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

    fn origin(sha256: &str, watch: &BodyWatch) -> BodyOrigin {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amz-content-sha256",
            HeaderValue::from_str(sha256).unwrap(),
        );
        let mut ext = Extensions::new();
        ext.insert(watch.clone());
        BodyOrigin::request(&headers, &ext)
    }

    /// What a decoder above the raw body hands over: an error of its own.
    fn decoder_error() -> StdError {
        Box::new(std::io::Error::other("decoder refused the body"))
    }

    #[test]
    fn payload_modes_are_read_from_the_content_sha256_header() {
        let w = BodyWatch::new();
        for (value, signed) in [
            (SIGNED, true),
            ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", true),
            (UNSIGNED_STREAMING, false),
            ("UNSIGNED-PAYLOAD", false),
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                false,
            ),
        ] {
            assert_eq!(origin(value, &w).signed_chunks, signed, "{value}");
        }
        let bare = BodyOrigin::request(&HeaderMap::new(), &Extensions::new());
        assert!(!bare.signed_chunks && bare.watch.is_none());
    }

    #[test]
    fn intact_bytes_refused_by_the_chunk_decoder_are_a_chunk_signature_failure() {
        let w = BodyWatch::new();
        let f = origin(SIGNED, &w).failure(&decoder_error());
        assert_eq!(f, BodyFailure::ChunkSignature);
        let e = f.into_s3_error();
        assert_eq!(*e.code(), S3ErrorCode::SignatureDoesNotMatch);
        assert_eq!(e.status_code(), Some(StatusCode::FORBIDDEN));
        // Without signed chunks the decoder's refusal is a broken body.
        let f = origin(UNSIGNED_STREAMING, &w).failure(&decoder_error());
        assert_eq!(
            f,
            BodyFailure::Broken("decoder refused the body".to_string())
        );
        assert_eq!(*f.into_s3_error().code(), S3ErrorCode::IncompleteBody);
    }

    #[test]
    fn raw_failures_decide_over_what_the_decoder_says() {
        let w = BodyWatch::new();
        w.record(RawFailure::IdleTimeout);
        w.record(RawFailure::Broken); // the first one stays
        assert_eq!(w.failure(), Some(RawFailure::IdleTimeout));
        let f = origin(SIGNED, &w).failure(&decoder_error());
        assert_eq!(f, BodyFailure::IdleTimeout);
        let e = f.into_s3_error();
        assert_eq!(*e.code(), S3ErrorCode::RequestTimeout);
        let w = BodyWatch::new();
        w.record(RawFailure::Broken);
        let f = origin(SIGNED, &w).failure(&decoder_error());
        assert!(matches!(f, BodyFailure::Broken(_)), "{f:?}");
    }

    #[test]
    fn bodies_the_gateway_streams_itself_are_judged_by_their_error() {
        let o = BodyOrigin::internal();
        let idle: StdError = Box::new(BodyIdleTimeout {
            after: Duration::from_secs(1),
        });
        assert_eq!(o.failure(&idle), BodyFailure::IdleTimeout);
        assert_eq!(
            o.failure(&decoder_error()),
            BodyFailure::Broken("decoder refused the body".to_string())
        );
    }

    #[tokio::test]
    async fn a_watched_body_records_a_quiet_client_and_a_broken_one() {
        // Quiet: one frame, then nothing with the sender still there.
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
        tx.send(Ok(Frame::data(Bytes::from_static(b"x"))))
            .await
            .unwrap();
        let watch = BodyWatch::new();
        let mut body = WatchedBody::new(
            IdleTimeoutBody::new(
                StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx)),
                Duration::from_millis(50),
            ),
            watch.clone(),
        );
        assert!(body.frame().await.unwrap().is_ok());
        assert_eq!(watch.failure(), None);
        let err = body.frame().await.unwrap().unwrap_err();
        assert_eq!(watch.failure(), Some(RawFailure::IdleTimeout));
        assert!(is_idle_timeout(err.as_ref()));
        drop(tx);

        // Broken: the stream yields an error.
        let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
            Ok(Frame::data(Bytes::from_static(b"x"))),
            Err(std::io::Error::other("connection reset")),
        ];
        let watch = BodyWatch::new();
        let mut body = WatchedBody::new(
            StreamBody::new(futures::stream::iter(frames)),
            watch.clone(),
        );
        assert!(body.frame().await.unwrap().is_ok());
        assert!(body.frame().await.unwrap().is_err());
        assert_eq!(watch.failure(), Some(RawFailure::Broken));
        let f = BodyOrigin {
            watch: Some(watch),
            signed_chunks: true,
        }
        .failure(&decoder_error());
        assert!(matches!(f, BodyFailure::Broken(_)), "{f:?}");
    }
}
