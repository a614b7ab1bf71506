//! Bucket information returned by the project API, and the bucket name
//! check of every call that takes one.

use std::time::SystemTime;

use satstore_proto::metainfo::BucketInfo;

use crate::convert::time_from_unix;
use crate::error::{Result, UplinkError};

/// A bucket: a named container of objects in the project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// The bucket name.
    pub name: String,
    /// When it was created.
    pub created: SystemTime,
}

impl Bucket {
    pub(crate) fn from_pb(b: BucketInfo) -> Self {
        Bucket {
            name: b.name,
            created: time_from_unix(b.created_at_unix).unwrap_or(std::time::UNIX_EPOCH),
        }
    }
}

/// Options of [`crate::Project::list_buckets`].
#[derive(Clone, Debug, Default)]
pub struct ListBucketsOptions {
    /// List buckets whose names sort after this one.
    pub cursor: String,
}

/// Rejects an empty bucket name.
pub(crate) fn check_bucket(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(UplinkError::BucketNameInvalid(
            "bucket name is empty".into(),
        ));
    }
    Ok(())
}
