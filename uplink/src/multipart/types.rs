//! The types of the multipart API (upload and part information, options)
//! and the wire helpers every multipart module shares: upload ids, part
//! numbers, upload references, parts as the satellite lists them. A leaf
//! of `multipart` (only `etag` below it).

use std::collections::BTreeMap;
use std::time::SystemTime;

use satstore_proto::metainfo as pb;

use super::etag::open_etag;
use crate::bucket::check_bucket;
use crate::codec;
use crate::convert::time_from_unix;
use crate::encryption::{EncryptionStore, Key};
use crate::error::{Result, UplinkError};
use crate::object::check_key;

/// Highest part number (S3's limit); parts are numbered from 1.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// A multipart upload in progress (S3 CreateMultipartUpload).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadInfo {
    /// Id naming the upload in the other calls (base58, URL- and XML-safe).
    pub upload_id: String,
    /// The object key the upload will commit to.
    pub key: String,
    /// When the upload began.
    pub created: SystemTime,
}

/// One uploaded part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartInfo {
    /// Part number, 1..=[`MAX_PART_NUMBER`].
    pub part_number: u32,
    /// Plaintext size in bytes.
    pub size: u64,
    /// When the part was committed.
    pub modified: SystemTime,
    /// The ETag set with [`crate::PartUpload::set_etag`] (empty if none).
    pub etag: Vec<u8>,
}

/// Options of [`crate::Project::commit_upload`].
#[derive(Clone, Debug, Default)]
pub struct CommitUploadOptions {
    /// Custom metadata of the object ("content-type" is the content type).
    pub custom_metadata: BTreeMap<String, String>,
    /// Part numbers to keep, ascending; empty = all uploaded parts. Parts not listed are deleted.
    pub parts: Vec<u32>,
}

/// Options of [`crate::Project::list_uploads`].
#[derive(Clone, Debug, Default)]
pub struct ListUploadsOptions {
    /// Only uploads whose key starts with this (any string).
    pub prefix: String,
    /// Only uploads whose key sorts after this (full key).
    pub cursor: String,
    /// Most uploads to return; 0 = all.
    pub limit: usize,
}

pub(super) fn encode_upload_id(id: &[u8]) -> String {
    bs58::encode(id).into_string()
}

pub(super) fn decode_upload_id(id: &str) -> Result<Vec<u8>> {
    match bs58::decode(id).into_vec() {
        Ok(v) if v.len() == 16 => Ok(v),
        _ => Err(UplinkError::UploadNotFound(format!(
            "malformed upload id {id:?}"
        ))),
    }
}

pub(super) fn check_part_number(n: u32) -> Result<()> {
    if n == 0 || n > MAX_PART_NUMBER {
        return Err(UplinkError::InvalidArgument(format!(
            "part number {n} is out of range: use 1 to {MAX_PART_NUMBER}"
        )));
    }
    Ok(())
}

/// Rejects an empty bucket name or object key.
pub(super) fn check_target(bucket: &str, key: &str) -> Result<()> {
    check_bucket(bucket)?;
    check_key(key)
}

/// A part as the satellite lists it, with its ETag opened.
pub(super) fn part_from_pb(p: &pb::PartInfo, key: &Key) -> Result<PartInfo> {
    Ok(PartInfo {
        part_number: p.part_number,
        size: u64::try_from(p.plain_size)
            .map_err(|_| UplinkError::Internal("satellite sent a negative part size".into()))?,
        modified: time_from_unix(p.modified_at_unix).unwrap_or(std::time::UNIX_EPOCH),
        etag: open_etag(key, &p.encrypted_etag)?,
    })
}

/// The wire reference of an upload.
pub(super) fn upload_ref(
    store: &EncryptionStore,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<pb::MultipartUploadRef> {
    check_target(bucket, key)?;
    Ok(pb::MultipartUploadRef {
        bucket: bucket.to_string(),
        encrypted_key: codec::encrypt_key(store, bucket, key)?,
        upload_id: decode_upload_id(upload_id)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_ids_and_part_numbers() {
        let id = [7u8; 16];
        let text = encode_upload_id(&id);
        assert!(text.chars().all(|c| c.is_ascii_alphanumeric()), "{text}");
        assert_eq!(decode_upload_id(&text).unwrap(), id.to_vec());
        for bad in ["", "0OIl", "abc"] {
            let e = decode_upload_id(bad).unwrap_err();
            assert_eq!(e.kind(), crate::error::ErrorKind::UploadNotFound, "{bad}");
        }
        assert!(check_part_number(1).is_ok());
        assert!(check_part_number(MAX_PART_NUMBER).is_ok());
        assert!(check_part_number(0).is_err());
        assert!(check_part_number(MAX_PART_NUMBER + 1).is_err());
    }
}
