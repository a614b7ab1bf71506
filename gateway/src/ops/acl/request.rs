//! The ACL a Put*Acl request asks for: a canned `x-amz-acl`, the
//! `x-amz-grant-*` headers, or an AccessControlPolicy body.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Result};

use crate::acl::{Acl, Grant, Grantee, Perm};
use crate::s3error::s3err;
use crate::state::Gateway;

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
pub(super) use grant_headers;

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

/// The grantee of one AccessControlPolicy grant.
async fn policy_grantee(gw: &Gateway, grantee: s3s::dto::Grantee) -> S3Result<Grantee> {
    let malformed = |m: &str| s3err(S3ErrorCode::MalformedACLError, m.to_string());
    match grantee.type_.as_str() {
        Type::CANONICAL_USER => {
            Ok(Grantee::User(grantee.id.ok_or_else(|| {
                malformed("CanonicalUser grantee without ID")
            })?))
        }
        Type::AMAZON_CUSTOMER_BY_EMAIL => {
            let email = grantee
                .email_address
                .ok_or_else(|| malformed("AmazonCustomerByEmail grantee without EmailAddress"))?;
            Ok(Grantee::User(user_by_email(gw, &email).await?))
        }
        Type::GROUP => grantee
            .uri
            .as_deref()
            .and_then(Grantee::from_group_uri)
            .ok_or_else(|| malformed("unknown group URI")),
        other => Err(malformed(&format!("unknown grantee type {other}"))),
    }
}

/// The ACL a Put*Acl request asks for: canned header, grant headers, or
/// the AccessControlPolicy body.
pub async fn requested_acl(
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
        let who = policy_grantee(gw, grantee).await?;
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
