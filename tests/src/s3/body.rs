//! Request bodies for the S3 client: in-memory, streamed, and `aws-chunked`
//! (re-chunked to a fixed size and signed chunk by chunk).

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt, stream};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::Frame;

use super::sigv4::ChunkSigner;

/// Error type of request bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body type every request of the client carries.
pub type S3Body = UnsyncBoxBody<Bytes, BoxError>;

/// An empty body.
pub fn empty_body() -> S3Body {
    Empty::<Bytes>::new().map_err(|e| match e {}).boxed_unsync()
}

/// A body of the given bytes.
pub fn full_body(data: impl Into<Bytes>) -> S3Body {
    Full::new(data.into())
        .map_err(|e| match e {})
        .boxed_unsync()
}

/// A body streamed from `chunks` as they come.
pub fn stream_body<S>(chunks: S) -> S3Body
where
    S: Stream<Item = Bytes> + Send + 'static,
{
    StreamBody::new(chunks.map(|b| Ok::<_, BoxError>(Frame::data(b)))).boxed_unsync()
}

struct ChunkState<S> {
    input: S,
    buf: BytesMut,
    signer: ChunkSigner,
    chunk_size: usize,
    input_done: bool,
    finished: bool,
}

/// The `aws-chunked` encoding of `input`: chunks of exactly `chunk_size`
/// bytes (the last may be shorter) each framed with its chained signature,
/// then the signed final 0-length chunk.
pub fn aws_chunked_body<S>(input: S, signer: ChunkSigner, chunk_size: usize) -> S3Body
where
    S: Stream<Item = Bytes> + Send + Unpin + 'static,
{
    let state = ChunkState {
        input,
        buf: BytesMut::new(),
        signer,
        chunk_size: chunk_size.max(1),
        input_done: false,
        finished: false,
    };
    let frames = stream::unfold(state, |mut st| async move {
        loop {
            if st.finished {
                return None;
            }
            if st.buf.len() >= st.chunk_size {
                let chunk = st.buf.split_to(st.chunk_size);
                let frame = st.signer.frame(&chunk);
                return Some((Ok::<_, BoxError>(Frame::data(frame)), st));
            }
            if st.input_done {
                let frame = if st.buf.is_empty() {
                    st.finished = true;
                    st.signer.frame(&[])
                } else {
                    let chunk = st.buf.split();
                    st.signer.frame(&chunk)
                };
                return Some((Ok(Frame::data(frame)), st));
            }
            match st.input.next().await {
                Some(b) => st.buf.extend_from_slice(&b),
                None => st.input_done = true,
            }
        }
    });
    StreamBody::new(frames).boxed_unsync()
}
