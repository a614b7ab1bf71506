//! ListParts and ListMultipartUploads.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use uplink::ListUploadsOptions;

use super::target::upload_target;
use crate::acl::Perm;
use crate::acl::policy;
use crate::s3error::{uplink_error, upload_error};
use crate::state::Gateway;

/// ListParts.
pub async fn list_parts(
    gw: &Gateway,
    req: S3Request<ListPartsInput>,
) -> S3Result<S3Response<ListPartsOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = upload_target(gw, &actor, &i.bucket, &i.key, &i.upload_id).await?;
    let max = i.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
    let marker = i.part_number_marker.unwrap_or(0).max(0) as u32;
    let (parts, more) = target
        .project
        .list_upload_parts(&i.bucket, &i.key, &i.upload_id, marker, max)
        .await
        .map_err(upload_error)?;
    let next = parts.last().map(|p| p.part_number as i32);
    let owner = policy::owner(
        &target.owner_id,
        &gw.display_name(&target.owner_id).await.unwrap_or_default(),
    );
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(i.bucket),
        key: Some(i.key),
        upload_id: Some(i.upload_id),
        max_parts: Some(max as i32),
        part_number_marker: Some(marker as i32),
        next_part_number_marker: next,
        is_truncated: Some(more),
        owner: Some(owner.clone()),
        initiator: Some(Initiator {
            display_name: owner.display_name,
            id: owner.id,
        }),
        storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
        parts: Some(
            parts
                .into_iter()
                .map(|p| Part {
                    e_tag: Some(ETag::Strong(String::from_utf8_lossy(&p.etag).to_string())),
                    last_modified: Some(Timestamp::from(p.modified)),
                    part_number: Some(p.part_number as i32),
                    size: Some(p.size as i64),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    }))
}

/// ListMultipartUploads.
pub async fn list_uploads(
    gw: &Gateway,
    req: S3Request<ListMultipartUploadsInput>,
) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = gw.resolve_bucket(&actor, &i.bucket, Perm::Read).await?;
    let max = i.max_uploads.unwrap_or(1000).clamp(0, 1000) as usize;
    let opts = ListUploadsOptions {
        prefix: i.prefix.clone().unwrap_or_default(),
        cursor: i.key_marker.clone().unwrap_or_default(),
        limit: max,
    };
    let (uploads, more) = target
        .project
        .list_uploads(&i.bucket, &opts)
        .await
        .map_err(uplink_error)?;
    let last = uploads.last().map(|u| (u.key.clone(), u.upload_id.clone()));
    let owner = policy::owner(
        &target.owner_id,
        &gw.display_name(&target.owner_id).await.unwrap_or_default(),
    );
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(i.bucket),
        prefix: i.prefix,
        key_marker: i.key_marker,
        upload_id_marker: i.upload_id_marker,
        max_uploads: Some(max as i32),
        is_truncated: Some(more),
        next_key_marker: if more {
            last.as_ref().map(|l| l.0.clone())
        } else {
            None
        },
        next_upload_id_marker: if more { last.map(|l| l.1) } else { None },
        uploads: Some(
            uploads
                .into_iter()
                .map(|u| MultipartUpload {
                    initiated: Some(Timestamp::from(u.created)),
                    initiator: Some(Initiator {
                        display_name: owner.display_name.clone(),
                        id: owner.id.clone(),
                    }),
                    key: Some(u.key),
                    owner: Some(owner.clone()),
                    storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                    upload_id: Some(u.upload_id),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    }))
}
