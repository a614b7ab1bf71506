//! Stored ACLs and the restricted grants made for them.

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
    /// Replaces the ACL of a bucket or object together with its shares, in
    /// one transaction.
    pub async fn put_acl(
        &self,
        bucket: &str,
        object_key: &str,
        acl: &AclRecord,
        shares: &[ShareRecord],
    ) -> Result<(), GatewayError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO acls (bucket, object_key, owner_id, grants) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (bucket, object_key) DO UPDATE SET owner_id = excluded.owner_id, grants = excluded.grants",
        )
        .bind(bucket.to_string())
        .bind(object_key.to_string())
        .bind(acl.owner_id.clone())
        .bind(acl.grants.clone())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM shares WHERE bucket = $1 AND object_key = $2")
            .bind(bucket.to_string())
            .bind(object_key.to_string())
            .execute(&mut *tx)
            .await?;
        for s in shares {
            sqlx::query(
                "INSERT INTO shares (bucket, object_key, grantee, permission, sealed_grant) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(s.bucket.clone())
            .bind(s.object_key.clone())
            .bind(s.grantee.clone())
            .bind(s.permission.clone())
            .bind(s.sealed_grant.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The ACL of a bucket (`object_key` empty) or object, if one was set.
    pub async fn acl(
        &self,
        bucket: &str,
        object_key: &str,
    ) -> Result<Option<AclRecord>, GatewayError> {
        let row =
            sqlx::query("SELECT owner_id, grants FROM acls WHERE bucket = $1 AND object_key = $2")
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

    /// Drops an object's ACL and shares (the object was deleted).
    pub async fn delete_object_acl(
        &self,
        bucket: &str,
        object_key: &str,
    ) -> Result<(), GatewayError> {
        // Most objects never had an ACL: a read spares a write transaction.
        if object_key.is_empty() || self.acl(bucket, object_key).await?.is_none() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await?;
        for table in ["acls", "shares"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE bucket = $1 AND object_key = $2"
            )))
            .bind(bucket.to_string())
            .bind(object_key.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The share kept for `grantee` with `permission` on a bucket or object.
    pub async fn share(
        &self,
        bucket: &str,
        object_key: &str,
        grantee: &str,
        permission: &str,
    ) -> Result<Option<ShareRecord>, GatewayError> {
        let row = sqlx::query(
            "SELECT sealed_grant FROM shares WHERE bucket = $1 AND object_key = $2 AND grantee = $3 AND permission = $4",
        )
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
