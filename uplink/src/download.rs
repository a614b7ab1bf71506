//! Streaming object download: DownloadObject for the segments overlapping
//! the range, then one segment after another (DownloadSegment + pieces)
//! in a background task feeding a bounded channel that [`Download::read`]
//! drains. Memory does not grow with the object size.

use std::sync::Arc;

use bytes::{Buf, Bytes};
use satstore_proto::metainfo as pb;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::codec;
use crate::dial::AbortOnDrop;
use crate::error::{Result, UplinkError};
use crate::object::{DownloadOptions, Object};
use crate::project::ProjectInner;
use crate::ranges;
use crate::segment_download::{self, ReaderGone};

/// Decoded chunks buffered between the download task and the reader.
const CHANNEL_DEPTH: usize = 4;

/// An object download in progress: read it with [`Download::read`] or
/// [`Download::read_file`]. Every byte returned was verified against the
/// hashes signed at upload.
pub struct Download {
    object: Object,
    rx: mpsc::Receiver<Result<Bytes>>,
    current: Bytes,
    remaining: u64,
    done: bool,
    _task: AbortOnDrop<()>,
}

impl Download {
    pub(crate) async fn begin(
        project: Arc<ProjectInner>,
        bucket: &str,
        key: &str,
        opts: &DownloadOptions,
    ) -> Result<Self> {
        let resp = project
            .metainfo
            .download_object(pb::DownloadObjectRequest {
                header: None,
                bucket: bucket.to_string(),
                encrypted_key: codec::encode_key(bucket, key),
                range_start: opts.offset.max(0),
                range_end: if opts.offset >= 0 && opts.length > 0 {
                    opts.offset.saturating_add(opts.length)
                } else {
                    0
                },
            })
            .await?;
        let info = resp
            .object
            .ok_or_else(|| UplinkError::Internal("satellite sent no object information".into()))?;
        let object = Object::from_pb(key.to_string(), &info)?;
        let size = u64::try_from(info.plain_size).unwrap_or(0);
        let (start, end) =
            ranges::object_range(size, opts.offset, opts.length).ok_or_else(|| {
                UplinkError::InvalidArgument(format!(
                    "offset {} is beyond the object size {size}",
                    opts.offset
                ))
            })?;
        let segments: Vec<pb::SegmentInfo> = resp
            .segments
            .into_iter()
            .filter(|s| {
                let (a, b) = (
                    s.plain_offset as u64,
                    (s.plain_offset + s.plain_size) as u64,
                );
                a < end && b > start
            })
            .collect();
        let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
        let span = tracing::debug_span!("download", bucket);
        let stream_id = info.stream_id;
        let task = AbortOnDrop::spawn(
            async move {
                if let Err(e) = drive(&project, &stream_id, segments, start, end, &tx).await {
                    let _ = tx.send(Err(e)).await;
                }
            }
            .instrument(span),
        );
        Ok(Download {
            object,
            rx,
            current: Bytes::new(),
            remaining: end - start,
            done: false,
            _task: task,
        })
    }

    /// Reads up to `buf.len()` bytes; 0 means the end of the range.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.current.is_empty() {
                let n = buf.len().min(self.current.len());
                buf[..n].copy_from_slice(&self.current[..n]);
                self.current.advance(n);
                return Ok(n);
            }
            match self.next_chunk().await? {
                Some(b) => self.current = b,
                None => return Ok(0),
            }
        }
    }

    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        if self.done {
            return Ok(None);
        }
        match self.rx.recv().await {
            Some(Ok(b)) => {
                if b.len() as u64 > self.remaining {
                    self.done = true;
                    return Err(UplinkError::Internal(
                        "download produced more bytes than requested".into(),
                    ));
                }
                self.remaining -= b.len() as u64;
                Ok(Some(b))
            }
            Some(Err(e)) => {
                self.done = true;
                Err(e)
            }
            None => {
                self.done = true;
                if self.remaining > 0 {
                    return Err(UplinkError::Internal(format!(
                        "download ended {} bytes early",
                        self.remaining
                    )));
                }
                Ok(None)
            }
        }
    }

    /// Copies the rest of the download into `writer`; returns the bytes copied.
    pub async fn read_file(&mut self, mut writer: impl AsyncWrite + Unpin) -> Result<u64> {
        let mut total = 0u64;
        let write_err =
            |e: std::io::Error| UplinkError::InvalidArgument(format!("write output: {e}"));
        if !self.current.is_empty() {
            let b = std::mem::take(&mut self.current);
            writer.write_all(&b).await.map_err(write_err)?;
            total += b.len() as u64;
        }
        while let Some(b) = self.next_chunk().await? {
            writer.write_all(&b).await.map_err(write_err)?;
            total += b.len() as u64;
        }
        writer.flush().await.map_err(write_err)?;
        Ok(total)
    }

    /// The object being downloaded.
    pub fn info(&self) -> &Object {
        &self.object
    }

    /// Stops the download and releases its connections.
    pub async fn close(self) -> Result<()> {
        Ok(())
    }
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Download({}, {} bytes left)",
            self.object.key, self.remaining
        )
    }
}

async fn drive(
    project: &ProjectInner,
    stream_id: &[u8],
    segments: Vec<pb::SegmentInfo>,
    start: u64,
    end: u64,
    out: &segment_download::Output,
) -> Result<()> {
    for seg in segments {
        let offset = seg.plain_offset as u64;
        let seg_start = start.max(offset) - offset;
        let seg_end = end.min(offset + seg.plain_size as u64) - offset;
        let resp = project
            .metainfo
            .download_segment(pb::DownloadSegmentRequest {
                header: None,
                stream_id: stream_id.to_vec(),
                position: seg.position,
            })
            .await?;
        let encrypted_size = resp
            .segment
            .as_ref()
            .map(|s| s.encrypted_size)
            .filter(|s| *s > 0)
            .unwrap_or(seg.encrypted_size);
        let encrypted_size = u64::try_from(encrypted_size).unwrap_or(0);
        if seg_end > encrypted_size && !resp.limits.is_empty() {
            return Err(UplinkError::Internal(format!(
                "segment holds {encrypted_size} bytes, range needs {seg_end}"
            )));
        }
        match segment_download::download_segment(
            project,
            resp,
            encrypted_size,
            seg_start,
            seg_end,
            out,
        )
        .await?
        {
            Ok(()) => {}
            Err(ReaderGone) => return Ok(()),
        }
    }
    Ok(())
}
