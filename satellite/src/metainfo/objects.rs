//! Object calls: begin / commit / abort an upload, get, download (segment
//! overview for a range) and delete.

use satstore_common::time::now_unix;
use satstore_proto::internal::StreamIdPayload;
use satstore_proto::metainfo as pb;

use super::{MAX_KEY_LEN, MetainfoEndpoint, object_info, stream_id_of};
use crate::auth::{Action, AuthContext, Scope};
use crate::convert::redundancy_to_proto;
use crate::error::{SatelliteError, invalid};
use crate::store::objects::CommitValues;
use crate::store::{ObjectRecord, ObjectStatus};

/// A pending object to insert (see [`MetainfoEndpoint::insert_pending`]).
pub(crate) struct NewPending {
    pub(crate) bucket: String,
    pub(crate) encrypted_key: Vec<u8>,
    pub(crate) expires_at: i64,
    pub(crate) encryption: pb::EncryptionParameters,
    /// 0 for plain uploads.
    pub(crate) multipart_deadline: i64,
}

fn object_not_found() -> SatelliteError {
    SatelliteError::ObjectNotFound("object not found".into())
}

/// Checks an encrypted key: non-empty, at most [`MAX_KEY_LEN`] bytes.
pub fn validate_key(key: &[u8]) -> Result<(), SatelliteError> {
    if key.is_empty() {
        return Err(SatelliteError::ObjectKeyInvalid(
            "object key must not be empty".into(),
        ));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(SatelliteError::ObjectKeyInvalid(format!(
            "object key is {} bytes; at most {MAX_KEY_LEN} are allowed",
            key.len()
        )));
    }
    Ok(())
}

impl MetainfoEndpoint {
    /// A stream token for an existing object, issued now.
    pub(crate) fn stream_token(&self, o: &ObjectRecord) -> Vec<u8> {
        self.tokens.sign_stream(&StreamIdPayload {
            project_id: o.project_id.to_vec(),
            bucket: o.bucket.clone(),
            encrypted_key: o.encrypted_key.clone(),
            version: o.version.max(0) as u64,
            stream_id: o.stream_id.to_vec(),
            created_at_unix: now_unix(),
            expires_at_unix: o.expires_at,
            redundancy: Some(redundancy_to_proto(&self.limits.redundancy)),
            cipher_suite: o.cipher_suite.max(0) as u32,
            block_size: o.block_size.max(0) as u32,
        })
    }

    /// Overwriting a committed object also needs the delete permission.
    pub(crate) async fn check_overwrite(
        &self,
        auth: &AuthContext,
        bucket: &str,
        key: &[u8],
    ) -> Result<(), SatelliteError> {
        if self
            .store
            .committed_exists(&auth.project_id, bucket, key)
            .await?
        {
            auth.check(Action::Delete, Scope::Path(bucket, key))?;
        }
        Ok(())
    }

