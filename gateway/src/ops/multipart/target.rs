//! The access an operation on an upload in progress acts with.

use s3s::{S3ErrorCode, S3Result};

use crate::acl::Perm;
use crate::s3error::codes::wording;
use crate::s3error::s3err;
use crate::state::{Actor, Gateway, Target};

/// NoSuchUpload, in S3's words.
pub fn no_such_upload() -> s3s::S3Error {
    s3err(S3ErrorCode::NoSuchUpload, wording::NO_SUCH_UPLOAD)
}

/// The access for an upload in progress of `bucket`/`key`, or
/// NoSuchUpload when the gateway knows no such upload.
pub async fn upload_target(
    gw: &Gateway,
    actor: &Actor,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> S3Result<Target> {
    let target = gw.resolve(actor, bucket, None, Perm::Write).await?;
    if gw
        .store()
        .upload(&target.scope, upload_id, bucket, key)
        .await?
        .is_none()
    {
        return Err(no_such_upload());
    }
    Ok(target)
}
