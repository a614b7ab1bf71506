//! Object listings: encrypted prefix and cursor out, decrypted keys and
//! metadata back. The satellite orders items by encrypted key; with
//! encrypted keys the client sorts (and applies the plain cursor) itself.
//! Facade layer: more methods of [`Project`].

use satstore_proto::metainfo as pb;

use crate::bucket::check_bucket;
use crate::codec;
use crate::encryption::PathCipher;
use crate::error::{Result, UplinkError};
use crate::object::{ListObjectsOptions, Object};
use crate::project::Project;

/// One page of a listing: decrypted items, whether more follow, and the
/// encrypted key of the last item the satellite sent (the next cursor).
struct ListPage {
    items: Vec<Object>,
    more: bool,
    last: Option<Vec<u8>>,
}

impl Project {
    /// Every object (and, unless recursive, prefix) under `opts.prefix`
    /// whose key (relative to the prefix) sorts after `opts.cursor`, in key
    /// order, paging through the satellite with `list_page_size`. Items
    /// this access cannot decrypt (written under other keys) are left out.
    pub async fn list_objects(
        &self,
        bucket: &str,
        opts: &ListObjectsOptions,
    ) -> Result<Vec<Object>> {
        if self.keys_encrypted(bucket, &opts.prefix) {
            return self.list_sorted(bucket, opts).await;
        }
        self.list_satellite_order(bucket, opts).await
    }

    /// One page of at most `limit` items after `opts.cursor`, in key order,
    /// and whether more follow. Keys in the result are full keys. With
    /// encrypted object keys the satellite cannot sort plaintext, so each
    /// page lists the whole prefix (use the "none" path cipher for large
    /// paginated buckets).
    pub async fn list_objects_page(
        &self,
        bucket: &str,
        opts: &ListObjectsOptions,
        limit: u32,
    ) -> Result<(Vec<Object>, bool)> {
        if self.keys_encrypted(bucket, &opts.prefix) {
            let mut all = self.list_sorted(bucket, opts).await?;
            let limit = if limit == 0 { 1000 } else { limit as usize };
            let more = all.len() > limit;
            all.truncate(limit);
            return Ok((all, more));
        }
        let (enc_prefix, enc_cursor) = self.list_start(bucket, opts)?;
        let page = self
            .list_page(bucket, opts, &enc_prefix, &enc_cursor, limit)
            .await?;
        Ok((page.items, page.more))
    }

    /// Whether keys under `prefix` are encrypted (so the satellite's order
    /// is not the key order).
    fn keys_encrypted(&self, bucket: &str, prefix: &str) -> bool {
        self.session
            .encryption
            .lookup_plain(bucket, prefix)
            .map_or(true, |base| base.cipher != PathCipher::None)
    }

    /// Everything after the plain cursor, sorted by key: lists the whole
    /// prefix and filters client-side.
    async fn list_sorted(&self, bucket: &str, opts: &ListObjectsOptions) -> Result<Vec<Object>> {
        let from_start = ListObjectsOptions {
            cursor: String::new(),
            ..opts.clone()
        };
        let mut all = self.list_satellite_order(bucket, &from_start).await?;
        if !opts.cursor.is_empty() {
            let plen = opts.prefix.len();
            all.retain(|o| {
                o.key
                    .get(plen..)
                    .is_some_and(|rel| rel > opts.cursor.as_str())
            });
        }
        all.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(all)
    }

    /// Everything after the cursor in the satellite's (encrypted key) order.
    async fn list_satellite_order(
        &self,
        bucket: &str,
        opts: &ListObjectsOptions,
    ) -> Result<Vec<Object>> {
        let limit = self.session.config.list_page_size;
        let (enc_prefix, mut enc_cursor) = self.list_start(bucket, opts)?;
        let mut out = Vec::new();
        loop {
            let page = self
                .list_page(bucket, opts, &enc_prefix, &enc_cursor, limit)
                .await?;
            out.extend(page.items);
            if !page.more {
                return Ok(out);
            }
            match page.last {
                Some(last) if last > enc_cursor => enc_cursor = last,
                _ => {
                    return Err(UplinkError::Internal(
                        "object listing made no progress".into(),
                    ));
                }
            }
        }
    }

    /// Validates the options; the encrypted prefix and cursor.
    fn list_start(&self, bucket: &str, opts: &ListObjectsOptions) -> Result<(Vec<u8>, Vec<u8>)> {
        check_bucket(bucket)?;
        if !opts.prefix.is_empty() && !opts.prefix.ends_with('/') {
            return Err(UplinkError::InvalidArgument(format!(
                "prefix {:?} must be empty or end with '/'",
                opts.prefix
            )));
        }
        let store = &self.session.encryption;
        let enc_prefix = codec::encrypt_prefix(store, bucket, &opts.prefix)?;
        let enc_cursor =
            codec::encrypt_cursor(store, bucket, &opts.prefix, &enc_prefix, &opts.cursor)?;
        Ok((enc_prefix, enc_cursor))
    }

    async fn list_page(
        &self,
        bucket: &str,
        opts: &ListObjectsOptions,
        enc_prefix: &[u8],
        enc_cursor: &[u8],
        limit: u32,
    ) -> Result<ListPage> {
        let store = &self.session.encryption;
        let r = self
            .session
            .metainfo
            .list_objects(pb::ListObjectsRequest {
                header: None,
                bucket: bucket.to_string(),
                prefix: enc_prefix.to_vec(),
                cursor: enc_cursor.to_vec(),
                recursive: opts.recursive,
                limit,
                include_metadata: opts.system || opts.custom,
            })
            .await?;
        let mut items = Vec::with_capacity(r.items.len());
        let mut last = None;
        for item in &r.items {
            // Everything must sort strictly after the cursor; guards against
            // a prefix cursor being returned again.
            if !enc_cursor.is_empty() && item.encrypted_key.as_slice() <= enc_cursor {
                continue;
            }
            last = Some(item.encrypted_key.clone());
            let Some(rel) = codec::decrypt_item_key(store, bucket, enc_prefix, &item.encrypted_key)
            else {
                continue;
            };
            let key = format!("{}{rel}", opts.prefix);
            let meta = if item.is_prefix || !(opts.system || opts.custom) {
                None
            } else {
                codec::item_metadata(store, bucket, &key, item)
                    .map_err(|e| e.with_context(&format!("metadata of {bucket}/{key}")))?
            };
            let mut obj = Object::from_list_item(key, item, meta.as_ref());
            if !opts.custom {
                obj.custom.clear();
            }
            items.push(obj);
        }
        Ok(ListPage {
            items,
            more: r.more,
            last,
        })
    }
}
