//! DeleteObject and DeleteObjects: objects removed with their ACLs (and
//! the shares those revoked); a missing key is not an error (S3).

use futures::StreamExt;
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use uplink::{ErrorKind, Project};

use super::acl::drop_object_acl;
use crate::acl::Perm;
use crate::s3error::{s3err, uplink_error};
use crate::state::Gateway;

/// Most keys one DeleteObjects request may name (S3's limit).
const MAX_KEYS: usize = 1000;

/// Deletes one object and its ACL (revoking its shares); a missing key is
/// not an error. Whether the object existed.
async fn delete_one(
    gw: &Gateway,
    project: &Project,
    scope: &str,
    bucket: &str,
    key: &str,
) -> S3Result<bool> {
    let existed = match project.delete_object(bucket, key).await {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::ObjectNotFound => false,
        Err(e) => return Err(uplink_error(e)),
    };
    drop_object_acl(gw, scope, bucket, key).await?;
    Ok(existed)
}

/// DeleteObject. The bucket is checked only when the key was missing
/// (NoSuchBucket then), not on every delete.
pub async fn delete(
    gw: &Gateway,
    req: S3Request<DeleteObjectInput>,
) -> S3Result<S3Response<DeleteObjectOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = gw.resolve(&actor, &i.bucket, None, Perm::Write).await?;
    if !delete_one(gw, &target.project, &target.scope, &i.bucket, &i.key).await? {
        target
            .project
            .stat_bucket(&i.bucket)
            .await
            .map_err(uplink_error)?;
    }
    Ok(S3Response::new(DeleteObjectOutput::default()))
}

/// DeleteObjects (multi-delete), eight at a time.
pub async fn delete_many(
    gw: &Gateway,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    if i.delete.objects.len() > MAX_KEYS {
        return Err(s3err(
            S3ErrorCode::MalformedXML,
            "at most 1000 keys per DeleteObjects request",
        ));
    }
    let target = gw.resolve_bucket(&actor, &i.bucket, Perm::Write).await?;
    let quiet = i.delete.quiet.unwrap_or(false);
    let results: Vec<(String, S3Result<()>)> = futures::stream::iter(i.delete.objects)
        .map(|o| {
            let project = target.project.clone();
            let scope = target.scope.clone();
            let bucket = i.bucket.clone();
            async move {
                let r = delete_one(gw, &project, &scope, &bucket, &o.key)
                    .await
                    .map(|_| ());
                (o.key, r)
            }
        })
        .buffered(8)
        .collect()
        .await;
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    for (key, r) in results {
        match r {
            Ok(()) if !quiet => deleted.push(DeletedObject {
                key: Some(key),
                ..Default::default()
            }),
            Ok(()) => {}
            Err(e) => errors.push(Error {
                code: Some(e.code().as_str().to_string()),
                key: Some(key),
                message: e.message().map(str::to_string),
                version_id: None,
            }),
        }
    }
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: (!errors.is_empty()).then_some(errors),
        request_charged: None,
    }))
}
