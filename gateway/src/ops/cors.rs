//! Put/Get/Delete BucketCors (owner only).

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use crate::cors::CorsRules;
use crate::s3error::{s3err, uplink_error};
use crate::state::{Actor, Gateway};

/// The owning project of `bucket` when the actor belongs to it (the bucket
/// must exist); with `adopt`, a name nobody claimed is claimed for the
/// actor's project first. `None` for a name nobody claimed otherwise.
async fn owner_check(
    gw: &Gateway,
    actor: &Actor,
    bucket: &str,
    adopt: bool,
) -> S3Result<Option<String>> {
    let (s, record) = gw
        .owned_bucket(actor, bucket, adopt, "manage its CORS rules")
        .await?;
    if record.is_some() {
        s.project.stat_bucket(bucket).await.map_err(uplink_error)?;
    }
    Ok(record.map(|r| r.project_id))
}

/// PutBucketCors.
pub async fn put(
    gw: &Gateway,
    req: S3Request<PutBucketCorsInput>,
) -> S3Result<S3Response<PutBucketCorsOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let rules = CorsRules::from_dto(i.cors_configuration.cors_rules)
        .map_err(|m| s3err(S3ErrorCode::MalformedXML, m))?;
    let scope = owner_check(gw, &actor, &i.bucket, true)
        .await?
        .ok_or_else(|| s3err(S3ErrorCode::InternalError, "bucket claim vanished"))?;
    gw.store()
        .put_cors(&scope, &i.bucket, &rules.to_text())
        .await?;
    Ok(S3Response::new(PutBucketCorsOutput {}))
}

/// GetBucketCors.
pub async fn get(
    gw: &Gateway,
    req: S3Request<GetBucketCorsInput>,
) -> S3Result<S3Response<GetBucketCorsOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let bucket = &req.input.bucket;
    let missing = || {
        s3err(
            S3ErrorCode::NoSuchCORSConfiguration,
            "The CORS configuration does not exist",
        )
    };
    let scope = owner_check(gw, &actor, bucket, false)
        .await?
        .ok_or_else(missing)?;
    let text = gw.store().cors(&scope, bucket).await?.ok_or_else(missing)?;
    let rules = CorsRules::from_text(&text)
        .ok_or_else(|| s3err(S3ErrorCode::InternalError, "stored CORS rules are corrupt"))?;
    Ok(S3Response::new(GetBucketCorsOutput {
        cors_rules: Some(rules.to_dto()),
    }))
}

/// DeleteBucketCors.
pub async fn delete(
    gw: &Gateway,
    req: S3Request<DeleteBucketCorsInput>,
) -> S3Result<S3Response<DeleteBucketCorsOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let bucket = &req.input.bucket;
    if let Some(scope) = owner_check(gw, &actor, bucket, false).await? {
        gw.store().delete_cors(&scope, bucket).await?;
    }
    Ok(S3Response::new(DeleteBucketCorsOutput {}))
}
