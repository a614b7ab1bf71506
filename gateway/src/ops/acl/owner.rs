//! Who may change a bucket's ACLs: a user of the project that owns it.

use std::sync::Arc;

use s3s::S3Result;

use crate::state::{Actor, Gateway, Session};

/// The owning user's session and the project scope of `bucket` for an
/// ACL change, claiming a name nobody claimed for the user's project when
/// the bucket is theirs (`what` says what was refused otherwise).
pub async fn owner_scope(
    gw: &Gateway,
    actor: &Actor,
    bucket: &str,
    what: &str,
) -> S3Result<(Arc<Session>, String)> {
    let (s, record) = gw.owned_bucket(actor, bucket, true, what).await?;
    let scope = record.map_or_else(|| s.project_key.clone(), |r| r.project_id);
    Ok((s, scope))
}
