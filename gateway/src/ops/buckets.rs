//! Bucket operations: list, create, head, location, delete.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use uplink::{ErrorKind, ListBucketsOptions};

use super::acl::{apply_acl, canned_or_private};
use crate::acl::Perm;
use crate::error::{s3err, uplink_error};
use crate::state::Gateway;
use crate::store::now_unix;

/// ListBuckets: the user's buckets with creation dates, owner = the user.
pub async fn list(
    gw: &Gateway,
    req: S3Request<ListBucketsInput>,
) -> S3Result<S3Response<ListBucketsOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let s = Gateway::require_user(&actor)?;
    let buckets = s
        .project
        .list_buckets(&ListBucketsOptions::default())
        .await
        .map_err(uplink_error)?;
    let buckets = buckets
        .into_iter()
        .map(|b| Bucket {
            bucket_region: None,
            creation_date: Some(Timestamp::from(b.created)),
            name: Some(b.name),
        })
        .collect();
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(buckets),
        owner: Some(crate::acl::policy::owner(&s.user.id, &s.user.display_name)),
        ..Default::default()
    }))
}

/// CreateBucket: claims the name in the gateway's namespace, creates the
/// bucket in the user's project, applies a canned ACL.
pub async fn create(
    gw: &Gateway,
    req: S3Request<CreateBucketInput>,
) -> S3Result<S3Response<CreateBucketOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let s = Gateway::require_user(&actor)?;
    let input = req.input;
    let bucket = input.bucket;
    let acl = canned_or_private(input.acl.as_ref().map(|a| a.as_str()), &s.user.id)?;
    let location = input
        .create_bucket_configuration
        .and_then(|c| c.location_constraint)
        .map(|l| l.as_str().to_string())
        .unwrap_or_default();
    match gw
        .store()
        .claim_bucket(&bucket, &s.user.id, &location, now_unix())
        .await?
    {
        Ok(()) => {}
        Err(rec) if rec.owner_id == s.user.id => {
            return Err(s3err(
                S3ErrorCode::BucketAlreadyOwnedByYou,
                "Your previous request to create the named bucket succeeded and you already own it.",
            ));
        }
        Err(_) => {
            return Err(s3err(
                S3ErrorCode::BucketAlreadyExists,
                "The requested bucket name is not available. Please select a different name and try again.",
            ));
        }
    }
    match s.project.create_bucket(&bucket).await {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::BucketAlreadyExists => {
            return Err(s3err(
                S3ErrorCode::BucketAlreadyOwnedByYou,
                "Your previous request to create the named bucket succeeded and you already own it.",
            ));
        }
        Err(e) => {
            gw.store().release_bucket(&bucket).await?;
            return Err(uplink_error(e));
        }
    }
    apply_acl(gw, &s.access, &bucket, "", &s.user.id, &acl).await?;
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{bucket}")),
    }))
}

/// HeadBucket: whether the bucket exists and the caller may list it.
pub async fn head(
    gw: &Gateway,
    req: S3Request<HeadBucketInput>,
) -> S3Result<S3Response<HeadBucketOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let bucket = &req.input.bucket;
    gw.resolve_bucket(&actor, bucket, Perm::Read).await?;
    Ok(S3Response::new(HeadBucketOutput {
        bucket_region: Some(gw.region().to_string()),
        ..Default::default()
    }))
}

/// GetBucketLocation: the LocationConstraint given at creation.
pub async fn location(
    gw: &Gateway,
    req: S3Request<GetBucketLocationInput>,
) -> S3Result<S3Response<GetBucketLocationOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let bucket = &req.input.bucket;
    gw.resolve_bucket(&actor, bucket, Perm::Read).await?;
    let location = gw
        .store()
        .bucket(bucket)
        .await?
        .map(|r| r.location)
        .filter(|l| !l.is_empty());
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint: location.map(BucketLocationConstraint::from),
    }))
}

/// DeleteBucket: refused while it holds objects; releases the name.
pub async fn delete(
    gw: &Gateway,
    req: S3Request<DeleteBucketInput>,
) -> S3Result<S3Response<DeleteBucketOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let bucket = &req.input.bucket;
    let target = gw.resolve(&actor, bucket, None, Perm::Write).await?;
    if !target.is_owner {
        return Err(s3err(
            S3ErrorCode::AccessDenied,
            "only the bucket's owner may delete it",
        ));
    }
    match target.project.delete_bucket(bucket).await {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::BucketNotEmpty => {
            return Err(s3err(
                S3ErrorCode::BucketNotEmpty,
                "The bucket you tried to delete is not empty",
            ));
        }
        Err(e) if e.kind() == ErrorKind::BucketNotFound => {
            gw.store().release_bucket(bucket).await?;
            return Err(uplink_error(e));
        }
        Err(e) => return Err(uplink_error(e)),
    }
    gw.store().release_bucket(bucket).await?;
    Ok(S3Response::new(DeleteBucketOutput {}))
}
