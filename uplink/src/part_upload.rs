//! The writer of one part of a multipart upload ([`PartUpload`]): the
//! segment writer shared with [`crate::Upload`] at positions
//! `{part, index}`, then CommitPart with the segments' key nonces and the
//! sealed ETag. Also the ETag sealing (AES-256-GCM, random nonce).

use std::sync::Arc;

use ring::aead::{Aad, NONCE_LEN, Nonce};
use satstore_proto::metainfo as pb;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::encryption::{self, Key};
use crate::error::{Result, UplinkError};
use crate::multipart::{PartInfo, part_from_pb};
use crate::project::ProjectInner;
use crate::segment_writer::SegmentWriter;

/// Seals an ETag: nonce ‖ ciphertext ‖ tag (empty stays empty).
pub(crate) fn seal_etag(key: &Key, etag: &[u8]) -> Result<Vec<u8>> {
    if etag.is_empty() {
        return Ok(Vec::new());
    }
    let mut nonce = [0u8; NONCE_LEN];
    encryption::random_bytes(&mut nonce)?;
    let mut buf = etag.to_vec();
    key.aead()
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(b"etag"),
            &mut buf,
        )
        .map_err(|_| UplinkError::Internal("AES-GCM refused to seal an etag".into()))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&buf);
    Ok(out)
}

/// Opens an ETag sealed by [`seal_etag`].
pub(crate) fn open_etag(key: &Key, sealed: &[u8]) -> Result<Vec<u8>> {
    if sealed.is_empty() {
        return Ok(Vec::new());
    }
    let tampered = || {
        UplinkError::Internal(
            "object data is corrupt or was tampered with: a part etag does not decrypt".into(),
        )
    };
    if sealed.len() < NONCE_LEN {
        return Err(tampered());
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| tampered())?;
    let mut buf = body.to_vec();
    let plain = key
        .aead()
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(b"etag"),
            &mut buf,
        )
        .map_err(|_| tampered())?;
    Ok(plain.to_vec())
}

/// Writer for one part: same methods as [`crate::Upload`] (write,
/// write_all, write_file) plus [`PartUpload::set_etag`]. Nothing is
/// visible before [`PartUpload::commit`]; dropping it uncommitted stops its
/// transfers (segments already stored are removed when the part is
/// uploaded again or the upload is committed or aborted).
pub struct PartUpload {
    inner: Option<PartState>,
}

struct PartState {
    project: Arc<ProjectInner>,
    upload: pb::MultipartUploadRef,
    etag_key: Key,
    part_number: u32,
    writer: SegmentWriter,
    etag: Vec<u8>,
    failed: Option<UplinkError>,
}

impl PartUpload {
    pub(crate) fn new(
        project: Arc<ProjectInner>,
        upload: pb::MultipartUploadRef,
        etag_key: Key,
        part_number: u32,
        writer: SegmentWriter,
    ) -> Self {
        PartUpload {
            inner: Some(PartState {
                project,
                upload,
                etag_key,
                part_number,
                writer,
                etag: Vec::new(),
                failed: None,
            }),
        }
    }

    fn state(&mut self) -> Result<&mut PartState> {
        let s = self.inner.as_mut().ok_or_else(|| {
            UplinkError::UploadDone("part upload already committed or aborted".into())
        })?;
        if let Some(e) = &s.failed {
            return Err(UplinkError::UploadDone(format!(
                "part upload failed earlier: {e}"
            )));
        }
        Ok(s)
    }

    /// Writes all of `data`; returns `data.len()`. Segments fill and are
    /// stored as it goes, so this may wait for the network.
    pub async fn write(&mut self, data: &[u8]) -> Result<usize> {
        let s = self.state()?;
        match s.writer.write(data).await {
            Ok(()) => Ok(data.len()),
            Err(e) => Err(s.fail(e)),
        }
    }

    /// Same as [`PartUpload::write`].
    pub async fn write_all(&mut self, data: &[u8]) -> Result<()> {
        self.write(data).await.map(|_| ())
    }

    /// Streams `reader` into the part until EOF; returns the bytes copied.
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
                    return Err(s.fail(UplinkError::InvalidArgument(format!("read input: {e}"))));
                }
            };
            self.write(&buf[..n]).await?;
            total += n as u64;
        }
    }

    /// ETag the client wants recorded (S3: hex MD5 bytes); stored encrypted, returned by list_upload_parts.
    pub fn set_etag(&mut self, etag: Vec<u8>) -> Result<()> {
        if etag.len() > 512 {
            return Err(UplinkError::InvalidArgument(format!(
                "etag of {} bytes is too long (at most 512)",
                etag.len()
            )));
        }
        self.state()?.etag = etag;
        Ok(())
    }

    /// Stores the last segment and records the part (CommitPart).
    pub async fn commit(mut self) -> Result<PartInfo> {
        let s = self.state()?;
        let r = s.commit().await;
        self.inner = None;
        r
    }

    /// Abandons the part: stops its transfers. An earlier committed upload
    /// of this part number stays unless this one already stored segments.
    pub async fn abort(mut self) -> Result<()> {
        let mut s = self.inner.take().ok_or_else(|| {
            UplinkError::UploadDone("part upload already committed or aborted".into())
        })?;
        s.writer.stop();
        Ok(())
    }
}

impl PartState {
    fn fail(&mut self, e: UplinkError) -> UplinkError {
        self.writer.stop();
        if self.failed.is_none() {
            self.failed = Some(e.clone());
        }
        e
    }

    async fn commit(&mut self) -> Result<PartInfo> {
        if let Err(e) = self.writer.finish().await {
            return Err(self.fail(e));
        }
        let r = self
            .project
            .metainfo
            .commit_part(pb::CommitPartRequest {
                header: None,
                upload: Some(self.upload.clone()),
                part_number: self.part_number,
                segment_key_nonces: self.writer.key_nonces().to_vec(),
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
}

impl std::fmt::Debug for PartUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Some(s) => write!(
                f,
                "PartUpload({}, part {}, {} bytes)",
                s.upload.bucket,
                s.part_number,
                s.writer.written()
            ),
            None => write!(f, "PartUpload(done)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_seal_open_and_detect_tampering() {
        let key = Key::from_bytes([4; 32]);
        assert!(seal_etag(&key, b"").unwrap().is_empty());
        assert!(open_etag(&key, b"").unwrap().is_empty());
        let sealed = seal_etag(&key, b"0123abcd").unwrap();
        assert!(!sealed.windows(8).any(|w| w == b"0123abcd"));
        assert_ne!(sealed, seal_etag(&key, b"0123abcd").unwrap(), "fresh nonce");
        assert_eq!(open_etag(&key, &sealed).unwrap(), b"0123abcd");
        let other = Key::from_bytes([5; 32]);
        assert!(open_etag(&other, &sealed).is_err());
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        let e = open_etag(&key, &bad).unwrap_err();
        assert!(e.to_string().contains("tampered"), "{e}");
        assert!(open_etag(&key, &[1, 2, 3]).is_err());
    }
}
