//! Stored ACLs and the restricted grants made for them, per owning project
//! and bucket. Replacing or dropping an ACL moves its shares to the
//! revocation queue in the same transaction.

use sqlx::Row;

use super::Store;
use crate::error::GatewayError;

/// The ACL of a bucket (`object_key` empty) or an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclRecord {
    /// Canonical id of the owner.
    pub owner_id: String,
    /// Grants in the text form of [`crate::acl::Acl`].
    pub grants: String,
}

/// A sealed restricted access grant the gateway uses for `grantee`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareRecord {
    /// Bucket it covers.
    pub bucket: String,
    /// Object it covers; empty = the whole bucket.
    pub object_key: String,
    /// `AllUsers`, `AuthenticatedUsers` or a canonical id.
    pub grantee: String,
    /// `READ`, `WRITE` or `FULL_CONTROL`.
    pub permission: String,
    /// The grant, sealed under the share key.
    pub sealed_grant: String,
}

impl Store {
    /// Replaces the ACL of a bucket or object of `project_id` together
    /// with its shares, in one transaction. Returns the replaced shares,
    /// now queued for revocation.
    pub async fn put_acl(
        &self,
        project_id: &str,
        bucket: &str,
        object_key: &str,
        acl: &AclRecord,
        shares: &[ShareRecord],
    ) -> Result<Vec<String>, GatewayError> {
        let mut tx = self.pool().begin().await?;
        let old = Self::queue_shares(&mut tx, project_id, bucket, Some(object_key)).await?;
        sqlx::query(
            "INSERT INTO acls (project_id, bucket, object_key, owner_id, grants) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, bucket, object_key) \
             DO UPDATE SET owner_id = excluded.owner_id, grants = excluded.grants",
        )
        .bind(project_id.to_string())
        .bind(bucket.to_string())
        .bind(object_key.to_string())
        .bind(acl.owner_id.clone())
        .bind(acl.grants.clone())
        .execute(&mut *tx)
        .await?;
        for s in shares {
            sqlx::query(
                "INSERT INTO shares (project_id, bucket, object_key, grantee, permission, sealed_grant) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(project_id.to_string())
            .bind(bucket.to_string())
            .bind(object_key.to_string())
            .bind(s.grantee.clone())
            .bind(s.permission.clone())
            .bind(s.sealed_grant.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(old)
    }

    /// The ACL of a bucket (`object_key` empty) or object, if one was set.
    pub async fn acl(
        &self,
        project_id: &str,
        bucket: &str,
        object_key: &str,
    ) -> Result<Option<AclRecord>, GatewayError> {
        let row = sqlx::query(
            "SELECT owner_id, grants FROM acls \
             WHERE project_id = $1 AND bucket = $2 AND object_key = $3",
        )
        .bind(project_id.to_string())
        .bind(bucket.to_string())
        .bind(object_key.to_string())
        .fetch_optional(self.pool())
        .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(AclRecord {
                owner_id: r.try_get("owner_id")?,
                grants: r.try_get("grants")?,
            })),
        }
    }

    /// Drops an object's ACL (the object was deleted or is being
    /// replaced); its shares are queued for revocation and returned.
    pub async fn delete_object_acl(
        &self,
        project_id: &str,
        bucket: &str,
        object_key: &str,
    ) -> Result<Vec<String>, GatewayError> {
        // Most objects never had an ACL: a read spares a write transaction.
        if object_key.is_empty() || self.acl(project_id, bucket, object_key).await?.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool().begin().await?;
        let old = Self::queue_shares(&mut tx, project_id, bucket, Some(object_key)).await?;
        sqlx::query("DELETE FROM acls WHERE project_id = $1 AND bucket = $2 AND object_key = $3")
            .bind(project_id.to_string())
            .bind(bucket.to_string())
            .bind(object_key.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(old)
    }

    /// The share kept for `grantee` with `permission` on a bucket or object.
    pub async fn share(
        &self,
        project_id: &str,
        bucket: &str,
        object_key: &str,
        grantee: &str,
        permission: &str,
    ) -> Result<Option<ShareRecord>, GatewayError> {
        let row = sqlx::query(
            "SELECT sealed_grant FROM shares WHERE project_id = $1 AND bucket = $2 \
             AND object_key = $3 AND grantee = $4 AND permission = $5",
        )
        .bind(project_id.to_string())
        .bind(bucket.to_string())
        .bind(object_key.to_string())
        .bind(grantee.to_string())
        .bind(permission.to_string())
        .fetch_optional(self.pool())
        .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(ShareRecord {
                bucket: bucket.to_string(),
                object_key: object_key.to_string(),
                grantee: grantee.to_string(),
                permission: permission.to_string(),
                sealed_grant: r.try_get("sealed_grant")?,
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::all_stores;

    fn share(key: &str, sealed: &str) -> ShareRecord {
        ShareRecord {
            bucket: "b".into(),
            object_key: key.into(),
            grantee: "AllUsers".into(),
            permission: "READ".into(),
            sealed_grant: sealed.into(),
        }
    }

    #[tokio::test]
    async fn acls_belong_to_one_project_and_replaced_shares_are_queued() {
        let (stores, _dir) = all_stores().await;
        for store in stores {
            let acl = AclRecord {
                owner_id: "alice".into(),
                grants: "AllUsers\tREAD\n".into(),
            };
            let none = store
                .put_acl("sat/p1", "b", "k", &acl, &[share("k", "s1")])
                .await
                .unwrap();
            assert!(none.is_empty());
            // The same bucket and key of another project is another row.
            assert!(store.acl("sat/p2", "b", "k").await.unwrap().is_none());
            assert!(
                store
                    .share("sat/p2", "b", "k", "AllUsers", "READ")
                    .await
                    .unwrap()
                    .is_none()
            );
            assert!(
                store
                    .delete_object_acl("sat/p2", "b", "k")
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert_eq!(
                store
                    .share("sat/p1", "b", "k", "AllUsers", "READ")
                    .await
                    .unwrap()
                    .unwrap()
                    .sealed_grant,
                "s1"
            );
            // Replacing queues the old share; deleting queues the new one.
            let old = store
                .put_acl("sat/p1", "b", "k", &acl, &[share("k", "s2")])
                .await
                .unwrap();
            assert_eq!(old, vec!["s1".to_string()]);
            assert_eq!(
                store.delete_object_acl("sat/p1", "b", "k").await.unwrap(),
                vec!["s2".to_string()]
            );
            assert!(store.acl("sat/p1", "b", "k").await.unwrap().is_none());
            let mut queued = store.queued_revocations(10).await.unwrap();
            queued.sort();
            assert_eq!(queued, vec!["s1".to_string(), "s2".to_string()]);
            store.revocation_done("s1").await.unwrap();
            assert_eq!(
                store.queued_revocations(10).await.unwrap(),
                vec!["s2".to_string()]
            );
        }
    }
}
