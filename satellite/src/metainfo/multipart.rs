//! Multipart upload calls (S3 style). A multipart upload is a pending
//! object with a deadline (`multipart_expiration` after it began), named by
//! its 16-byte stream id (the upload id) together with its bucket and key.
//! Each part is uploaded with the usual segment calls at positions
//! `{part, index}` (BeginPart hands out the stream token), then recorded by
//! CommitPart; CommitMultipartUpload makes the object from the chosen parts'
//! segments in (part, index) order without copying data.

use satstore_common::time::now_unix;
use satstore_proto::metainfo as pb;

use super::MetainfoEndpoint;
use super::list::MAX_OBJECT_PAGE;
use super::objects::NewPending;
use crate::auth::{Action, AuthContext, Scope};
use crate::convert::redundancy_to_proto;
use crate::error::{SatelliteError, invalid};
use crate::store::multipart::MAX_PART_NUMBER;
use crate::store::{
    MultipartCommit, MultipartCommitValues, ObjectRecord, ObjectStatus, PartCommit, PartRecord,
};

/// Largest client-encrypted ETag accepted.
pub const MAX_ETAG_LEN: usize = 1024;

/// Most segments one part may have.
pub const MAX_PART_SEGMENTS: usize = 10_000;

fn upload_not_found() -> SatelliteError {
    SatelliteError::UploadNotFound(
        "multipart upload not found (it was completed, aborted or has expired)".into(),
    )
}

fn check_part_number(n: u32) -> Result<(), SatelliteError> {
    if n == 0 || n > MAX_PART_NUMBER {
        return Err(invalid(format!(
            "part number {n} is out of range: use 1 to {MAX_PART_NUMBER}"
        )));
    }
    Ok(())
}

fn part_info(p: &PartRecord) -> pb::PartInfo {
    pb::PartInfo {
        part_number: p.part_number,
        plain_size: p.plain_size,
        modified_at_unix: p.created_at,
        encrypted_etag: p.encrypted_etag.clone(),
        segment_count: p.segment_count,
    }
}

/// Clamps a requested page size to `1..=MAX_OBJECT_PAGE` (0 = the maximum).
fn page_limit(limit: u32) -> usize {
    match limit {
        0 => MAX_OBJECT_PAGE as usize,
        n => n.min(MAX_OBJECT_PAGE) as usize,
    }
}

impl MetainfoEndpoint {
    /// The pending, unexpired multipart upload `r` names, after checking
    /// `action` on its key.
    async fn multipart_upload(
        &self,
        auth: &AuthContext,
        r: Option<&pb::MultipartUploadRef>,
        action: Action,
    ) -> Result<ObjectRecord, SatelliteError> {
        let r = r.ok_or_else(|| invalid("the upload (bucket, key and upload id) is missing"))?;
        auth.check(action, Scope::Path(&r.bucket, &r.encrypted_key))?;
        let stream_id: [u8; 16] = r
            .upload_id
            .as_slice()
            .try_into()
            .map_err(|_| invalid("upload id is malformed: it must be 16 bytes"))?;
        match self.store.object_by_stream(&stream_id).await? {
            Some(o)
                if o.project_id == auth.project_id
                    && o.bucket == r.bucket
                    && o.encrypted_key == r.encrypted_key
                    && o.is_pending_multipart()
                    && o.multipart_deadline > now_unix() =>
            {
                Ok(o)
            }
            _ => Err(upload_not_found()),
        }
    }

    /// The object a multipart upload became, if `r` names one that was
    /// already committed (by this project, at this bucket and key).
    async fn committed_upload(
        &self,
        auth: &AuthContext,
        r: Option<&pb::MultipartUploadRef>,
    ) -> Result<Option<ObjectRecord>, SatelliteError> {
        let Some(r) = r else { return Ok(None) };
        let Ok(stream_id) = <[u8; 16]>::try_from(r.upload_id.as_slice()) else {
            return Ok(None);
        };
        auth.check(Action::Write, Scope::Path(&r.bucket, &r.encrypted_key))?;
        Ok(self.store.object_by_stream(&stream_id).await?.filter(|o| {
            o.status == ObjectStatus::Committed
                && o.project_id == auth.project_id
                && o.bucket == r.bucket
                && o.encrypted_key == r.encrypted_key
        }))
    }

