//! Bucket operations: list, create, head, location, delete.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use uplink::{ErrorKind, ListBucketsOptions};

use super::acl::apply_acl;
use crate::acl::{Acl, Perm};
use crate::s3error::codes::wording;
use crate::s3error::{s3err, uplink_error};
use crate::state::{Actor, Gateway};
use crate::store::{BucketRecord, now_unix};

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

/// CreateBucket: claims the name for the user's project in the gateway's
/// namespace, creates the bucket in that project (or adopts the project's
/// existing bucket of that name), applies a canned ACL.
pub async fn create(
    gw: &Gateway,
    req: S3Request<CreateBucketInput>,
) -> S3Result<S3Response<CreateBucketOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let s = Gateway::require_user(&actor)?;
    let input = req.input;
    let bucket = input.bucket;
    let acl = Acl::canned_or_private(input.acl.as_ref().map(|a| a.as_str()), &s.user.id)?;
    let location = input
        .create_bucket_configuration
        .and_then(|c| c.location_constraint)
        .map(|l| l.as_str().to_string())
        .unwrap_or_default();
    let claim = BucketRecord {
        name: bucket.clone(),
        project_id: s.project_key.clone(),
        owner_id: s.user.id.clone(),
        location,
        created_at: now_unix(),
    };
    match gw.store().claim_bucket(&claim).await? {
        Ok(()) => {}
        Err(rec) if rec.project_id == s.project_key => {
            return Err(s3err(
                S3ErrorCode::BucketAlreadyOwnedByYou,
                wording::BUCKET_ALREADY_OWNED_BY_YOU,
            ));
        }
        Err(_) => {
            return Err(s3err(
                S3ErrorCode::BucketAlreadyExists,
                wording::BUCKET_ALREADY_EXISTS,
            ));
        }
    }
    match s.project.create_bucket(&bucket).await {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::BucketAlreadyExists => {
            // The project's own bucket, made outside the gateway: the
            // name is now claimed for it (BucketAlreadyOwnedByYou).
            return Err(uplink_error(e));
        }
        Err(e) => {
            let queued = gw.store().release_bucket(&bucket, &s.project_key).await?;
            gw.revoke_shares(&queued).await;
            return Err(uplink_error(e));
        }
    }
    apply_acl(gw, &s.access, &s.project_key, &bucket, "", &s.user.id, &acl).await?;
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
    let target = gw.resolve_bucket(&actor, bucket, Perm::Read).await?;
    let location = gw
        .store()
        .bucket(bucket)
        .await?
        .filter(|r| r.project_id == target.scope)
        .map(|r| r.location)
        .filter(|l| !l.is_empty());
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint: location.map(BucketLocationConstraint::from),
    }))
}

/// DeleteBucket: only for users of the owning project; refused while it
/// holds objects or multipart uploads in progress; then releases the name
/// (and revokes its shares). A name nobody claimed is deleted in the
/// user's own project, if it is there, and nothing is released.
pub async fn delete(
    gw: &Gateway,
    req: S3Request<DeleteBucketInput>,
) -> S3Result<S3Response<DeleteBucketOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let bucket = &req.input.bucket;
    let target = gw.resolve(&actor, bucket, None, Perm::Write).await?;
    if !target.is_owner && (target.claimed || matches!(actor, Actor::Anonymous)) {
        return Err(s3err(
            S3ErrorCode::AccessDenied,
            "only the bucket's owner may delete it",
        ));
    }
    let not_empty = |why: &str| {
        s3err(
            S3ErrorCode::BucketNotEmpty,
            format!("The bucket you tried to delete is not empty: {why}"),
        )
    };
    match target.project.has_uploads_in_progress(bucket).await {
        Ok(true) => return Err(not_empty("it has multipart uploads in progress")),
        Ok(false) => {}
        Err(e) if e.kind() == ErrorKind::BucketNotFound => {}
        Err(e) => return Err(uplink_error(e)),
    }
    let release = async || -> S3Result<()> {
        if target.claimed {
            let queued = gw.store().release_bucket(bucket, &target.scope).await?;
            gw.revoke_shares(&queued).await;
        }
        Ok(())
    };
    match target.project.delete_bucket(bucket).await {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::BucketNotEmpty => {
            return Err(not_empty("it holds objects"));
        }
        Err(e) if e.kind() == ErrorKind::BucketNotFound => {
            // A stale claim of the owner's project: the bucket is gone.
            release().await?;
            return Err(uplink_error(e));
        }
        Err(e) => return Err(uplink_error(e)),
    }
    release().await?;
    Ok(S3Response::new(DeleteBucketOutput {}))
}
