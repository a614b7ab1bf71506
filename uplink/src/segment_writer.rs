//! Cuts written plaintext into the segments of one stream (a whole object,
//! or one part of a multipart upload): buffers up to the inline limit, then
//! streams full segments to nodes through [`SegmentUpload`]; at
//! [`SegmentWriter::finish`] a short last segment goes inline to the
//! satellite. Used by [`crate::Upload`] and [`crate::PartUpload`] through
//! the shared writer core (`stream_writer`).
//!
//! Every segment gets a random content key wrapped with the key derived for
//! the object's path; the wrapped keys' nonces are kept
//! ([`SegmentWriter::key_nonces`]) so a part commit can name exactly the
//! segments it wrote.

use std::sync::Arc;

use satstore_proto::metainfo as pb;

use crate::encryption::{self, CIPHER_BLOCK, Key, PLAIN_BLOCK, TAG_SIZE};
use crate::error::{Result, UplinkError};
use crate::segment_upload::SegmentUpload;
use crate::session::Session;

/// Writes the segments of part `part` of one stream.
pub(crate) struct SegmentWriter {
    session: Arc<Session>,
    stream_id: Vec<u8>,
    /// Wraps the segments' content keys (derived from the object's path).
    content_key: Key,
    part: u32,
    segment_size: u64,
    inline_limit: u64,
    /// Plaintext start of the current segment while it may still end up inline.
    head: Vec<u8>,
    /// The current remote segment (and its wrapped key's nonce), once it
    /// outgrew the inline limit.
    segment: Option<(SegmentUpload, Vec<u8>)>,
    /// Index of the current segment.
    index: u32,
    written: u64,
    /// Wrapped-key nonce of every stored segment, by index.
    nonces: Vec<Vec<u8>>,
}

impl SegmentWriter {
    /// A writer for `stream_id` (a stream token) with the sizes the
    /// satellite announced; the segment size is the configured one, capped
    /// by `max_segment_size`.
    pub(crate) fn new(
        session: Arc<Session>,
        stream_id: Vec<u8>,
        content_key: Key,
        part: u32,
        max_segment_size: i64,
        max_inline_size: i64,
    ) -> Result<Self> {
        let max_segment = u64::try_from(max_segment_size).unwrap_or(0);
        if max_segment == 0 {
            return Err(UplinkError::Internal(
                "satellite sent a zero maximum segment size".into(),
            ));
        }
        let segment_size = session
            .config
            .segment_size
            .unwrap_or(max_segment)
            .clamp(1, max_segment);
        let max_inline = u64::try_from(max_inline_size).unwrap_or(0);
        let inline_limit = inline_plain_limit(max_inline).min(segment_size - 1);
        Ok(SegmentWriter {
            session,
            stream_id,
            content_key,
            part,
            segment_size,
            inline_limit,
            head: Vec::new(),
            segment: None,
            index: 0,
            written: 0,
            nonces: Vec::new(),
        })
    }

    /// Plaintext bytes written so far.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// The segment size in use.
    pub(crate) fn segment_size(&self) -> u64 {
        self.segment_size
    }

    /// Wrapped-key nonces of the segments stored so far, by index.
    pub(crate) fn key_nonces(&self) -> &[Vec<u8>] {
        &self.nonces
    }

    /// Cancels the current segment's transfers and drops buffered data.
    pub(crate) fn stop(&mut self) {
        self.segment = None;
        self.head = Vec::new();
    }

    /// Adds plaintext; full segments are stored as it goes, so this may
    /// wait for the network.
    pub(crate) async fn write(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            if let Some((seg, _)) = &mut self.segment {
                let room = (self.segment_size - seg.plain_size()) as usize;
                let n = room.min(data.len());
                seg.write(&data[..n]).await?;
                self.written += n as u64;
                data = &data[n..];
                self.finish_full_segment().await?;
            } else {
                let room = (self.inline_limit + 1) as usize - self.head.len();
                let n = room.min(data.len());
                self.head.extend_from_slice(&data[..n]);
                self.written += n as u64;
                data = &data[n..];
                if self.head.len() as u64 > self.inline_limit {
                    self.start_remote_segment().await?;
                    self.finish_full_segment().await?;
                }
            }
        }
        Ok(())
    }

    /// The head outgrew the inline limit: stream this segment to nodes.
    async fn start_remote_segment(&mut self) -> Result<()> {
        let p = &self.session;
        let segment_key = Key::random()?;
        let wrapped = encryption::wrap_key(&self.content_key, &segment_key)?;
        let nonce = wrapped.nonce.to_vec();
        let mut seg = SegmentUpload::begin(
            &p.metainfo,
            &p.satellite.id,
            &p.config,
            &p.dial_options(),
            &self.stream_id,
            self.part,
            self.index,
            self.segment_size,
            &segment_key,
            wrapped,
        )
        .await?;
        let head = std::mem::take(&mut self.head);
        seg.write(&head).await?;
        self.segment = Some((seg, nonce));
        Ok(())
    }

    async fn finish_full_segment(&mut self) -> Result<()> {
        if self
            .segment
            .as_ref()
            .is_some_and(|(s, _)| s.plain_size() == self.segment_size)
        {
            self.finish_remote().await?;
        }
        Ok(())
    }

    async fn finish_remote(&mut self) -> Result<()> {
        if let Some((seg, nonce)) = self.segment.take() {
            seg.finish(&self.session.metainfo).await?;
            self.nonces.push(nonce);
            self.index += 1;
        }
        Ok(())
    }

    /// Stores the last segment: the remote one in progress, or the buffered
    /// head inline. Writing nothing at all stores no segment.
    pub(crate) async fn finish(&mut self) -> Result<()> {
        if self.segment.is_some() {
            return self.finish_remote().await;
        }
        if self.head.is_empty() {
            return Ok(());
        }
        let data = std::mem::take(&mut self.head);
        let segment_key = Key::random()?;
        let wrapped = encryption::wrap_key(&self.content_key, &segment_key)?;
        let sealed = encryption::encrypt_segment(&segment_key, self.part, self.index, &data)?;
        self.session
            .metainfo
            .make_inline_segment(pb::MakeInlineSegmentRequest {
                header: None,
                stream_id: self.stream_id.clone(),
                position: Some(pb::SegmentPosition {
                    part: self.part,
                    index: self.index,
                }),
                encrypted_key: wrapped.encrypted_key,
                encrypted_key_nonce: wrapped.nonce.to_vec(),
                plain_size: data.len() as i64,
                encrypted_inline_data: sealed,
            })
            .await?;
        self.nonces.push(wrapped.nonce.to_vec());
        self.index += 1;
        Ok(())
    }
}

/// The largest plaintext whose sealed form fits `max_inline` bytes.
fn inline_plain_limit(max_inline: u64) -> u64 {
    let (blocks, rem) = (
        max_inline / CIPHER_BLOCK as u64,
        max_inline % CIPHER_BLOCK as u64,
    );
    blocks * PLAIN_BLOCK as u64 + rem.saturating_sub(TAG_SIZE as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_limit_leaves_room_for_tags() {
        for max in [0u64, 10, 16, 17, 4096, 65536, 65551, 65553, 200_000] {
            let n = inline_plain_limit(max);
            assert!(encryption::encrypted_size(n) <= max, "{max}");
            assert!(encryption::encrypted_size(n + 1) > max, "{max}");
        }
    }
}
