//! Bucket calls: create, get, delete (optionally with its objects), list.

use satstore_common::time::now_unix;
use satstore_proto::metainfo as pb;

use super::{MetainfoEndpoint, validate_bucket_name};
use crate::auth::{Action, Scope};
use crate::error::SatelliteError;
use crate::store::BucketRecord;

/// Default and largest page of ListBuckets.
pub const MAX_BUCKET_PAGE: u32 = 1000;

fn info(b: &BucketRecord) -> pb::BucketInfo {
    pb::BucketInfo {
        name: b.name.clone(),
        created_at_unix: b.created_at,
    }
}

fn not_found(name: &str) -> SatelliteError {
    SatelliteError::BucketNotFound(format!("bucket {name:?} not found"))
}

impl MetainfoEndpoint {
    /// CreateBucket: ALREADY_EXISTS if the name is taken in the project.
    pub async fn create_bucket(
        &self,
        req: pb::CreateBucketRequest,
    ) -> Result<pb::CreateBucketResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        validate_bucket_name(&req.name)?;
        auth.check(Action::Write, Scope::Bucket(&req.name))?;
        let now = now_unix();
        if !self
            .store
            .create_bucket(&auth.project_id, &req.name, now)
            .await?
        {
            return Err(SatelliteError::BucketAlreadyExists(
                "bucket already exists".into(),
            ));
        }
        Ok(pb::CreateBucketResponse {
            bucket: Some(pb::BucketInfo {
                name: req.name,
                created_at_unix: now,
            }),
        })
    }

    /// GetBucket: NOT_FOUND for unknown buckets.
    pub async fn get_bucket(
        &self,
        req: pb::GetBucketRequest,
    ) -> Result<pb::GetBucketResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        auth.check(Action::Read, Scope::Bucket(&req.name))?;
        let b = self
            .store
            .get_bucket(&auth.project_id, &req.name)
            .await?
            .ok_or_else(|| not_found(&req.name))?;
        Ok(pb::GetBucketResponse {
            bucket: Some(info(&b)),
        })
    }

    /// DeleteBucket: FAILED_PRECONDITION for a non-empty bucket unless
    /// `delete_all`, which removes its objects first (needs a key allowing
    /// the whole bucket).
    pub async fn delete_bucket(
        &self,
        req: pb::DeleteBucketRequest,
    ) -> Result<pb::DeleteBucketResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        auth.check(Action::Delete, Scope::Bucket(&req.name))?;
        if req.delete_all {
            auth.check(Action::Delete, Scope::Path(&req.name, b""))?;
        }
        let b = self
            .store
            .get_bucket(&auth.project_id, &req.name)
            .await?
            .ok_or_else(|| not_found(&req.name))?;
        let deleted = self
            .store
            .delete_bucket(&auth.project_id, &req.name, !req.delete_all)
            .await?
            .ok_or_else(|| not_found(&req.name))?;
        if deleted.not_empty {
            return Err(SatelliteError::BucketNotEmpty(
                "bucket is not empty (objects or uploads in progress)".into(),
            ));
        }
        self.deleter
            .delete_later(deleted.pieces, auth.project_id, req.name.clone());
        Ok(pb::DeleteBucketResponse {
            bucket: Some(info(&b)),
            deleted_objects: deleted.deleted_objects,
        })
    }

    /// ListBuckets: name order after `cursor`, only buckets the key may see.
    pub async fn list_buckets(
        &self,
        req: pb::ListBucketsRequest,
    ) -> Result<pb::ListBucketsResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        auth.check(Action::List, Scope::Project)?;
        let limit = match req.limit {
            0 => MAX_BUCKET_PAGE,
            n => n.min(MAX_BUCKET_PAGE),
        } as usize;
        let mut items = Vec::new();
        let mut more = false;
        let mut cursor = req.cursor.clone();
        'pages: loop {
            let page = self
                .store
                .list_buckets(&auth.project_id, &cursor, 1000)
                .await?;
            let full = page.len() == 1000;
            for b in &page {
                cursor = b.name.clone();
                if !auth.bucket_visible(&b.name) {
                    continue;
                }
                if items.len() == limit {
                    more = true;
                    break 'pages;
                }
                items.push(info(b));
            }
            if !full {
                break;
            }
        }
        Ok(pb::ListBucketsResponse { items, more })
    }
}
