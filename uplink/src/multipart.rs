//! Multipart uploads (S3 CreateMultipartUpload / UploadPart /
//! CompleteMultipartUpload / AbortMultipartUpload / ListParts /
//! ListMultipartUploads), native on the satellite: an upload is a pending
//! object; each part's segments are stored at positions `{part, index}`
//! by a [`PartUpload`] (`part_upload`; the same segment writer as [`crate::Upload`]);
//! committing makes the object from the chosen parts without copying.
//!
//! Encryption: parts use the object's path-derived key like normal
//! uploads; a part's ETag is sealed (AES-256-GCM, random nonce) under a key
//! derived from it; keys of listed uploads are decrypted here.
//!
//! The upload id is the base58 text of the satellite's 16-byte id: safe in
//! URLs and XML, valid until the upload is committed, aborted or expires
//! (satellite `multipart_expiration`, 7 days by default).

use std::collections::BTreeMap;
use std::time::SystemTime;

use satstore_proto::metainfo as pb;

use crate::codec;
use crate::convert::{time_from_unix, time_to_unix};
use crate::encryption::{self, CIPHER_BLOCK, Key};
use crate::error::{Result, UplinkError};
use crate::object::{Object, UploadOptions};
pub use crate::part_upload::PartUpload;
use crate::part_upload::open_etag;
use crate::project::{Project, ProjectInner, check_bucket};
use crate::segment_writer::SegmentWriter;

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
    /// The ETag set with [`PartUpload::set_etag`] (empty if none).
    pub etag: Vec<u8>,
}

/// Options of [`Project::commit_upload`].
#[derive(Clone, Debug, Default)]
pub struct CommitUploadOptions {
    /// Custom metadata of the object ("content-type" is the content type).
    pub custom_metadata: BTreeMap<String, String>,
    /// Part numbers to keep, ascending; empty = all uploaded parts. Parts not listed are deleted.
    pub parts: Vec<u32>,
}

/// Options of [`Project::list_uploads`].
#[derive(Clone, Debug, Default)]
pub struct ListUploadsOptions {
    /// Only uploads whose key starts with this (any string).
    pub prefix: String,
    /// Only uploads whose key sorts after this (full key).
    pub cursor: String,
    /// Most uploads to return; 0 = all.
    pub limit: usize,
}

/// Most parts asked per ListParts call when paging.
const PART_PAGE: u32 = 1000;

fn encode_upload_id(id: &[u8]) -> String {
    bs58::encode(id).into_string()
}

fn decode_upload_id(id: &str) -> Result<Vec<u8>> {
    match bs58::decode(id).into_vec() {
        Ok(v) if v.len() == 16 => Ok(v),
        _ => Err(UplinkError::UploadNotFound(format!(
            "malformed upload id {id:?}"
        ))),
    }
}

fn check_part_number(n: u32) -> Result<()> {
    if n == 0 || n > MAX_PART_NUMBER {
        return Err(UplinkError::InvalidArgument(format!(
            "part number {n} is out of range: use 1 to {MAX_PART_NUMBER}"
        )));
    }
    Ok(())
}

fn check_target(bucket: &str, key: &str) -> Result<()> {
    check_bucket(bucket)?;
    if key.is_empty() {
        return Err(UplinkError::ObjectKeyInvalid("object key is empty".into()));
    }
    Ok(())
}

/// The key sealing part ETags of one object.
fn etag_key(project: &ProjectInner, bucket: &str, key: &str) -> Result<Key> {
    let content = encryption::content_key(&project.access.encryption, bucket, key)?;
    Ok(encryption::derive_key(&content, b"multipart part etag"))
}

pub(crate) fn part_from_pb(p: &pb::PartInfo, key: &Key) -> Result<PartInfo> {
    Ok(PartInfo {
        part_number: p.part_number,
        size: u64::try_from(p.plain_size)
            .map_err(|_| UplinkError::Internal("satellite sent a negative part size".into()))?,
        modified: time_from_unix(p.modified_at_unix).unwrap_or(std::time::UNIX_EPOCH),
        etag: open_etag(key, &p.encrypted_etag)?,
    })
}

