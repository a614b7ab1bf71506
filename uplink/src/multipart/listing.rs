//! Multipart listings: the parts of an upload (S3 ListParts) and the
//! uploads in progress (ListMultipartUploads), keys decrypted here.
//! Facade layer: methods of [`Project`].

use satstore_proto::metainfo as pb;

use super::etag::etag_key;
use super::types::{
    ListUploadsOptions, PartInfo, UploadInfo, encode_upload_id, part_from_pb, upload_ref,
};
use crate::bucket::check_bucket;
use crate::codec;
use crate::convert::time_from_unix;
use crate::error::{Result, UplinkError};
use crate::project::Project;

/// Most parts asked per ListParts call when paging.
const PART_PAGE: u32 = 1000;

impl Project {
    /// Parts with part_number > cursor, ascending, at most limit (0 = all); bool = more remain.
    pub async fn list_upload_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        cursor: u32,
        limit: usize,
    ) -> Result<(Vec<PartInfo>, bool)> {
        let p = &self.session;
        let upload = upload_ref(&p.encryption, bucket, key, upload_id)?;
        let etag_key = etag_key(&p.encryption, bucket, key)?;
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
        let p = &self.session;
        let store = &p.encryption;
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
    pub(super) async fn all_parts(
        &self,
        upload: &pb::MultipartUploadRef,
    ) -> Result<Vec<pb::PartInfo>> {
        self.parts_after(upload, 0).await
    }

    /// Every committed part numbered above `cursor`, paging.
    pub(super) async fn parts_after(
        &self,
        upload: &pb::MultipartUploadRef,
        mut cursor: u32,
    ) -> Result<Vec<pb::PartInfo>> {
        let mut out: Vec<pb::PartInfo> = Vec::new();
        loop {
            let r = self
                .session
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
