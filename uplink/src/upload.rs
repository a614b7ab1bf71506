//! Streaming object upload: BeginObject, then the written bytes go through
//! a `segment_writer::SegmentWriter` (which cuts them into segments, stores
//! a short last segment inline at the satellite and streams the others to
//! nodes through `segment_upload`), then CommitObject. Memory stays bounded by one
//! batch per segment plus the piece channels, whatever the object size.
//!
//! Encryption: the object key is encrypted per component; every segment
//! gets a random content key, wrapped with the key derived for the object's
//! path and sent with the segment; segment data is sealed in 64 KiB blocks
//! (`SegmentUpload` for remote segments, `encrypt_segment` inline); the
//! metadata (custom, content type, sizes) is encrypted at commit.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use satstore_proto::metainfo as pb;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::codec;
use crate::encryption::{self, CIPHER_BLOCK};
use crate::error::{Result, UplinkError};
use crate::object::{Object, SystemMetadata};
use crate::project::ProjectInner;
use crate::segment_writer::SegmentWriter;

/// An object upload in progress. Write the data, then [`Upload::commit`].
/// Dropping it without committing aborts the upload in the background.
pub struct Upload {
    inner: Option<UploadState>,
}

struct UploadState {
    project: Arc<ProjectInner>,
    bucket: String,
    key: String,
    stream_id: Vec<u8>,
    /// Cuts the data into segments and stores them.
    writer: SegmentWriter,
    expires: Option<SystemTime>,
    created: SystemTime,
    custom: BTreeMap<String, String>,
    failed: Option<UplinkError>,
}

impl Upload {
    /// Begins the object (BeginObject) and returns the writer.
    pub(crate) async fn begin(
        project: Arc<ProjectInner>,
        bucket: &str,
        key: &str,
        expires: Option<SystemTime>,
    ) -> Result<Self> {
        let store = &project.access.encryption;
        let encrypted_key = codec::encrypt_key(store, bucket, key)?;
        let content_key = encryption::content_key(store, bucket, key)?;
        let resp = project
            .metainfo
            .begin_object(pb::BeginObjectRequest {
                header: None,
                bucket: bucket.to_string(),
                encrypted_key,
                expires_at_unix: crate::convert::time_to_unix(expires),
                encryption: Some(pb::EncryptionParameters {
                    cipher_suite: 2, // AES-256-GCM
                    block_size: CIPHER_BLOCK as u32,
                }),
            })
            .await?;
        let writer = SegmentWriter::new(
            project.clone(),
            resp.stream_id.clone(),
            content_key,
            0,
            resp.max_segment_size,
            resp.max_inline_size,
        )?;
        tracing::debug!(
            bucket,
            segment_size = writer.segment_size(),
            "upload started"
        );
        Ok(Upload {
            inner: Some(UploadState {
                project,
                bucket: bucket.to_string(),
                key: key.to_string(),
                stream_id: resp.stream_id,
                writer,
                expires,
                created: SystemTime::now(),
                custom: BTreeMap::new(),
                failed: None,
            }),
        })
    }

    fn state(&mut self) -> Result<&mut UploadState> {
        let s = self
            .inner
            .as_mut()
            .ok_or_else(|| UplinkError::UploadDone("upload already committed or aborted".into()))?;
        if let Some(e) = &s.failed {
            return Err(UplinkError::UploadDone(format!(
                "upload failed earlier and was aborted: {e}"
            )));
        }
        Ok(s)
    }

    /// Writes all of `data`; returns `data.len()`. Segments fill and are
    /// stored as it goes, so this may wait for the network.
    pub async fn write(&mut self, data: &[u8]) -> Result<usize> {
        let s = self.state()?;
        match s.write(data).await {
            Ok(()) => Ok(data.len()),
            Err(e) => Err(s.fail(e).await),
        }
    }

    /// Same as [`Upload::write`] (kept for symmetry with `std::io::Write`).
    pub async fn write_all(&mut self, data: &[u8]) -> Result<()> {
        self.write(data).await.map(|_| ())
    }

