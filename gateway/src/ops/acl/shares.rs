//! Storing an ACL and the restricted grants (shares) that realize it at
//! the satellite; dropping an object's ACL and revoking its shares.

use s3s::S3Result;
use uplink::share::ShareObject;
use uplink::{Access, Permission, SharePrefix};

use crate::acl::{Acl, Grantee, Perm};
use crate::s3error::uplink_error;
use crate::state::Gateway;
use crate::store::{AclRecord, ShareRecord};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_carry_only_the_data_access_a_grant_needs() {
        let read = bucket_share_permission(Perm::Read).unwrap();
        assert!(read.allow_download && read.allow_list && !read.allow_upload);
        let write = bucket_share_permission(Perm::Write).unwrap();
        assert!(write.allow_upload && write.allow_delete && !write.allow_download);
        assert!(bucket_share_permission(Perm::ReadAcp).is_none());
        assert!(bucket_share_permission(Perm::WriteAcp).is_none());
        // An object grant reads that object, nothing more.
        for p in [Perm::Read, Perm::FullControl] {
            let o = object_share_permission(p).unwrap();
            assert!(o.allow_download && !o.allow_list && !o.allow_upload && !o.allow_delete);
        }
        for p in [Perm::Write, Perm::ReadAcp, Perm::WriteAcp] {
            assert!(object_share_permission(p).is_none(), "{p:?}");
        }
    }
}
