//! ACL operations and the restricted grants (shares) kept for them.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use uplink::share::ShareObject;
use uplink::{Access, Permission, SharePrefix};

use crate::acl::{self as model, Acl, Grant, Grantee, Perm};
use crate::error::{s3err, uplink_error};
use crate::state::Gateway;
use crate::store::{AclRecord, ShareRecord};

/// The ACL for an optional canned name (none = private).
pub fn canned_or_private(canned: Option<&str>, owner: &str) -> S3Result<Acl> {
    match canned {
        Some(name) => Acl::canned(name, owner),
        None => Ok(Acl::private(owner)),
    }
}

/// The share permission that realizes a bucket grant, if it needs one.
fn bucket_share_permission(perm: Perm) -> Option<Permission> {
    match perm {
        Perm::Read => Some(Permission::read_only()),
        Perm::Write => Some(Permission {
            allow_upload: true,
            allow_list: true,
            allow_delete: true,
            ..Default::default()
        }),
        Perm::FullControl => Some(Permission::full()),
        Perm::ReadAcp | Perm::WriteAcp => None,
    }
}

/// The share permission that realizes an object grant: reading the object
/// (WRITE does not apply to objects in S3; the ACL permissions are the
/// gateway's own business).
fn object_share_permission(perm: Perm) -> Option<Permission> {
    match perm {
        Perm::Read | Perm::FullControl => Some(Permission {
            allow_download: true,
            ..Default::default()
        }),
        Perm::Write | Perm::ReadAcp | Perm::WriteAcp => None,
    }
}

/// Stores the ACL of a bucket (`key` empty) or object of project `scope`
/// and, for every grant to someone other than the owner that needs data
/// access, a restricted share of `owner_access`: limited to the bucket for
/// a bucket ACL, to exactly the object (its encrypted key) for an object
/// ACL. The shares the new ACL replaces are revoked at the satellite.
pub async fn apply_acl(
    gw: &Gateway,
    owner_access: &Access,
    scope: &str,
    bucket: &str,
    key: &str,
    owner_id: &str,
    acl: &Acl,
) -> S3Result<()> {
    let mut shares = Vec::new();
    for g in &acl.grants {
        if g.grantee == Grantee::User(owner_id.to_string()) {
            continue;
        }
        let share = if key.is_empty() {
            let Some(permission) = bucket_share_permission(g.perm) else {
                continue;
            };
            let prefix = [SharePrefix {
                bucket: bucket.to_string(),
                prefix: String::new(),
            }];
            owner_access.share(&permission, &prefix)
        } else {
            let Some(permission) = object_share_permission(g.perm) else {
                continue;
            };
            let object = [ShareObject {
                bucket: bucket.to_string(),
                key: key.to_string(),
            }];
            owner_access.share_objects(&permission, &object)
        }
        .map_err(uplink_error)?;
        shares.push(ShareRecord {
            bucket: bucket.to_string(),
            object_key: key.to_string(),
            grantee: g.grantee.key().to_string(),
            permission: g.perm.as_str().to_string(),
            sealed_grant: gw.seal_share(&share.serialize()),
        });
    }
    let record = AclRecord {
        owner_id: owner_id.to_string(),
        grants: acl.to_text(),
    };
    let replaced = gw
        .store()
        .put_acl(scope, bucket, key, &record, &shares)
        .await?;
    gw.revoke_shares(&replaced).await;
    Ok(())
}

/// Drops an object's ACL and revokes its shares: before an object is
/// replaced (so the new content is never readable through the old ACL)
/// and after it is deleted.
pub async fn drop_object_acl(gw: &Gateway, scope: &str, bucket: &str, key: &str) -> S3Result<()> {
    let dropped = gw.store().delete_object_acl(scope, bucket, key).await?;
    gw.revoke_shares(&dropped).await;
    Ok(())
}

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

/// Parses one `x-amz-grant-*` header: `id="..", emailAddress="..", uri=".."`.
async fn header_grants(
    gw: &Gateway,
    value: &str,
    perm: Perm,
    out: &mut Vec<Grant>,
) -> S3Result<()> {
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (kind, v) = item
            .split_once('=')
            .ok_or_else(|| s3err(S3ErrorCode::InvalidArgument, format!("bad grant {item:?}")))?;
        let v = v.trim().trim_matches('"');
        let grantee = match kind.trim() {
            "id" => Grantee::User(v.to_string()),
            "emailAddress" => Grantee::User(user_by_email(gw, v).await?),
            "uri" => Grantee::from_group_uri(v).ok_or_else(|| {
                s3err(S3ErrorCode::InvalidArgument, format!("unknown group {v:?}"))
            })?,
            other => {
                return Err(s3err(
                    S3ErrorCode::InvalidArgument,
                    format!("bad grantee type {other:?}"),
                ));
            }
        };
        out.push(Grant { grantee, perm });
    }
    Ok(())
}

