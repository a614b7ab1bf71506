//! Streaming object upload: BeginObject, then the written bytes go through
//! the writer core shared with multipart parts (`stream_writer`) into a
//! `segment_writer::SegmentWriter` (which cuts them into segments, stores
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
use tokio::io::AsyncRead;

use crate::codec;
use crate::convert::time_to_unix;
use crate::encryption::{self, CIPHER_BLOCK};
use crate::error::Result;
use crate::object::{Object, SystemMetadata};
use crate::segment_writer::SegmentWriter;
use crate::session::Session;
use crate::stream_writer::{PendingStream, StreamWriter};

/// An object upload in progress. Write the data, then [`Upload::commit`].
/// Dropping it without committing aborts the upload in the background.
pub struct Upload {
    core: StreamWriter<ObjectStream>,
}

/// The pending object an [`Upload`] writes.
struct ObjectStream {
    session: Arc<Session>,
    bucket: String,
    key: String,
    stream_id: Vec<u8>,
    expires: Option<SystemTime>,
    created: SystemTime,
    custom: BTreeMap<String, String>,
}

impl Upload {
    /// Begins the object (BeginObject) and returns the writer.
    pub(crate) async fn begin(
        session: Arc<Session>,
        bucket: &str,
        key: &str,
        expires: Option<SystemTime>,
    ) -> Result<Self> {
        let store = &session.encryption;
        let encrypted_key = codec::encrypt_key(store, bucket, key)?;
        let content_key = encryption::content_key(store, bucket, key)?;
        let resp = session
            .metainfo
            .begin_object(pb::BeginObjectRequest {
                header: None,
                bucket: bucket.to_string(),
                encrypted_key,
                expires_at_unix: time_to_unix(expires),
                encryption: Some(pb::EncryptionParameters {
                    cipher_suite: 2, // AES-256-GCM
                    block_size: CIPHER_BLOCK as u32,
                }),
            })
            .await?;
        let writer = SegmentWriter::new(
            session.clone(),
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
        let stream = ObjectStream {
            session,
            bucket: bucket.to_string(),
            key: key.to_string(),
            stream_id: resp.stream_id,
            expires,
            created: SystemTime::now(),
            custom: BTreeMap::new(),
        };
        Ok(Upload {
            core: StreamWriter::new(stream, writer),
        })
    }

    /// Writes all of `data`; returns `data.len()`. Segments fill and are
    /// stored as it goes, so this may wait for the network.
    pub async fn write(&mut self, data: &[u8]) -> Result<usize> {
        self.core.write(data).await
    }

    /// Same as [`Upload::write`] (kept for symmetry with `std::io::Write`).
    pub async fn write_all(&mut self, data: &[u8]) -> Result<()> {
        self.core.write_all(data).await
    }

    /// Streams `reader` to the object until EOF; returns the bytes copied.
    /// Does not commit.
    pub async fn write_file(&mut self, reader: impl AsyncRead + Unpin) -> Result<u64> {
        self.core.write_file(reader).await
    }

    /// Sets the custom metadata stored (encrypted) at commit, replacing
    /// earlier values; "content-type" is kept as the content type. At most
    /// 2 KiB of keys and values, else `InvalidArgument`.
    pub fn set_custom_metadata(&mut self, custom: BTreeMap<String, String>) -> Result<()> {
        let s = self.core.open()?;
        codec::check_custom(&custom)?;
        s.stream.custom = custom;
        Ok(())
    }

    /// What is known about the object so far.
    pub fn info(&self) -> Object {
        match self.core.get() {
            Some(s) => s.stream.info(&s.writer),
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
        self.core.commit().await
    }

    /// Abandons the upload: stops piece transfers and deletes the pending object.
    pub async fn abort(mut self) -> Result<()> {
        self.core.abort().await
    }
}

impl PendingStream for ObjectStream {
    type Committed = Object;
    const DONE: &'static str = "upload already committed or aborted";
    const FAILED: &'static str = "upload failed earlier and was aborted";

    async fn commit(&mut self, writer: &SegmentWriter) -> Result<Object> {
        let m = &self.session.metainfo;
        // A 0-byte object has no segment at all.
        let meta = codec::object_metadata(&self.custom, writer.written(), writer.segment_size());
        let enc =
            codec::encrypt_metadata(&self.session.encryption, &self.bucket, &self.key, &meta)?;
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
            None => Ok(self.info(writer)),
        }
    }

    async fn abort(&mut self) -> Result<()> {
        self.abort_object().await
    }

    /// Aborts the pending object.
    async fn failed(&mut self) {
        if let Err(abort_err) = self.abort_object().await {
            tracing::debug!(bucket = %self.bucket, error = %abort_err, "abort after failed upload");
        }
    }

    /// Aborts the pending object in the background.
    fn dropped(self) {
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = self.abort_object().await {
                    tracing::warn!(bucket = %self.bucket, error = %e, "abort of dropped upload failed");
                }
            });
        }
    }
}

impl ObjectStream {
    fn info(&self, writer: &SegmentWriter) -> Object {
        Object {
            key: self.key.clone(),
            is_prefix: false,
            system: SystemMetadata {
                created: self.created,
                expires: self.expires,
                content_length: writer.written() as i64,
            },
            custom: self.custom.clone(),
        }
    }

    async fn abort_object(&self) -> Result<()> {
        self.session
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
        match self.core.get() {
            Some(s) => write!(
                f,
                "Upload({}/{}, {} bytes)",
                s.stream.bucket,
                s.stream.key,
                s.writer.written()
            ),
            None => write!(f, "Upload(done)"),
        }
    }
}
