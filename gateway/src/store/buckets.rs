//! The gateway's bucket namespace: which project claimed which bucket
//! name. Everything else kept per bucket (ACLs, shares, CORS, uploads) is
//! keyed by that project too, so a name claimed again by another project
//! never inherits them.

use sqlx::Row;

use super::Store;
use crate::error::GatewayError;

/// A bucket name claimed through the gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketRecord {
    /// Bucket name.
    pub name: String,
    /// The owning project: `satellite id/project id`.
    pub project_id: String,
    /// Canonical id of the user who claimed it (shown as the owner).
    pub owner_id: String,
    /// LocationConstraint given at creation ("" = the default region).
    pub location: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl Store {
    /// Claims `rec.name` for `rec.project_id`; the existing record if the
    /// name is taken (by this project or another).
    pub async fn claim_bucket(
        &self,
        rec: &BucketRecord,
    ) -> Result<Result<(), BucketRecord>, GatewayError> {
        for _ in 0..3 {
            let r = sqlx::query(
                "INSERT INTO buckets (name, project_id, owner_id, location, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
            )
            .bind(rec.name.clone())
            .bind(rec.project_id.clone())
            .bind(rec.owner_id.clone())
            .bind(rec.location.clone())
            .bind(rec.created_at)
            .execute(self.pool())
            .await?;
            if r.rows_affected() == 1 {
                return Ok(Ok(()));
            }
            // Released between the insert and the read: try again.
            if let Some(existing) = self.bucket(&rec.name).await? {
                return Ok(Err(existing));
            }
        }
        Err(GatewayError::Conflict(format!(
            "bucket name {} is being claimed and released concurrently",
            rec.name
        )))
    }

    /// The record of a claimed bucket name.
    pub async fn bucket(&self, name: &str) -> Result<Option<BucketRecord>, GatewayError> {
        let row = sqlx::query(
            "SELECT name, project_id, owner_id, location, created_at FROM buckets WHERE name = $1",
        )
        .bind(name.to_string())
        .fetch_optional(self.pool())
        .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(BucketRecord {
                name: r.try_get("name")?,
                project_id: r.try_get("project_id")?,
                owner_id: r.try_get("owner_id")?,
                location: r.try_get("location")?,
                created_at: r.try_get("created_at")?,
            })),
        }
    }

    /// Releases a bucket name claimed by `project_id`, with everything the
    /// gateway kept for it (ACLs, CORS, upload records); its shares move to
    /// the revocation queue. Returns the queued shares, and nothing at all
    /// happens when the name is not `project_id`'s.
    pub async fn release_bucket(
        &self,
        name: &str,
        project_id: &str,
    ) -> Result<Vec<String>, GatewayError> {
        let mut tx = self.pool().begin().await?;
        let released = sqlx::query("DELETE FROM buckets WHERE name = $1 AND project_id = $2")
            .bind(name.to_string())
            .bind(project_id.to_string())
            .execute(&mut *tx)
            .await?;
        if released.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        let queued = Self::queue_shares(&mut tx, project_id, name, None).await?;
        for table in ["uploads", "acls", "cors"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE project_id = $1 AND bucket = $2"
            )))
            .bind(project_id.to_string())
            .bind(name.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::all_stores;
    use crate::store::{AclRecord, ShareRecord};

    fn claim(name: &str, project: &str, owner: &str, at: i64) -> BucketRecord {
        BucketRecord {
            name: name.into(),
            project_id: project.into(),
            owner_id: owner.into(),
            location: String::new(),
            created_at: at,
        }
    }

    #[tokio::test]
    async fn a_name_is_claimed_once_and_released_only_by_its_project() {
        let (stores, _dir) = all_stores().await;
        for store in stores {
            let mut first = claim("photos", "sat/p1", "alice", 10);
            first.location = "EU".into();
            assert!(store.claim_bucket(&first).await.unwrap().is_ok());
            let taken = store
                .claim_bucket(&claim("photos", "sat/p2", "bob", 11))
                .await
                .unwrap()
                .unwrap_err();
            assert_eq!(taken, first);
            let acl = AclRecord {
                owner_id: "alice".into(),
                grants: "AllUsers\tREAD\n".into(),
            };
            let share = ShareRecord {
                bucket: "photos".into(),
                object_key: String::new(),
                grantee: "AllUsers".into(),
                permission: "READ".into(),
                sealed_grant: "sealed-1".into(),
            };
            store
                .put_acl("sat/p1", "photos", "", &acl, std::slice::from_ref(&share))
                .await
                .unwrap();
            store.put_cors("sat/p1", "photos", "rules").await.unwrap();
            // Another project releasing the name changes nothing.
            assert!(
                store
                    .release_bucket("photos", "sat/p2")
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert_eq!(store.bucket("photos").await.unwrap(), Some(first.clone()));
            assert!(store.acl("sat/p1", "photos", "").await.unwrap().is_some());
            // The owner's release drops everything and queues the share.
            assert_eq!(
                store.release_bucket("photos", "sat/p1").await.unwrap(),
                vec!["sealed-1".to_string()]
            );
            assert!(store.bucket("photos").await.unwrap().is_none());
            assert!(store.acl("sat/p1", "photos", "").await.unwrap().is_none());
            assert!(store.cors("sat/p1", "photos").await.unwrap().is_none());
            assert_eq!(
                store.queued_revocations(10).await.unwrap(),
                vec!["sealed-1".to_string()]
            );
            // The next claimant starts clean.
            assert!(
                store
                    .claim_bucket(&claim("photos", "sat/p2", "bob", 12))
                    .await
                    .unwrap()
                    .is_ok()
            );
            assert!(store.acl("sat/p2", "photos", "").await.unwrap().is_none());
        }
    }
}
