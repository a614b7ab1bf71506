//! Streaming object download: DownloadObject for the segments overlapping
//! the range, then one segment after another (DownloadSegment + pieces)
//! in a background task feeding a bounded channel that [`Download::read`]
//! drains. Memory does not grow with the object size.
//!
//! Decryption: the object's metadata (authenticated) gives its plain size;
//! every segment's sizes are checked against it before any data is read,
//! each segment's content key is unwrapped with the key derived for the
//! object's path, and the plaintext range maps to whole cipher blocks
//! (`encryption::block_range`) that `decrypt::DecryptSink` opens.

use std::sync::Arc;

use bytes::{Buf, Bytes};
use satstore_proto::metainfo as pb;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::codec;
use crate::decrypt::{DecryptSink, Output, ReaderGone};
use crate::dial::AbortOnDrop;
use crate::encryption::{self, Key, ObjectMetadata, SegmentDecrypter};
use crate::error::{Result, UplinkError};
use crate::object::{DownloadOptions, Object};
use crate::ranges;
use crate::segment_download;
use crate::session::Session;

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
        session: Arc<Session>,
        bucket: &str,
        key: &str,
        opts: &DownloadOptions,
    ) -> Result<Self> {
        let store = &session.encryption;
        let resp = session
            .metainfo
            .download_object(pb::DownloadObjectRequest {
                header: None,
                bucket: bucket.to_string(),
                encrypted_key: codec::encrypt_key(store, bucket, key)?,
                // Every segment: their sizes are checked against the metadata.
                range_start: 0,
                range_end: 0,
            })
            .await?;
        let info = resp
            .object
            .ok_or_else(|| UplinkError::Internal("satellite sent no object information".into()))?;
        let meta = codec::info_metadata(store, bucket, key, &info)?
            .ok_or_else(|| tampered("the object has no metadata"))?;
        let object = Object::from_pb(key.to_string(), &info, Some(&meta));
        check_segments(&meta, &resp.segments)?;
        let content_key = encryption::content_key(store, bucket, key)?;
        let size = meta.plain_size;
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
                let r = drive(
                    &session,
                    &stream_id,
                    &content_key,
                    segments,
                    start,
                    end,
                    &tx,
                )
                .await;
                if let Err(e) = r {
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

    /// The next verified, decrypted piece of the range as it arrives,
    /// without copying; `None` at the end. Mixes freely with
    /// [`Download::read`].
    pub async fn read_chunk(&mut self) -> Result<Option<Bytes>> {
        if !self.current.is_empty() {
            return Ok(Some(std::mem::take(&mut self.current)));
        }
        self.next_chunk().await
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

fn tampered(what: impl std::fmt::Display) -> UplinkError {
    UplinkError::Internal(format!(
        "object data is corrupt or was tampered with: {what}"
    ))
}

/// Checks the satellite's segment list against the authenticated metadata:
/// contiguous plain offsets from 0, encrypted sizes matching plain sizes,
/// no segment above the segment size, total equal to the plain size.
fn check_segments(meta: &ObjectMetadata, segments: &[pb::SegmentInfo]) -> Result<()> {
    let mut offset = 0u64;
    for s in segments {
        let plain = u64::try_from(s.plain_size).map_err(|_| tampered("negative segment size"))?;
        let enc = u64::try_from(s.encrypted_size).map_err(|_| tampered("negative segment size"))?;
        if s.plain_offset != offset as i64 {
            return Err(tampered(format!(
                "segment at plain offset {} where {offset} was expected",
                s.plain_offset
            )));
        }
        if enc != encryption::encrypted_size(plain) {
            return Err(tampered(format!(
                "segment of {plain} plain bytes has {enc} encrypted bytes"
            )));
        }
        if meta.segment_size > 0 && plain > meta.segment_size {
            return Err(tampered(format!(
                "segment of {plain} bytes exceeds the segment size {}",
                meta.segment_size
            )));
        }
        offset += plain;
    }
    if offset != meta.plain_size {
        return Err(tampered(format!(
            "segments hold {offset} bytes, the object has {}",
            meta.plain_size
        )));
    }
    Ok(())
}

async fn drive(
    session: &Session,
    stream_id: &[u8],
    content_key: &Key,
    segments: Vec<pb::SegmentInfo>,
    start: u64,
    end: u64,
    out: &Output,
) -> Result<()> {
    for seg in segments {
        let offset = seg.plain_offset as u64;
        let plain_size = seg.plain_size as u64;
        let seg_start = start.max(offset) - offset;
        let seg_end = end.min(offset + plain_size) - offset;
        let resp = session
            .metainfo
            .download_segment(pb::DownloadSegmentRequest {
                header: None,
                stream_id: stream_id.to_vec(),
                position: seg.position,
            })
            .await?;
        if let Some(s) = &resp.segment
            && (s.plain_size != seg.plain_size || s.encrypted_size != seg.encrypted_size)
        {
            return Err(tampered("segment sizes changed between requests"));
        }
        let encrypted_size = seg.encrypted_size as u64;
        let index = seg.position.map_or(0, |p| p.index);
        let part = seg.position.map_or(0, |p| p.part);
        let segment_key =
            encryption::unwrap_key(content_key, &resp.encrypted_key, &resp.encrypted_key_nonce)
                .map_err(|e| tampered(format!("segment key: {e}")))?;
        let range = encryption::block_range(plain_size, seg_start, seg_end)?;
        let mut sink = DecryptSink::new(
            out,
            SegmentDecrypter::new(&segment_key, part, index),
            &range,
        );
        match segment_download::download_segment(
            session,
            resp,
            encrypted_size,
            range.cipher_start,
            range.cipher_end,
            &mut sink,
        )
        .await?
        {
            Ok(()) => sink.finish()?,
            Err(ReaderGone) => return Ok(()),
        }
    }
    Ok(())
}
