//! The writer core shared by [`crate::Upload`] and [`crate::PartUpload`]:
//! `write` / `write_all` / `write_file` into a [`SegmentWriter`], the
//! "committed, aborted or failed earlier" state, and commit / abort / drop
//! around the pending stream the segments belong to (a [`PendingStream`]:
//! an object, or one part of a multipart upload).
//!
//! A failed write or commit stops the segment transfers, lets the stream
//! clean up once (an object upload aborts its pending object) and makes
//! every later call an `UploadDone` error.

use std::future::Future;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{Result, UplinkError};
use crate::segment_writer::SegmentWriter;

/// Bytes read from the input per write by [`StreamWriter::write_file`].
const FILE_BUFFER: usize = 256 * 1024;

/// The satellite-side stream a [`StreamWriter`] stores segments for, and
/// what committing, aborting, failing and dropping do to it.
pub(crate) trait PendingStream {
    /// What a commit returns.
    type Committed;
    /// The `UploadDone` message once the writer is committed or aborted.
    const DONE: &'static str;
    /// The `UploadDone` message (followed by ": <error>") after a failure.
    const FAILED: &'static str;

    /// Records the stream once `writer` stored its last segment
    /// (CommitObject, CommitPart).
    fn commit(
        &mut self,
        writer: &SegmentWriter,
    ) -> impl Future<Output = Result<Self::Committed>> + Send;

    /// Abandons the stream on request (transfers already stopped).
    fn abort(&mut self) -> impl Future<Output = Result<()>> + Send;

    /// Cleans up after the first failure (transfers already stopped).
    fn failed(&mut self) -> impl Future<Output = ()> + Send;

    /// Cleans up when dropped uncommitted, without waiting (transfers
    /// already stopped; not called after a failure).
    fn dropped(self);
}

/// A stream being written: `None` once committed or aborted.
pub(crate) struct StreamWriter<S: PendingStream> {
    open: Option<Open<S>>,
}

/// The state of a stream still open for writing.
pub(crate) struct Open<S> {
    /// The pending object or part.
    pub(crate) stream: S,
    /// Cuts the data into segments and stores them.
    pub(crate) writer: SegmentWriter,
    /// The first error, once a write or commit failed.
    failed: Option<UplinkError>,
}

impl<S: PendingStream> Open<S> {
    /// Records the failure, stops transfers and cleans the stream up once.
    async fn fail(&mut self, e: UplinkError) -> UplinkError {
        self.writer.stop();
        if self.failed.is_none() {
            self.stream.failed().await;
            self.failed = Some(e.clone());
        }
        e
    }
}

impl<S: PendingStream> StreamWriter<S> {
    /// Writes `stream`'s data through `writer`.
    pub(crate) fn new(stream: S, writer: SegmentWriter) -> Self {
        StreamWriter {
            open: Some(Open {
                stream,
                writer,
                failed: None,
            }),
        }
    }

    /// The open state (failed or not); `None` once committed or aborted.
    pub(crate) fn get(&self) -> Option<&Open<S>> {
        self.open.as_ref()
    }

    /// The open state, or `UploadDone` once committed, aborted or failed.
    pub(crate) fn open(&mut self) -> Result<&mut Open<S>> {
        let s = self
            .open
            .as_mut()
            .ok_or_else(|| UplinkError::UploadDone(S::DONE.into()))?;
        if let Some(e) = &s.failed {
            return Err(UplinkError::UploadDone(format!("{}: {e}", S::FAILED)));
        }
        Ok(s)
    }

    /// Writes all of `data`; returns `data.len()`. Segments fill and are
    /// stored as it goes, so this may wait for the network.
    pub(crate) async fn write(&mut self, data: &[u8]) -> Result<usize> {
        let s = self.open()?;
        match s.writer.write(data).await {
            Ok(()) => Ok(data.len()),
            Err(e) => Err(s.fail(e).await),
        }
    }

    /// Same as [`StreamWriter::write`], without the count.
    pub(crate) async fn write_all(&mut self, data: &[u8]) -> Result<()> {
        self.write(data).await.map(|_| ())
    }

    /// Streams `reader` until EOF; returns the bytes copied. A read error
    /// fails the stream like a write error.
    pub(crate) async fn write_file(&mut self, mut reader: impl AsyncRead + Unpin) -> Result<u64> {
        let mut buf = vec![0u8; FILE_BUFFER];
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) => {
                    let s = self.open()?;
                    return Err(s
                        .fail(UplinkError::InvalidArgument(format!("read input: {e}")))
                        .await);
                }
            };
            self.write(&buf[..n]).await?;
            total += n as u64;
        }
    }

    /// Stores the last segment and commits the stream; the writer is done
    /// either way (a failure cleans the stream up first).
    pub(crate) async fn commit(&mut self) -> Result<S::Committed> {
        let s = self.open()?;
        let r = match s.writer.finish().await {
            Ok(()) => s.stream.commit(&s.writer).await,
            Err(e) => Err(e),
        };
        let r = match r {
            Ok(c) => Ok(c),
            Err(e) => Err(s.fail(e).await),
        };
        self.open = None;
        r
    }

    /// Stops the transfers and abandons the stream (unless a failure
    /// already cleaned it up).
    pub(crate) async fn abort(&mut self) -> Result<()> {
        let mut s = self
            .open
            .take()
            .ok_or_else(|| UplinkError::UploadDone(S::DONE.into()))?;
        s.writer.stop();
        if s.failed.is_some() {
            return Ok(());
        }
        s.stream.abort().await
    }
}

impl<S: PendingStream> Drop for StreamWriter<S> {
    fn drop(&mut self) {
        let Some(mut s) = self.open.take() else {
            return;
        };
        s.writer.stop();
        if s.failed.is_some() {
            return;
        }
        s.stream.dropped();
    }
}