/// The user an email grant names: only an email an operator confirmed
/// counts (anyone may claim any email when registering).
async fn user_by_email(gw: &Gateway, email: &str) -> S3Result<String> {
    match gw.store().user_by_confirmed_email(email).await? {
        Some(u) => Ok(u.id),
        None => Err(s3err(
            S3ErrorCode::UnresolvableGrantByEmailAddress,
            format!("no registered user has the confirmed email {email}"),
        )),
    }
}

/// The ACL a Put*Acl request asks for: canned header, grant headers, or
/// the AccessControlPolicy body.
#[allow(clippy::too_many_arguments)]
async fn requested_acl(
    gw: &Gateway,
    owner: &str,
    canned: Option<&str>,
    policy: Option<AccessControlPolicy>,
    headers: [(Option<&String>, Perm); 5],
) -> S3Result<Acl> {
    if let Some(name) = canned {
        return Acl::canned(name, owner);
    }
    let mut grants = Vec::new();
    let mut any_header = false;
    for (value, perm) in headers {
        if let Some(v) = value {
            any_header = true;
            header_grants(gw, v, perm, &mut grants).await?;
        }
    }
    if any_header {
        return Ok(Acl { grants });
    }
    let Some(policy) = policy else {
        return Err(s3err(
            S3ErrorCode::MissingSecurityHeader,
            "give x-amz-acl, x-amz-grant-* headers or an AccessControlPolicy body",
        ));
    };
    for g in policy.grants.unwrap_or_default() {
        let perm = g
            .permission
            .as_ref()
            .and_then(|p| Perm::parse(p.as_str()))
            .ok_or_else(|| {
                s3err(
                    S3ErrorCode::MalformedACLError,
                    "grant without a valid Permission",
                )
            })?;
        let grantee = g
            .grantee
            .ok_or_else(|| s3err(S3ErrorCode::MalformedACLError, "grant without a Grantee"))?;
        let who = match grantee.type_.as_str() {
            Type::CANONICAL_USER => Grantee::User(grantee.id.ok_or_else(|| {
                s3err(
                    S3ErrorCode::MalformedACLError,
                    "CanonicalUser grantee without ID",
                )
            })?),
            Type::AMAZON_CUSTOMER_BY_EMAIL => {
                let email = grantee.email_address.ok_or_else(|| {
                    s3err(
                        S3ErrorCode::MalformedACLError,
                        "AmazonCustomerByEmail grantee without EmailAddress",
                    )
                })?;
                Grantee::User(user_by_email(gw, &email).await?)
            }
            Type::GROUP => grantee
                .uri
                .as_deref()
                .and_then(Grantee::from_group_uri)
                .ok_or_else(|| s3err(S3ErrorCode::MalformedACLError, "unknown group URI"))?,
            other => {
                return Err(s3err(
                    S3ErrorCode::MalformedACLError,
                    format!("unknown grantee type {other}"),
                ));
            }
        };
        grants.push(Grant { grantee: who, perm });
    }
    for g in &grants {
        if let Grantee::User(id) = &g.grantee
            && gw.store().user_by_id(id).await?.is_none()
        {
            return Err(s3err(
                S3ErrorCode::InvalidArgument,
                format!("no registered user has the id {id}"),
            ));
        }
    }
    Ok(Acl { grants })
}

/// The five `x-amz-grant-*` headers of a Put*Acl input with their
/// permissions.
macro_rules! grant_headers {
    ($i:expr) => {
        [
            ($i.grant_full_control.as_ref(), Perm::FullControl),
            ($i.grant_read.as_ref(), Perm::Read),
            ($i.grant_read_acp.as_ref(), Perm::ReadAcp),
            ($i.grant_write.as_ref(), Perm::Write),
            ($i.grant_write_acp.as_ref(), Perm::WriteAcp),
        ]
    };
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

/// The owning user's session and the project scope of `bucket` for an
/// ACL change, claiming a name nobody claimed for the user's project when
/// the bucket is theirs.
pub(crate) async fn owner_scope(
    gw: &Gateway,
    actor: &crate::state::Actor,
    bucket: &str,
    what: &str,
) -> S3Result<(std::sync::Arc<crate::state::Session>, String)> {
    let (s, record) = gw.owned_bucket(actor, bucket, true, what).await?;
    let scope = record.map_or_else(|| s.project_key.clone(), |r| r.project_id);
    Ok((s, scope))
}
