//! CreateMultipartUpload and AbortMultipartUpload: an upload begun (its
//! metadata and ACL kept sealed until Complete) or given up.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};
use uplink::UploadOptions;

use super::pending::Pending;
use super::target::upload_target;
use crate::acl::Perm;
use crate::ops::acl::requested_object_acl;
use crate::ops::upload::RequestedMeta;
use crate::s3error::{uplink_error, upload_error};
use crate::state::Gateway;

/// CreateMultipartUpload.
pub async fn create(
    gw: &Gateway,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let mut i = req.input;
    let target = gw.resolve(&actor, &i.bucket, None, Perm::Write).await?;
    // An ACL beyond the owner-only default needs an owner, checked now.
    let acl = requested_object_acl(
        gw,
        &actor,
        &i.bucket,
        i.acl.as_ref().map(|a| a.as_str()),
        &target.owner_id,
    )
    .await?
    .map(|r| r.acl);
    let pending = Pending {
        meta: i.take_meta(),
        acl,
    };
    let info = target
        .project
        .begin_upload(&i.bucket, &i.key, &UploadOptions::default())
        .await
        .map_err(uplink_error)?;
    let sealed = gw.seal("upload", pending.encode().as_bytes());
    gw.store()
        .put_upload(&target.scope, &info.upload_id, &i.bucket, &i.key, &sealed)
        .await?;
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(i.bucket),
        key: Some(i.key),
        upload_id: Some(info.upload_id),
        ..Default::default()
    }))
}

/// AbortMultipartUpload.
pub async fn abort(
    gw: &Gateway,
    req: S3Request<AbortMultipartUploadInput>,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = upload_target(gw, &actor, &i.bucket, &i.key, &i.upload_id).await?;
    target
        .project
        .abort_upload(&i.bucket, &i.key, &i.upload_id)
        .await
        .map_err(upload_error)?;
    gw.store().delete_upload(&i.upload_id).await?;
    Ok(S3Response::new(AbortMultipartUploadOutput::default()))
}
