//! ListObjects and ProjectInfo.

use satstore_common::time::now_unix;
use satstore_proto::metainfo as pb;

use super::MetainfoEndpoint;
use crate::auth::{Action, Scope};
use crate::error::SatelliteError;
use crate::store::ListOptions;

/// Default and largest page of ListObjects.
pub const MAX_OBJECT_PAGE: u32 = 1000;

impl MetainfoEndpoint {
    /// ListObjects: committed, unexpired objects under a prefix.
    pub async fn list_objects(
        &self,
        req: pb::ListObjectsRequest,
    ) -> Result<pb::ListObjectsResponse, SatelliteError> {
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
        let limit = match req.limit {
            0 => MAX_OBJECT_PAGE,
            n => n.min(MAX_OBJECT_PAGE),
        };
        let opts = ListOptions {
            prefix: req.prefix,
            cursor: req.cursor,
            recursive: req.recursive,
            limit: limit as usize,
            now: now_unix(),
        };
        let page = self
            .store
            .list_objects(&auth.project_id, &req.bucket, &opts)
            .await?;
        let items = page
            .items
            .into_iter()
            .map(|i| {
                let mut item = pb::ObjectListItem {
                    encrypted_key: i.key,
                    is_prefix: i.is_prefix,
                    ..Default::default()
                };
                if let Some(o) = i.object {
                    item.created_at_unix = o.created_at;
                    item.expires_at_unix = o.expires_at;
                    item.plain_size = o.plain_size;
                    if req.include_metadata {
                        item.encrypted_metadata = o.encrypted_metadata;
                        item.encrypted_metadata_nonce = o.encrypted_metadata_nonce;
                        item.encrypted_metadata_key = o.encrypted_metadata_key;
                    }
                }
                item
            })
            .collect();
        Ok(pb::ListObjectsResponse {
            items,
            more: page.more,
        })
    }

    /// ProjectInfo: the project's salt and id (any valid key may ask).
    pub async fn project_info(
        &self,
        req: pb::ProjectInfoRequest,
    ) -> Result<pb::ProjectInfoResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        let p = self
            .store
            .project_by_id(&auth.project_id)
            .await?
            .ok_or_else(|| {
                SatelliteError::NotFound("project of this API key no longer exists".into())
            })?;
        Ok(pb::ProjectInfoResponse {
            project_salt: p.salt.to_vec(),
            project_id: p.id_string(),
        })
    }
}
