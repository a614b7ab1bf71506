//! Put/Get/Delete BucketCors (owner only).

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use crate::acl::Perm;
use crate::cors::CorsRules;
use crate::error::{s3err, uplink_error};
use crate::state::{Actor, Gateway};

async fn owner_check(gw: &Gateway, actor: &Actor, bucket: &str) -> S3Result<()> {
    let target = gw.resolve(actor, bucket, None, Perm::WriteAcp).await?;
    if !target.is_owner {
        return Err(s3err(
            S3ErrorCode::AccessDenied,
            "only the bucket's owner may manage its CORS rules",
        ));
    }
    target
        .project
        .stat_bucket(bucket)
        .await
        .map_err(uplink_error)?;
    Ok(())
}

/// PutBucketCors.
pub async fn put(
    gw: &Gateway,
    req: S3Request<PutBucketCorsInput>,
) -> S3Result<S3Response<PutBucketCorsOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    owner_check(gw, &actor, &i.bucket).await?;
    let rules = CorsRules::from_dto(i.cors_configuration.cors_rules)
        .map_err(|m| s3err(S3ErrorCode::MalformedXML, m))?;
    gw.store().put_cors(&i.bucket, &rules.to_text()).await?;
    Ok(S3Response::new(PutBucketCorsOutput {}))
}

/// GetBucketCors.
pub async fn get(
    gw: &Gateway,
    req: S3Request<GetBucketCorsInput>,
) -> S3Result<S3Response<GetBucketCorsOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    owner_check(gw, &actor, &req.input.bucket).await?;
    let text = gw.store().cors(&req.input.bucket).await?.ok_or_else(|| {
        s3err(
            S3ErrorCode::NoSuchCORSConfiguration,
            "The CORS configuration does not exist",
        )
    })?;
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
    owner_check(gw, &actor, &req.input.bucket).await?;
    gw.store().delete_cors(&req.input.bucket).await?;
    Ok(S3Response::new(DeleteBucketCorsOutput {}))
}
