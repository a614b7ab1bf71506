//! ACL operations (Get/Put Bucket/Object Acl) and what other operations
//! need of ACLs: the new object's ACL ([`new_object`]), the shares that
//! realize grants ([`shares`]), and who may change ACLs ([`owner`]).

mod new_object;
mod owner;
mod request;
mod shares;

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

pub use new_object::{RequestedAcl, apply_object_acl, requested_object_acl};
pub use owner::owner_scope;
use request::{grant_headers, requested_acl};
pub use shares::{apply_acl, drop_object_acl};

use crate::acl::{self as model, Acl, Grantee, Perm};
use crate::s3error::{s3err, uplink_error};
use crate::state::Gateway;

/// The stored ACL of a bucket or object, or the owner-only default.
async fn stored_acl(
    gw: &Gateway,
    scope: &str,
    bucket: &str,
    key: &str,
    owner: &str,
) -> S3Result<(String, Acl)> {
    match gw.store().acl(scope, bucket, key).await? {
        Some(rec) => {
            let acl = Acl::from_text(&rec.grants)
                .ok_or_else(|| s3err(S3ErrorCode::InternalError, "stored ACL is corrupt"))?;
            Ok((rec.owner_id, acl))
        }
        None => Ok((owner.to_string(), Acl::private(owner))),
    }
}

/// The Owner and Grants elements of an ACL, with display names.
async fn policy_output(gw: &Gateway, owner: &str, acl: &Acl) -> (Owner, Grants) {
    let mut names = std::collections::HashMap::new();
    for g in &acl.grants {
        if let Grantee::User(id) = &g.grantee
            && !names.contains_key(id)
        {
            let name = gw.display_name(id).await.unwrap_or_else(|| id.clone());
            names.insert(id.clone(), name);
        }
    }
    let owner_name = match names.get(owner) {
        Some(n) => n.clone(),
        None => gw
            .display_name(owner)
            .await
            .unwrap_or_else(|| owner.to_string()),
    };
    (
        model::policy::owner(owner, &owner_name),
        model::policy::grants(acl, |id| names.get(id).cloned()),
    )
}

/// GetBucketAcl.
pub async fn get_bucket(
    gw: &Gateway,
    req: S3Request<GetBucketAclInput>,
) -> S3Result<S3Response<GetBucketAclOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let bucket = &req.input.bucket;
    let target = gw.resolve_bucket(&actor, bucket, Perm::ReadAcp).await?;
    let (owner, acl) = stored_acl(gw, &target.scope, bucket, "", &target.owner_id).await?;
    let (owner, grants) = policy_output(gw, &owner, &acl).await;
    Ok(S3Response::new(GetBucketAclOutput {
        grants: Some(grants),
        owner: Some(owner),
    }))
}

/// PutBucketAcl (owner only).
pub async fn put_bucket(
    gw: &Gateway,
    req: S3Request<PutBucketAclInput>,
) -> S3Result<S3Response<PutBucketAclOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let (s, scope) = owner_scope(gw, &actor, &i.bucket, "change its ACL").await?;
    s.project
        .stat_bucket(&i.bucket)
        .await
        .map_err(uplink_error)?;
    let acl = requested_acl(
        gw,
        &s.user.id,
        i.acl.as_ref().map(|a| a.as_str()),
        i.access_control_policy,
        grant_headers!(i),
    )
    .await?;
    apply_acl(gw, &s.access, &scope, &i.bucket, "", &s.user.id, &acl).await?;
    Ok(S3Response::new(PutBucketAclOutput {}))
}

/// GetObjectAcl.
pub async fn get_object(
    gw: &Gateway,
    req: S3Request<GetObjectAclInput>,
) -> S3Result<S3Response<GetObjectAclOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let (bucket, key) = (&req.input.bucket, &req.input.key);
    let target = gw.resolve(&actor, bucket, Some(key), Perm::ReadAcp).await?;
    // The object must exist (a share may not be able to stat it: the ACL is
    // the gateway's own record then).
    if target.is_owner {
        target
            .project
            .stat_object(bucket, key)
            .await
            .map_err(uplink_error)?;
    }
    let (owner, acl) = stored_acl(gw, &target.scope, bucket, key, &target.owner_id).await?;
    let (owner, grants) = policy_output(gw, &owner, &acl).await;
    Ok(S3Response::new(GetObjectAclOutput {
        grants: Some(grants),
        owner: Some(owner),
        request_charged: None,
    }))
}

/// PutObjectAcl (bucket owner only).
pub async fn put_object(
    gw: &Gateway,
    req: S3Request<PutObjectAclInput>,
) -> S3Result<S3Response<PutObjectAclOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let (s, scope) = owner_scope(gw, &actor, &i.bucket, "change object ACLs").await?;
    s.project
        .stat_object(&i.bucket, &i.key)
        .await
        .map_err(uplink_error)?;
    let acl = requested_acl(
        gw,
        &s.user.id,
        i.acl.as_ref().map(|a| a.as_str()),
        i.access_control_policy,
        grant_headers!(i),
    )
    .await?;
    apply_acl(gw, &s.access, &scope, &i.bucket, &i.key, &s.user.id, &acl).await?;
    Ok(S3Response::new(PutObjectAclOutput::default()))
}
