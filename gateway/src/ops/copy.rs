//! CopyObject: streams the source through the gateway into the target,
//! keeping (COPY) or replacing (REPLACE) the metadata, under the
//! `x-amz-copy-source-if-*` conditions.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use uplink::DownloadOptions;

use super::acl::{apply_object_acl, requested_object_acl};
use super::stat::{last_modified, stat};
use super::upload::{RequestedMeta, UploadBody, upload};
use crate::acl::Perm;
use crate::body::{self, BodyOrigin};
use crate::conditions::{Applies, Conditions};
use crate::meta::{self, ObjectMeta};
use crate::s3error::{s3err, uplink_error};
use crate::state::Gateway;

/// CopyObject.
pub async fn copy(
    gw: &Gateway,
    req: S3Request<CopyObjectInput>,
) -> S3Result<S3Response<CopyObjectOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let mut i = req.input;
    let CopySource::Bucket {
        bucket: src_bucket,
        key: src_key,
        version_id,
    } = i.copy_source.clone()
    else {
        return Err(s3err(
            S3ErrorCode::NotImplemented,
            "copy from access points is not supported",
        ));
    };
    if version_id.is_some() {
        return Err(s3err(
            S3ErrorCode::NotImplemented,
            "versioning is not supported",
        ));
    }
    let source = gw
        .resolve(&actor, &src_bucket, Some(&src_key), Perm::Read)
        .await?;
    let target = gw.resolve(&actor, &i.bucket, None, Perm::Write).await?;
    let acl = requested_object_acl(
        gw,
        &actor,
        &i.bucket,
        i.acl.as_ref().map(|a| a.as_str()),
        &target.owner_id,
    )
    .await?;
    let object = stat(&source.project, &src_bucket, &src_key).await?;
    let src_meta = ObjectMeta::from_custom(&object.custom);
    // S3 answers 412 for every failed copy-source condition.
    Conditions::of_copy_source(&i).check(
        &src_meta.etag(),
        &last_modified(&object),
        Applies::Other,
    )?;
    let replace = i
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
    let same = *src_bucket == *i.bucket && *src_key == *i.key;
    if same && !replace {
        return Err(s3err(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata.",
        ));
    }
    let meta = if replace {
        i.take_meta()
    } else {
        ObjectMeta {
            etag: None,
            ..src_meta
        }
    };
    let size = object.system.content_length.max(0);
    let blob = if size == 0 {
        None
    } else {
        let dl = source
            .project
            .download_object(
                &src_bucket,
                &src_key,
                &DownloadOptions {
                    offset: 0,
                    length: -1,
                },
            )
            .await
            .map_err(uplink_error)?;
        Some(body::download_body(dl))
    };
    let body = UploadBody {
        blob,
        origin: BodyOrigin::internal(),
        content_length: Some(size),
        content_md5: None,
    };
    let (new_object, written) = upload(gw, &target, &i.bucket, &i.key, body, meta).await?;
    apply_object_acl(gw, &i.bucket, &i.key, acl).await?;
    Ok(S3Response::new(CopyObjectOutput {
        copy_object_result: Some(CopyObjectResult {
            e_tag: Some(ETag::Strong(meta::hex_md5(&written.md5))),
            last_modified: Some(last_modified(&new_object)),
            ..Default::default()
        }),
        ..Default::default()
    }))
}
