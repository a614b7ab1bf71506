//! PutObject: one body streamed into a new object.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use super::acl::{apply_object_acl, requested_object_acl};
use super::upload::{RequestedMeta, UploadBody, upload};
use crate::acl::Perm;
use crate::body::BodyOrigin;
use crate::meta;
use crate::s3error::s3err;
use crate::state::Gateway;

/// Largest object a single PUT may carry (S3's limit).
const MAX_PUT_SIZE: i64 = 5 * 1024 * 1024 * 1024;

/// PutObject.
pub async fn put(
    gw: &Gateway,
    req: S3Request<PutObjectInput>,
) -> S3Result<S3Response<PutObjectOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let origin = BodyOrigin::request(&req.headers, &req.extensions);
    let mut i = req.input;
    if i.content_length.is_some_and(|n| n > MAX_PUT_SIZE) {
        return Err(s3err(
            S3ErrorCode::EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed object size (5 GiB); use multipart upload.",
        ));
    }
    let target = gw.resolve(&actor, &i.bucket, None, Perm::Write).await?;
    let acl = requested_object_acl(
        gw,
        &actor,
        &i.bucket,
        i.acl.as_ref().map(|a| a.as_str()),
        &target.owner_id,
    )
    .await?;
    let meta = i.take_meta();
    let body = UploadBody {
        blob: i.body.take(),
        origin,
        content_length: i.content_length,
        content_md5: i.content_md5.as_deref(),
    };
    let (_, written) = upload(gw, &target, &i.bucket, &i.key, body, meta).await?;
    apply_object_acl(gw, &i.bucket, &i.key, acl).await?;
    Ok(S3Response::new(PutObjectOutput {
        e_tag: Some(ETag::Strong(meta::hex_md5(&written.md5))),
        size: Some(written.len as i64),
        ..Default::default()
    }))
}
