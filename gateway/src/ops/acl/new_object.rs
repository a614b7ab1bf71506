//! The ACL a new object gets from the request that writes it (PutObject,
//! CopyObject, a multipart upload's canned `x-amz-acl`): the owner-only
//! default for anyone who may write, anything wider only from a user of
//! the bucket's owning project, checked before any data moves.

use std::sync::Arc;

use s3s::S3Result;

use super::owner::owner_scope;
use super::shares::apply_acl;
use crate::acl::Acl;
use crate::state::{Actor, Gateway, Session};

/// An ACL wider than the default, and who applies it.
pub struct RequestedAcl {
    /// The ACL, owned by the applying user.
    pub acl: Acl,
    /// The session of the user (of the owning project) who applies it.
    pub session: Arc<Session>,
    /// The owning project's scope.
    pub scope: String,
}

/// The ACL a put-like request asks for with `canned`: `None` when it is
/// the owner-only default (anyone who may write gets that); else the ACL
/// with the session of a user of the bucket's owning project (AccessDenied
/// for anyone else) and the project scope.
pub async fn requested_object_acl(
    gw: &Gateway,
    actor: &Actor,
    bucket: &str,
    canned: Option<&str>,
    owner_id: &str,
) -> S3Result<Option<RequestedAcl>> {
    if !Acl::canned_or_private(canned, owner_id)?.grants_others() {
        return Ok(None);
    }
    let (session, scope) = owner_scope(gw, actor, bucket, "set ACLs").await?;
    // The owner named by the canned ACL is the user who applies it.
    let acl = Acl::canned_or_private(canned, &session.user.id)?;
    Ok(Some(RequestedAcl {
        acl,
        session,
        scope,
    }))
}

/// Applies what [`requested_object_acl`] returned to the new object.
pub async fn apply_object_acl(
    gw: &Gateway,
    bucket: &str,
    key: &str,
    requested: Option<RequestedAcl>,
) -> S3Result<()> {
    match requested {
        Some(r) => {
            let s = &r.session;
            apply_acl(gw, &s.access, &r.scope, bucket, key, &s.user.id, &r.acl).await
        }
        None => Ok(()),
    }
}
