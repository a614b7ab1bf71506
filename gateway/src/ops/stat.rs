//! Looking an object up: its record, with a missing bucket told apart
//! from a missing key, and its S3 last-modified time.

use s3s::S3Result;
use s3s::dto::Timestamp;
use uplink::{ErrorKind, Object, Project};

use crate::s3error::uplink_error;

/// Stats an object; a missing bucket is NoSuchBucket, not NoSuchKey.
pub async fn stat(project: &Project, bucket: &str, key: &str) -> S3Result<Object> {
    match project.stat_object(bucket, key).await {
        Ok(o) => Ok(o),
        Err(e) if e.kind() == ErrorKind::ObjectNotFound => {
            if let Err(b) = project.stat_bucket(bucket).await
                && b.kind() == ErrorKind::BucketNotFound
            {
                return Err(uplink_error(b));
            }
            Err(uplink_error(e))
        }
        Err(e) => Err(uplink_error(e)),
    }
}

/// The object's Last-Modified: when it was committed.
pub fn last_modified(o: &Object) -> Timestamp {
    Timestamp::from(o.system.created)
}