/// The wire reference of an upload.
fn upload_ref(
    project: &ProjectInner,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<pb::MultipartUploadRef> {
    check_target(bucket, key)?;
    Ok(pb::MultipartUploadRef {
        bucket: bucket.to_string(),
        encrypted_key: codec::encrypt_key(&project.access.encryption, bucket, key)?,
        upload_id: decode_upload_id(upload_id)?,
    })
}

impl Project {
    /// Begins a multipart upload of `key` (S3 CreateMultipartUpload);
    /// `opts.expires` is the committed object's expiration.
    pub async fn begin_upload(
        &self,
        bucket: &str,
        key: &str,
        opts: &UploadOptions,
    ) -> Result<UploadInfo> {
        check_target(bucket, key)?;
        let p = &self.inner;
        let r = p
            .metainfo
            .begin_multipart_upload(pb::BeginMultipartUploadRequest {
                header: None,
                bucket: bucket.to_string(),
                encrypted_key: codec::encrypt_key(&p.access.encryption, bucket, key)?,
                expires_at_unix: time_to_unix(opts.expires),
                encryption: Some(pb::EncryptionParameters {
                    cipher_suite: 2, // AES-256-GCM
                    block_size: CIPHER_BLOCK as u32,
                }),
            })
            .await?;
        Ok(UploadInfo {
            upload_id: encode_upload_id(&r.upload_id),
            key: key.to_string(),
            created: time_from_unix(r.created_at_unix).unwrap_or_else(SystemTime::now),
        })
    }

    /// Starts uploading part `part_number` (1..=10000) of an upload; a part
    /// uploaded again replaces the earlier one once committed. Parts may be
    /// uploaded concurrently.
    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
    ) -> Result<PartUpload> {
        check_part_number(part_number)?;
        let p = &self.inner;
        let upload = upload_ref(p, bucket, key, upload_id)?;
        let r = p
            .metainfo
            .begin_part(pb::BeginPartRequest {
                header: None,
                upload: Some(upload.clone()),
                part_number,
            })
            .await?;
        let content_key = encryption::content_key(&p.access.encryption, bucket, key)?;
        let writer = SegmentWriter::new(
            p.clone(),
            r.stream_id,
            content_key,
            part_number,
            r.max_segment_size,
            r.max_inline_size,
        )?;
        Ok(PartUpload::new(
            p.clone(),
            upload,
            etag_key(p, bucket, key)?,
            part_number,
            writer,
        ))
    }

    /// Commits an upload (S3 CompleteMultipartUpload): the object is made
    /// of `opts.parts` (all parts if empty) in part order and replaces an
    /// existing object at the key; other parts are deleted. A listed part
    /// that was not uploaded is [`crate::ErrorKind::InvalidPart`].
    pub async fn commit_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        opts: CommitUploadOptions,
    ) -> Result<Object> {
        let p = &self.inner;
        let upload = upload_ref(p, bucket, key, upload_id)?;
        codec::check_custom(&opts.custom_metadata)?;
        if !opts.parts.windows(2).all(|w| w[0] < w[1]) {
            return Err(UplinkError::InvalidArgument(
                "parts must be listed in ascending order without duplicates".into(),
            ));
        }
        let parts = self.all_parts(&upload).await?;
        let sizes: BTreeMap<u32, i64> = parts
            .iter()
            .map(|p| (p.part_number, p.plain_size))
            .collect();
        let kept: Vec<u32> = if opts.parts.is_empty() {
            sizes.keys().copied().collect()
        } else {
            opts.parts.clone()
        };
        let missing: Vec<u32> = kept
            .iter()
            .copied()
            .filter(|n| !sizes.contains_key(n))
            .collect();
        if !missing.is_empty() {
            return Err(UplinkError::InvalidPart(format!(
                "part(s) {missing:?} of upload {upload_id} were not uploaded"
            )));
        }
        let size: i64 = kept.iter().map(|n| sizes[n]).sum();
        let total = u64::try_from(size)
            .map_err(|_| UplinkError::Internal("satellite sent negative part sizes".into()))?;
        // Segment sizes vary between parts: 0 = not checked on download.
        let meta = codec::object_metadata(&opts.custom_metadata, total, 0);
        let enc = codec::encrypt_metadata(&p.access.encryption, bucket, key, &meta)?;
        let r = p
            .metainfo
            .commit_multipart_upload(pb::CommitMultipartUploadRequest {
                header: None,
                upload: Some(upload),
                parts: opts.parts,
                plain_size: size,
                encrypted_metadata: enc.encrypted_metadata,
                encrypted_metadata_nonce: enc.encrypted_metadata_nonce,
                encrypted_metadata_key: enc.encrypted_metadata_key,
            })
            .await?;
        let o = r
            .object
            .ok_or_else(|| UplinkError::Internal("satellite sent no object".into()))?;
        Ok(Object::from_pb(key.to_string(), &o, Some(&meta)))
    }

    /// Aborts an upload: its parts are deleted; the id stops working.
    pub async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()> {
        let upload = upload_ref(&self.inner, bucket, key, upload_id)?;
        self.inner
            .metainfo
            .abort_multipart_upload(pb::AbortMultipartUploadRequest {
                header: None,
                upload: Some(upload),
            })
            .await?;
        Ok(())
    }

    /// Parts with part_number > cursor, ascending, at most limit (0 = all); bool = more remain.
    pub async fn list_upload_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        cursor: u32,
        limit: usize,
    ) -> Result<(Vec<PartInfo>, bool)> {
        let p = &self.inner;
        let upload = upload_ref(p, bucket, key, upload_id)?;
        let etag_key = etag_key(p, bucket, key)?;
        let (raw, more) = if limit == 0 {
            (self.parts_after(&upload, cursor).await?, false)
        } else {
            let r = p
                .metainfo
                .list_parts(pb::ListPartsRequest {
                    header: None,
                    upload: Some(upload),
                    cursor,
                    limit: u32::try_from(limit).unwrap_or(u32::MAX),
                })
                .await?;
            // The satellite caps its pages; more parts may follow then.
            let more = r.more;
            (r.items, more)
        };
        let parts = raw
            .iter()
            .map(|x| part_from_pb(x, &etag_key))
            .collect::<Result<Vec<_>>>()?;
        Ok((parts, more))
    }

    /// Pending multipart uploads whose (plaintext) key starts with prefix, keys > cursor, in plaintext key order.
    ///
    /// The satellite lists the encrypted directory of the prefix (up to its
    /// last '/'); keys are decrypted, filtered and sorted here. Uploads this
    /// access cannot decrypt are left out.
    pub async fn list_uploads(
        &self,
        bucket: &str,
        opts: &ListUploadsOptions,
    ) -> Result<(Vec<UploadInfo>, bool)> {
        check_bucket(bucket)?;
        let p = &self.inner;
        let store = &p.access.encryption;
        let dir = opts.prefix.rfind('/').map_or("", |i| &opts.prefix[..=i]);
        let enc_dir = codec::encrypt_prefix(store, bucket, dir)?;
        let mut out = Vec::new();
        let (mut cursor_key, mut cursor_id) = (Vec::new(), Vec::new());
        loop {
            let r = p
                .metainfo
                .list_multipart_uploads(pb::ListMultipartUploadsRequest {
                    header: None,
                    bucket: bucket.to_string(),
                    prefix: enc_dir.clone(),
                    cursor_key: cursor_key.clone(),
                    cursor_upload_id: cursor_id.clone(),
                    limit: p.config.list_page_size,
                })
                .await?;
            for item in &r.items {
                let Some(rest) = item.encrypted_key.strip_prefix(enc_dir.as_slice()) else {
                    continue;
                };
                let Some(rel) = codec::decrypt_item_key(store, bucket, &enc_dir, rest) else {
                    continue;
                };
                let key = format!("{dir}{rel}");
                if key.starts_with(&opts.prefix) && key > opts.cursor {
                    out.push(UploadInfo {
                        upload_id: encode_upload_id(&item.upload_id),
                        key,
                        created: time_from_unix(item.created_at_unix)
                            .unwrap_or(std::time::UNIX_EPOCH),
                    });
                }
            }
            if !r.more {
                break;
            }
            match r.items.last() {
                Some(last)
                    if (&last.encrypted_key, &last.upload_id) > (&cursor_key, &cursor_id) =>
                {
                    cursor_key = last.encrypted_key.clone();
                    cursor_id = last.upload_id.clone();
                }
                _ => {
                    return Err(UplinkError::Internal(
                        "multipart upload listing made no progress".into(),
                    ));
                }
            }
        }
        out.sort_by(|a, b| {
            (&a.key, a.created, &a.upload_id).cmp(&(&b.key, b.created, &b.upload_id))
        });
        let limit = if opts.limit == 0 {
            usize::MAX
        } else {
            opts.limit
        };
        let more = out.len() > limit;
        out.truncate(limit);
        Ok((out, more))
    }

    /// Every committed part of an upload.
    async fn all_parts(&self, upload: &pb::MultipartUploadRef) -> Result<Vec<pb::PartInfo>> {
        self.parts_after(upload, 0).await
    }

    /// Every committed part numbered above `cursor`, paging.
    async fn parts_after(
        &self,
        upload: &pb::MultipartUploadRef,
        mut cursor: u32,
    ) -> Result<Vec<pb::PartInfo>> {
        let mut out: Vec<pb::PartInfo> = Vec::new();
        loop {
            let r = self
                .inner
                .metainfo
                .list_parts(pb::ListPartsRequest {
                    header: None,
                    upload: Some(upload.clone()),
                    cursor,
                    limit: PART_PAGE,
                })
                .await?;
            let next = r.items.last().map(|p| p.part_number);
            out.extend(r.items);
            match next {
                Some(n) if r.more && n > cursor => cursor = n,
                _ if r.more => {
                    return Err(UplinkError::Internal(
                        "part listing made no progress".into(),
                    ));
                }
                _ => return Ok(out),
            }
        }
    }
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
            assert_eq!(e.kind(), crate::ErrorKind::UploadNotFound, "{bad}");
        }
        assert!(check_part_number(1).is_ok());
        assert!(check_part_number(MAX_PART_NUMBER).is_ok());
        assert!(check_part_number(0).is_err());
        assert!(check_part_number(MAX_PART_NUMBER + 1).is_err());
    }
}
