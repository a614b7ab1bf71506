//! UploadPart: one part's body streamed straight to the nodes, its MD5 as
//! its ETag.

use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};

use super::target::upload_target;
use crate::body::{self, BodyOrigin};
use crate::meta;
use crate::s3error::{s3err, uplink_error, upload_error};
use crate::state::Gateway;

/// Largest part number S3 allows.
const MAX_PART_NUMBER: i32 = 10_000;

/// UploadPart.
pub async fn upload_part(
    gw: &Gateway,
    req: S3Request<UploadPartInput>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let origin = BodyOrigin::request(&req.headers, &req.extensions);
    let i = req.input;
    if !(1..=MAX_PART_NUMBER).contains(&i.part_number) {
        return Err(s3err(
            S3ErrorCode::InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive",
        ));
    }
    let target = upload_target(gw, &actor, &i.bucket, &i.key, &i.upload_id).await?;
    let mut part = target
        .project
        .upload_part(&i.bucket, &i.key, &i.upload_id, i.part_number as u32)
        .await
        .map_err(upload_error)?;
    let written = match body::drain(
        i.body,
        &origin,
        &mut part,
        i.content_length,
        i.content_md5.as_deref(),
    )
    .await
    {
        Ok(w) => w,
        Err(e) => {
            let _ = part.abort().await;
            return Err(e);
        }
    };
    if let Err(e) = part.set_etag(meta::hex_md5(&written.md5).into_bytes()) {
        let _ = part.abort().await;
        return Err(uplink_error(e));
    }
    part.commit().await.map_err(upload_error)?;
    Ok(S3Response::new(UploadPartOutput {
        e_tag: Some(ETag::Strong(meta::hex_md5(&written.md5))),
        ..Default::default()
    }))
}