    /// BeginObject: inserts a pending object and returns its stream token.
    pub async fn begin_object(
        &self,
        req: pb::BeginObjectRequest,
    ) -> Result<pb::BeginObjectResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        let new = NewPending {
            bucket: req.bucket,
            encrypted_key: req.encrypted_key,
            expires_at: req.expires_at_unix,
            encryption: req.encryption.unwrap_or_default(),
            multipart_deadline: 0,
        };
        let object = self.insert_pending(&auth, new).await?;
        Ok(pb::BeginObjectResponse {
            stream_id: self.stream_token(&object),
            redundancy: Some(redundancy_to_proto(&self.limits.redundancy)),
            max_segment_size: self.limits.max_segment_size as i64,
            max_inline_size: self.limits.max_inline_size as i64,
        })
    }

    /// Checks and inserts a pending object (plain or multipart): write
    /// permission, a valid key and expiration, an existing bucket, and the
    /// delete permission if it would replace a committed object.
    pub(crate) async fn insert_pending(
        &self,
        auth: &AuthContext,
        new: NewPending,
    ) -> Result<ObjectRecord, SatelliteError> {
        validate_key(&new.encrypted_key)?;
        auth.check(Action::Write, Scope::Path(&new.bucket, &new.encrypted_key))?;
        let now = now_unix();
        if new.expires_at < 0 || (new.expires_at != 0 && new.expires_at <= now) {
            return Err(invalid(
                "object expiration must be 0 (never) or in the future",
            ));
        }
        if self
            .store
            .get_bucket(&auth.project_id, &new.bucket)
            .await?
            .is_none()
        {
            return Err(SatelliteError::BucketNotFound(format!(
                "bucket {:?} not found",
                new.bucket
            )));
        }
        self.check_overwrite(auth, &new.bucket, &new.encrypted_key)
            .await?;
        let record = ObjectRecord {
            project_id: auth.project_id,
            bucket: new.bucket,
            encrypted_key: new.encrypted_key,
            version: 0,
            stream_id: rand::random(),
            status: ObjectStatus::Pending,
            created_at: now,
            expires_at: new.expires_at,
            segment_count: 0,
            plain_size: 0,
            encrypted_size: 0,
            encrypted_metadata: vec![],
            encrypted_metadata_nonce: vec![],
            encrypted_metadata_key: vec![],
            cipher_suite: new.encryption.cipher_suite as i64,
            block_size: new.encryption.block_size as i64,
            multipart_deadline: new.multipart_deadline,
        };
        Ok(self.store.begin_object(&record).await?)
    }

    /// CommitObject: checks the segments are contiguous from 0, stores the
    /// metadata, makes the object visible and replaces older versions.
    pub async fn commit_object(
        &self,
        req: pb::CommitObjectRequest,
    ) -> Result<pb::CommitObjectResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        let p = self.verify_stream(&auth, &req.stream_id)?;
        auth.check(Action::Write, Scope::Path(&p.bucket, &p.encrypted_key))?;
        let stream_id = stream_id_of(&p)?;
        let object = self
            .store
            .object_by_stream(&stream_id)
            .await?
            .ok_or_else(|| {
                SatelliteError::UploadNotFound("pending object not found (aborted?)".into())
            })?;
        if object.status == ObjectStatus::Committed {
            // A retry after a lost reply: the first commit stands.
            return Ok(pb::CommitObjectResponse {
                object: Some(object_info(&object, vec![])),
            });
        }
        if object.status != ObjectStatus::Pending {
            return Err(SatelliteError::UploadDone(
                "object is no longer pending".into(),
            ));
        }
        if object.multipart_deadline != 0 {
            return Err(SatelliteError::FailedPrecondition(
                "this stream is a multipart upload; commit it with CommitMultipartUpload".into(),
            ));
        }
        self.check_overwrite(&auth, &p.bucket, &p.encrypted_key)
            .await?;
        let segments = self.store.segment_sizes(&stream_id).await?;
        let mut values = CommitValues {
            segment_count: segments.len() as i64,
            encrypted_metadata: req.encrypted_metadata,
            encrypted_metadata_nonce: req.encrypted_metadata_nonce,
            encrypted_metadata_key: req.encrypted_metadata_key,
            ..Default::default()
        };
        for (i, s) in segments.iter().enumerate() {
            if s.position.part != 0 || s.position.index as usize != i {
                return Err(SatelliteError::FailedPrecondition(format!(
                    "segments are not contiguous: expected part 0 index {i}, found part {} index {}",
                    s.position.part, s.position.index
                )));
            }
            values.plain_offsets.push((s.position, values.plain_size));
            values.plain_size = values
                .plain_size
                .checked_add(s.plain_size)
                .ok_or_else(|| invalid("the object's plaintext size overflows"))?;
            values.encrypted_size = values
                .encrypted_size
                .checked_add(s.encrypted_size)
                .ok_or_else(|| invalid("the object's encrypted size overflows"))?;
        }
        let Some(committed) = self.store.commit_object(&stream_id, &values).await? else {
            // Committed (or aborted) by a concurrent call meanwhile.
            return match self.store.object_by_stream(&stream_id).await? {
                Some(o) if o.status == ObjectStatus::Committed => Ok(pb::CommitObjectResponse {
                    object: Some(object_info(&o, vec![])),
                }),
                Some(_) => Err(SatelliteError::UploadDone(
                    "object is no longer pending".into(),
                )),
                None => Err(SatelliteError::UploadNotFound(
                    "the upload was aborted meanwhile".into(),
                )),
            };
        };
        self.metrics.objects_committed.inc();
        self.deleter
            .delete_later(committed.replaced_pieces, auth.project_id, p.bucket.clone());
        tracing::info!(stream_id = %satstore_common::hex::encode(&stream_id), bucket = %p.bucket, "object committed");
        Ok(pb::CommitObjectResponse {
            object: Some(object_info(&committed.object, vec![])),
        })
    }

    /// AbortObject: deletes a pending object and its segments.
    pub async fn abort_object(
        &self,
        req: pb::AbortObjectRequest,
    ) -> Result<pb::AbortObjectResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        let p = self.verify_stream(&auth, &req.stream_id)?;
        auth.check(Action::Write, Scope::Path(&p.bucket, &p.encrypted_key))?;
        let stream_id = stream_id_of(&p)?;
        let pieces = self
            .store
            .delete_pending(&stream_id)
            .await?
            .ok_or_else(|| {
                SatelliteError::UploadNotFound("no pending object for this stream id".into())
            })?;
        self.deleter.delete_later(pieces, auth.project_id, p.bucket);
        Ok(pb::AbortObjectResponse {})
    }

    async fn committed_object(
        &self,
        auth: &AuthContext,
        bucket: &str,
        key: &[u8],
    ) -> Result<ObjectRecord, SatelliteError> {
        self.store
            .latest_committed(&auth.project_id, bucket, key, now_unix())
            .await?
            .ok_or_else(object_not_found)
    }

    /// GetObject: the latest committed, unexpired version.
    pub async fn get_object(
        &self,
        req: pb::GetObjectRequest,
    ) -> Result<pb::GetObjectResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        auth.check(Action::Read, Scope::Path(&req.bucket, &req.encrypted_key))?;
        let o = self
            .committed_object(&auth, &req.bucket, &req.encrypted_key)
            .await?;
        Ok(pb::GetObjectResponse {
            object: Some(object_info(&o, vec![])),
        })
    }

    /// DownloadObject: the object (with a stream token) and the segments
    /// overlapping `[range_start, range_end)`.
    pub async fn download_object(
        &self,
        req: pb::DownloadObjectRequest,
    ) -> Result<pb::DownloadObjectResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        auth.check(Action::Read, Scope::Path(&req.bucket, &req.encrypted_key))?;
        let o = self
            .committed_object(&auth, &req.bucket, &req.encrypted_key)
            .await?;
        let (start, end) = (req.range_start, req.range_end);
        let end = if end == 0 {
            o.plain_size
        } else {
            end.min(o.plain_size)
        };
        if start < 0
            || req.range_end < 0
            || start > o.plain_size
            || (req.range_end != 0 && req.range_end < start)
        {
            return Err(SatelliteError::OutOfRange(format!(
                "range [{start}, {}) is invalid for an object of {} bytes",
                req.range_end, o.plain_size
            )));
        }
        let overlapping = self
            .store
            .segment_layout(&o.stream_id, start, end)
            .await?
            .iter()
            .map(|s| pb::SegmentInfo {
                position: Some(pb::SegmentPosition {
                    part: s.position.part,
                    index: s.position.index,
                }),
                plain_offset: s.plain_offset,
                plain_size: s.plain_size,
                encrypted_size: s.encrypted_size,
                inline: s.inline,
            })
            .collect();
        Ok(pb::DownloadObjectResponse {
            object: Some(object_info(&o, self.stream_token(&o))),
            segments: overlapping,
        })
    }

    /// DeleteObject: removes the committed object at once; its pieces are
    /// deleted from the nodes in the background.
    pub async fn delete_object(
        &self,
        req: pb::DeleteObjectRequest,
    ) -> Result<pb::DeleteObjectResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        auth.check(Action::Delete, Scope::Path(&req.bucket, &req.encrypted_key))?;
        let (o, pieces) = self
            .store
            .delete_committed(&auth.project_id, &req.bucket, &req.encrypted_key)
            .await?
            .ok_or_else(object_not_found)?;
        self.deleter
            .delete_later(pieces, auth.project_id, req.bucket);
        Ok(pb::DeleteObjectResponse {
            object: Some(object_info(&o, vec![])),
        })
    }
}
