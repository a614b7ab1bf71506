//! A multipart upload's life: begin (S3 CreateMultipartUpload), part
//! uploads (UploadPart, through [`PartUpload`]), commit
//! (CompleteMultipartUpload) and abort. Facade layer: methods of
//! [`Project`].

use std::collections::BTreeMap;
use std::time::SystemTime;

use satstore_proto::metainfo as pb;

use super::etag::etag_key;
use super::part_upload::PartUpload;
use super::types::{
    CommitUploadOptions, UploadInfo, check_part_number, check_target, encode_upload_id, upload_ref,
};
use crate::codec;
use crate::convert::{time_from_unix, time_to_unix};
use crate::encryption::{self, CIPHER_BLOCK};
use crate::error::{Result, UplinkError};
use crate::object::{Object, UploadOptions};
use crate::project::Project;
use crate::segment_writer::SegmentWriter;

impl Project {
    /// Begins a multipart upload of `key` (S3 CreateMultipartUpload);
    /// `opts.expires` is the committed object's expiration.
    pub async fn begin_upload(
        &self,
        bucket: &str,
        key: &str,
        opts: &UploadOptions,
    ) -> Result<UploadInfo> {
        check_target(bucket, key)?;
        let p = &self.session;
        let r = p
            .metainfo
            .begin_multipart_upload(pb::BeginMultipartUploadRequest {
                header: None,
                bucket: bucket.to_string(),
                encrypted_key: codec::encrypt_key(&p.encryption, bucket, key)?,
                expires_at_unix: time_to_unix(opts.expires),
                encryption: Some(pb::EncryptionParameters {
                    cipher_suite: 2, // AES-256-GCM
                    block_size: CIPHER_BLOCK as u32,
                }),
            })
            .await?;
        Ok(UploadInfo {
            upload_id: encode_upload_id(&r.upload_id),
            key: key.to_string(),
            created: time_from_unix(r.created_at_unix).unwrap_or_else(SystemTime::now),
        })
    }

    /// Starts uploading part `part_number` (1..=10000) of an upload; a part
    /// uploaded again replaces the earlier one once committed. Parts may be
    /// uploaded concurrently.
    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
    ) -> Result<PartUpload> {
        check_part_number(part_number)?;
        let p = &self.session;
        let upload = upload_ref(&p.encryption, bucket, key, upload_id)?;
        let r = p
            .metainfo
            .begin_part(pb::BeginPartRequest {
                header: None,
                upload: Some(upload.clone()),
                part_number,
            })
            .await?;
        let content_key = encryption::content_key(&p.encryption, bucket, key)?;
        let writer = SegmentWriter::new(
            p.clone(),
            r.stream_id,
            content_key,
            part_number,
            r.max_segment_size,
            r.max_inline_size,
        )?;
        Ok(PartUpload::new(
            p.clone(),
            upload,
            etag_key(&p.encryption, bucket, key)?,
            part_number,
            writer,
        ))
    }

    /// Commits an upload (S3 CompleteMultipartUpload): the object is made
    /// of `opts.parts` (all parts if empty) in part order and replaces an
    /// existing object at the key; other parts are deleted. A listed part
    /// that was not uploaded is [`crate::ErrorKind::InvalidPart`].
    pub async fn commit_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        opts: CommitUploadOptions,
    ) -> Result<Object> {
        let p = &self.session;
        let upload = upload_ref(&p.encryption, bucket, key, upload_id)?;
        codec::check_custom(&opts.custom_metadata)?;
        if !opts.parts.windows(2).all(|w| w[0] < w[1]) {
            return Err(UplinkError::InvalidArgument(
                "parts must be listed in ascending order without duplicates".into(),
            ));
        }
        let parts = self.all_parts(&upload).await?;
        let sizes: BTreeMap<u32, i64> = parts
            .iter()
            .map(|p| (p.part_number, p.plain_size))
            .collect();
        let kept: Vec<u32> = if opts.parts.is_empty() {
            sizes.keys().copied().collect()
        } else {
            opts.parts.clone()
        };
        let missing: Vec<u32> = kept
            .iter()
            .copied()
            .filter(|n| !sizes.contains_key(n))
            .collect();
        if !missing.is_empty() {
            return Err(UplinkError::InvalidPart(format!(
                "part(s) {missing:?} of upload {upload_id} were not uploaded"
            )));
        }
        let size: i64 = kept.iter().map(|n| sizes[n]).sum();
        let total = u64::try_from(size)
            .map_err(|_| UplinkError::Internal("satellite sent negative part sizes".into()))?;
        // Segment sizes vary between parts: 0 = not checked on download.
        let meta = codec::object_metadata(&opts.custom_metadata, total, 0);
        let enc = codec::encrypt_metadata(&p.encryption, bucket, key, &meta)?;
        let r = p
            .metainfo
            .commit_multipart_upload(pb::CommitMultipartUploadRequest {
                header: None,
                upload: Some(upload),
                parts: opts.parts,
                plain_size: size,
                encrypted_metadata: enc.encrypted_metadata,
                encrypted_metadata_nonce: enc.encrypted_metadata_nonce,
                encrypted_metadata_key: enc.encrypted_metadata_key,
            })
            .await?;
        let o = r
            .object
            .ok_or_else(|| UplinkError::Internal("satellite sent no object".into()))?;
        Ok(Object::from_pb(key.to_string(), &o, Some(&meta)))
    }

    /// Aborts an upload: its parts are deleted; the id stops working.
    pub async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()> {
        let upload = upload_ref(&self.session.encryption, bucket, key, upload_id)?;
        self.session
            .metainfo
            .abort_multipart_upload(pb::AbortMultipartUploadRequest {
                header: None,
                upload: Some(upload),
            })
            .await?;
        Ok(())
    }
}
