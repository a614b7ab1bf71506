//! The writer of one part of a multipart upload ([`PartUpload`]): the
//! writer core shared with [`crate::Upload`] (`stream_writer`), storing
//! segments at positions `{part, index}`, then CommitPart with the
//! segments' key nonces and the sealed ETag. Transfer layer: depends on the
//! session, not on the project.

use std::sync::Arc;

use satstore_proto::metainfo as pb;
use tokio::io::AsyncRead;

use super::etag::seal_etag;
use super::types::{PartInfo, part_from_pb};
use crate::encryption::Key;
use crate::error::{Result, UplinkError};
use crate::segment_writer::SegmentWriter;
use crate::session::Session;
use crate::stream_writer::{PendingStream, StreamWriter};

/// Writer for one part: same methods as [`crate::Upload`] (write,
/// write_all, write_file) plus [`PartUpload::set_etag`]. Nothing is
/// visible before [`PartUpload::commit`]; dropping it uncommitted stops its
/// transfers (segments already stored are removed when the part is
/// uploaded again or the upload is committed or aborted).
pub struct PartUpload {
    core: StreamWriter<PartStream>,
}

/// The pending part a [`PartUpload`] writes.
struct PartStream {
    session: Arc<Session>,
    upload: pb::MultipartUploadRef,
    etag_key: Key,
    part_number: u32,
    etag: Vec<u8>,
}

impl PartUpload {
    pub(crate) fn new(
        session: Arc<Session>,
        upload: pb::MultipartUploadRef,
        etag_key: Key,
        part_number: u32,
        writer: SegmentWriter,
    ) -> Self {
        let stream = PartStream {
            session,
            upload,
            etag_key,
            part_number,
            etag: Vec::new(),
        };
        PartUpload {
            core: StreamWriter::new(stream, writer),
        }
    }

    /// Writes all of `data`; returns `data.len()`. Segments fill and are
    /// stored as it goes, so this may wait for the network.
    pub async fn write(&mut self, data: &[u8]) -> Result<usize> {
        self.core.write(data).await
    }

    /// Same as [`PartUpload::write`].
    pub async fn write_all(&mut self, data: &[u8]) -> Result<()> {
        self.core.write_all(data).await
    }

    /// Streams `reader` into the part until EOF; returns the bytes copied.
    /// Does not commit.
    pub async fn write_file(&mut self, reader: impl AsyncRead + Unpin) -> Result<u64> {
        self.core.write_file(reader).await
    }

    /// ETag the client wants recorded (S3: hex MD5 bytes); stored encrypted, returned by list_upload_parts.
    pub fn set_etag(&mut self, etag: Vec<u8>) -> Result<()> {
        if etag.len() > 512 {
            return Err(UplinkError::InvalidArgument(format!(
                "etag of {} bytes is too long (at most 512)",
                etag.len()
            )));
        }
        self.core.open()?.stream.etag = etag;
        Ok(())
    }

    /// Stores the last segment and records the part (CommitPart).
    pub async fn commit(mut self) -> Result<PartInfo> {
        self.core.commit().await
    }

    /// Abandons the part: stops its transfers. An earlier committed upload
    /// of this part number stays unless this one already stored segments.
    pub async fn abort(mut self) -> Result<()> {
        self.core.abort().await
    }
}

impl PendingStream for PartStream {
    type Committed = PartInfo;
    const DONE: &'static str = "part upload already committed or aborted";
    const FAILED: &'static str = "part upload failed earlier";

    async fn commit(&mut self, writer: &SegmentWriter) -> Result<PartInfo> {
        let r = self
            .session
            .metainfo
            .commit_part(pb::CommitPartRequest {
                header: None,
                upload: Some(self.upload.clone()),
                part_number: self.part_number,
                segment_key_nonces: writer.key_nonces().to_vec(),
                encrypted_etag: seal_etag(&self.etag_key, &self.etag)?,
            })
            .await?;
        match r.part {
            Some(p) => part_from_pb(&p, &self.etag_key),
            None => Err(UplinkError::Internal(
                "satellite sent no part information".into(),
            )),
        }
    }

    /// Nothing to abandon at the satellite: the part was never committed.
    async fn abort(&mut self) -> Result<()> {
        Ok(())
    }

    /// Nothing to clean up beyond the stopped transfers.
    async fn failed(&mut self) {}

    /// Nothing to clean up beyond the stopped transfers.
    fn dropped(self) {}
}

impl std::fmt::Debug for PartUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.core.get() {
            Some(s) => write!(
                f,
                "PartUpload({}, part {}, {} bytes)",
                s.stream.upload.bucket,
                s.stream.part_number,
                s.writer.written()
            ),
            None => write!(f, "PartUpload(done)"),
        }
    }
}