    /// BeginMultipartUpload: inserts a pending multipart object.
    pub async fn begin_multipart_upload(
        &self,
        req: pb::BeginMultipartUploadRequest,
    ) -> Result<pb::BeginMultipartUploadResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        let lifetime =
            i64::try_from(self.limits.multipart_expiration.as_secs()).unwrap_or(i64::MAX);
        let new = NewPending {
            bucket: req.bucket,
            encrypted_key: req.encrypted_key,
            expires_at: req.expires_at_unix,
            encryption: req.encryption.unwrap_or_default(),
            multipart_deadline: now_unix().saturating_add(lifetime.max(1)),
        };
        let o = self.insert_pending(&auth, new).await?;
        tracing::info!(stream_id = %satstore_common::hex::encode(&o.stream_id), bucket = %o.bucket, "multipart upload begun");
        Ok(pb::BeginMultipartUploadResponse {
            upload_id: o.stream_id.to_vec(),
            created_at_unix: o.created_at,
            upload_expires_at_unix: o.multipart_deadline,
        })
    }

    /// BeginPart: a stream token for uploading one part's segments.
    pub async fn begin_part(
        &self,
        req: pb::BeginPartRequest,
    ) -> Result<pb::BeginPartResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        check_part_number(req.part_number)?;
        let o = self
            .multipart_upload(&auth, req.upload.as_ref(), Action::Write)
            .await?;
        Ok(pb::BeginPartResponse {
            stream_id: self.stream_token(&o),
            redundancy: Some(redundancy_to_proto(&self.limits.redundancy)),
            max_segment_size: self.limits.max_segment_size as i64,
            max_inline_size: self.limits.max_inline_size as i64,
        })
    }

    /// CommitPart: records a part whose segments are all stored, replacing
    /// an earlier upload of the same part number.
    pub async fn commit_part(
        &self,
        req: pb::CommitPartRequest,
    ) -> Result<pb::CommitPartResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        check_part_number(req.part_number)?;
        if req.encrypted_etag.len() > MAX_ETAG_LEN {
            return Err(invalid(format!(
                "encrypted etag of {} bytes exceeds {MAX_ETAG_LEN} bytes",
                req.encrypted_etag.len()
            )));
        }
        if req.segment_key_nonces.len() > MAX_PART_SEGMENTS {
            return Err(invalid(format!(
                "a part may have at most {MAX_PART_SEGMENTS} segments"
            )));
        }
        let o = self
            .multipart_upload(&auth, req.upload.as_ref(), Action::Write)
            .await?;
        let outcome = self
            .store
            .commit_part(
                &o.stream_id,
                req.part_number,
                &req.segment_key_nonces,
                &req.encrypted_etag,
                now_unix(),
            )
            .await?;
        match outcome {
            PartCommit::Committed {
                part,
                removed_pieces,
            } => {
                self.deleter
                    .delete_later(removed_pieces, auth.project_id, o.bucket);
                Ok(pb::CommitPartResponse {
                    part: Some(part_info(&part)),
                })
            }
            PartCommit::UploadNotFound => Err(upload_not_found()),
            PartCommit::SegmentsDiffer(m) => Err(SatelliteError::FailedPrecondition(m)),
        }
    }

    /// ListParts: committed parts above the cursor, ascending.
    pub async fn list_parts(
        &self,
        req: pb::ListPartsRequest,
    ) -> Result<pb::ListPartsResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        let o = self
            .multipart_upload(&auth, req.upload.as_ref(), Action::List)
            .await?;
        let (parts, more) = self
            .store
            .list_parts(&o.stream_id, req.cursor, page_limit(req.limit))
            .await?;
        Ok(pb::ListPartsResponse {
            items: parts.iter().map(part_info).collect(),
            more,
        })
    }

    /// CommitMultipartUpload: makes the object from the chosen parts and
    /// deletes the others' segments (their pieces best-effort).
    pub async fn commit_multipart_upload(
        &self,
        req: pb::CommitMultipartUploadRequest,
    ) -> Result<pb::CommitMultipartUploadResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        if !req.parts.windows(2).all(|w| w[0] < w[1]) {
            return Err(invalid(
                "parts must be listed in ascending order without duplicates",
            ));
        }
        for p in &req.parts {
            check_part_number(*p)?;
        }
        if let Some(done) = self.committed_upload(&auth, req.upload.as_ref()).await? {
            // A retry after a lost reply: the first commit stands.
            return Ok(pb::CommitMultipartUploadResponse {
                object: Some(super::object_info(&done, vec![])),
            });
        }
        let o = self
            .multipart_upload(&auth, req.upload.as_ref(), Action::Write)
            .await?;
        self.check_overwrite(&auth, &o.bucket, &o.encrypted_key)
            .await?;
        let values = MultipartCommitValues {
            parts: req.parts,
            plain_size: req.plain_size,
            encrypted_metadata: req.encrypted_metadata,
            encrypted_metadata_nonce: req.encrypted_metadata_nonce,
            encrypted_metadata_key: req.encrypted_metadata_key,
        };
        let committed = match self.store.commit_multipart(&o.stream_id, &values).await? {
            MultipartCommit::Committed(c) => c,
            MultipartCommit::UploadNotFound => return Err(upload_not_found()),
            MultipartCommit::MissingParts(missing) => {
                return Err(SatelliteError::InvalidPart(format!(
                    "part(s) {missing:?} of the multipart upload were not \
                     uploaded (or are being uploaded again)"
                )));
            }
            MultipartCommit::IncompletePart(p) => {
                return Err(SatelliteError::InvalidPart(format!(
                    "part {p} is incomplete; upload it again"
                )));
            }
            MultipartCommit::SizeMismatch { expected, actual } => {
                return Err(SatelliteError::FailedPrecondition(format!(
                    "the parts hold {actual} bytes but the commit expected {expected}: a part \
                     changed meanwhile; retry the commit"
                )));
            }
        };
        self.metrics.objects_committed.inc();
        self.deleter
            .delete_later(committed.replaced_pieces, auth.project_id, o.bucket.clone());
        tracing::info!(stream_id = %satstore_common::hex::encode(&o.stream_id), bucket = %o.bucket, "multipart upload committed");
        Ok(pb::CommitMultipartUploadResponse {
            object: Some(super::object_info(&committed.object, vec![])),
        })
    }

    /// AbortMultipartUpload: deletes the upload, its parts and segments.
    pub async fn abort_multipart_upload(
        &self,
        req: pb::AbortMultipartUploadRequest,
    ) -> Result<pb::AbortMultipartUploadResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        let o = self
            .multipart_upload(&auth, req.upload.as_ref(), Action::Write)
            .await?;
        let pieces = self
            .store
            .delete_pending(&o.stream_id)
            .await?
            .ok_or_else(upload_not_found)?;
        self.deleter.delete_later(pieces, auth.project_id, o.bucket);
        Ok(pb::AbortMultipartUploadResponse {})
    }

    /// ListMultipartUploads: pending, unexpired uploads under a prefix in
    /// (encrypted key, upload id) order.
    pub async fn list_multipart_uploads(
        &self,
        req: pb::ListMultipartUploadsRequest,
    ) -> Result<pb::ListMultipartUploadsResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        auth.check(Action::List, Scope::Path(&req.bucket, &req.prefix))?;
        if self
            .store
            .get_bucket(&auth.project_id, &req.bucket)
            .await?
            .is_none()
        {
            return Err(SatelliteError::BucketNotFound(format!(
                "bucket {:?} not found",
                req.bucket
            )));
        }
        let (uploads, more) = self
            .store
            .list_multipart_uploads(
                &auth.project_id,
                &req.bucket,
                &req.prefix,
                (&req.cursor_key, &req.cursor_upload_id),
                page_limit(req.limit),
                now_unix(),
            )
            .await?;
        Ok(pb::ListMultipartUploadsResponse {
            items: uploads
                .into_iter()
                .map(|o| pb::MultipartUploadItem {
                    encrypted_key: o.encrypted_key,
                    upload_id: o.stream_id.to_vec(),
                    created_at_unix: o.created_at,
                    upload_expires_at_unix: o.multipart_deadline,
                })
                .collect(),
            more,
        })
    }
}