    /// Streams `reader` to the object until EOF; returns the bytes copied.
    /// Does not commit.
    pub async fn write_file(&mut self, mut reader: impl AsyncRead + Unpin) -> Result<u64> {
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) => {
                    let s = self.state()?;
                    return Err(s
                        .fail(UplinkError::InvalidArgument(format!("read input: {e}")))
                        .await);
                }
            };
            self.write(&buf[..n]).await?;
            total += n as u64;
        }
    }

    /// Sets the custom metadata stored (encrypted) at commit, replacing
    /// earlier values; "content-type" is kept as the content type. At most
    /// 2 KiB of keys and values, else `InvalidArgument`.
    pub fn set_custom_metadata(&mut self, custom: BTreeMap<String, String>) -> Result<()> {
        let s = self.state()?;
        codec::check_custom(&custom)?;
        s.custom = custom;
        Ok(())
    }

    /// What is known about the object so far.
    pub fn info(&self) -> Object {
        match &self.inner {
            Some(s) => s.info(),
            None => Object {
                key: String::new(),
                is_prefix: false,
                system: SystemMetadata {
                    created: SystemTime::UNIX_EPOCH,
                    expires: None,
                    content_length: 0,
                },
                custom: BTreeMap::new(),
            },
        }
    }

    /// Stores the last segment and makes the object visible.
    pub async fn commit(mut self) -> Result<Object> {
        let s = self.state()?;
        match s.commit().await {
            Ok(o) => {
                self.inner = None;
                Ok(o)
            }
            Err(e) => {
                let e = s.fail(e).await;
                self.inner = None;
                Err(e)
            }
        }
    }

    /// Abandons the upload: stops piece transfers and deletes the pending object.
    pub async fn abort(mut self) -> Result<()> {
        let mut s = self
            .inner
            .take()
            .ok_or_else(|| UplinkError::UploadDone("upload already committed or aborted".into()))?;
        s.writer.stop();
        if s.failed.is_some() {
            return Ok(()); // already aborted when it failed
        }
        s.abort_object().await
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        let Some(mut s) = self.inner.take() else {
            return;
        };
        s.writer.stop();
        if s.failed.is_some() {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = s.abort_object().await {
                    tracing::warn!(bucket = %s.bucket, error = %e, "abort of dropped upload failed");
                }
            });
        }
    }
}

impl UploadState {
    fn info(&self) -> Object {
        Object {
            key: self.key.clone(),
            is_prefix: false,
            system: SystemMetadata {
                created: self.created,
                expires: self.expires,
                content_length: self.writer.written() as i64,
            },
            custom: self.custom.clone(),
        }
    }

    async fn write(&mut self, data: &[u8]) -> Result<()> {
        self.writer.write(data).await
    }

    async fn commit(&mut self) -> Result<Object> {
        self.writer.finish().await?;
        let m = &self.project.metainfo;
        // A 0-byte object has no segment at all.
        let meta = codec::object_metadata(
            &self.custom,
            self.writer.written(),
            self.writer.segment_size(),
        );
        let enc = codec::encrypt_metadata(
            &self.project.access.encryption,
            &self.bucket,
            &self.key,
            &meta,
        )?;
        let resp = m
            .commit_object(pb::CommitObjectRequest {
                header: None,
                stream_id: self.stream_id.clone(),
                encrypted_metadata: enc.encrypted_metadata,
                encrypted_metadata_nonce: enc.encrypted_metadata_nonce,
                encrypted_metadata_key: enc.encrypted_metadata_key,
            })
            .await?;
        match resp.object {
            Some(o) => Ok(Object::from_pb(self.key.clone(), &o, Some(&meta))),
            None => Ok(self.info()),
        }
    }

    /// Records the failure, stops transfers and aborts the pending object.
    async fn fail(&mut self, e: UplinkError) -> UplinkError {
        self.writer.stop();
        if self.failed.is_none() {
            if let Err(abort_err) = self.abort_object().await {
                tracing::debug!(bucket = %self.bucket, error = %abort_err, "abort after failed upload");
            }
            self.failed = Some(e.clone());
        }
        e
    }

    async fn abort_object(&self) -> Result<()> {
        self.project
            .metainfo
            .abort_object(pb::AbortObjectRequest {
                header: None,
                stream_id: self.stream_id.clone(),
            })
            .await
            .map(|_| ())
    }
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Some(s) => write!(
                f,
                "Upload({}/{}, {} bytes)",
                s.bucket,
                s.key,
                s.writer.written()
            ),
            None => write!(f, "Upload(done)"),
        }
    }
}
