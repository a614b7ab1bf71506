//! The project API: buckets, listing, stat, delete, and the entry points of
//! streaming uploads and downloads. Names mirror uplink-python.

use std::sync::Arc;

use satstore_proto::metainfo as pb;

use crate::access::Access;
use crate::bucket::{Bucket, ListBucketsOptions};
use crate::codec;
use crate::config::UplinkConfig;
use crate::download::Download;
use crate::error::{ErrorKind, Result, UplinkError};
use crate::metainfo::Metainfo;
use crate::object::{DownloadOptions, ListObjectsOptions, Object, UploadOptions};
use crate::upload::Upload;

/// State shared by a project and its uploads and downloads.
pub(crate) struct ProjectInner {
    pub(crate) access: Access,
    pub(crate) config: UplinkConfig,
    pub(crate) metainfo: Metainfo,
}

/// A project on one satellite, opened from an [`Access`]. Cheap to clone.
#[derive(Clone)]
pub struct Project {
    inner: Arc<ProjectInner>,
}

impl std::fmt::Debug for Project {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Project({})", self.inner.access.satellite)
    }
}

fn check_bucket(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(UplinkError::BucketNameInvalid(
            "bucket name is empty".into(),
        ));
    }
    Ok(())
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(UplinkError::ObjectKeyInvalid("object key is empty".into()));
    }
    Ok(())
}

fn bucket_of(b: Option<pb::BucketInfo>, name: &str) -> Bucket {
    b.map(Bucket::from_pb).unwrap_or(Bucket {
        name: name.to_string(),
        created: std::time::UNIX_EPOCH,
    })
}

impl Project {
    pub(crate) fn open(access: Access, config: UplinkConfig) -> Result<Self> {
        let metainfo = Metainfo::connect(&access, &config)?;
        Ok(Project {
            inner: Arc::new(ProjectInner {
                access,
                config,
                metainfo,
            }),
        })
    }

    /// Creates a bucket; `BucketAlreadyExists` if it exists.
    pub async fn create_bucket(&self, name: &str) -> Result<Bucket> {
        check_bucket(name)?;
        let r = self
            .inner
            .metainfo
            .create_bucket(pb::CreateBucketRequest {
                header: None,
                name: name.to_string(),
            })
            .await?;
        Ok(bucket_of(r.bucket, name))
    }

    /// Creates a bucket unless it exists; returns it either way.
    pub async fn ensure_bucket(&self, name: &str) -> Result<Bucket> {
        match self.create_bucket(name).await {
            Err(e) if e.kind() == ErrorKind::BucketAlreadyExists => self.stat_bucket(name).await,
            other => other,
        }
    }

    /// Information about a bucket; `BucketNotFound` if it does not exist.
    pub async fn stat_bucket(&self, name: &str) -> Result<Bucket> {
        check_bucket(name)?;
        let r = self
            .inner
            .metainfo
            .get_bucket(pb::GetBucketRequest {
                header: None,
                name: name.to_string(),
            })
            .await?;
        Ok(bucket_of(r.bucket, name))
    }

    /// All buckets sorting after `opts.cursor`, paging through the satellite.
    pub async fn list_buckets(&self, opts: &ListBucketsOptions) -> Result<Vec<Bucket>> {
        let mut out = Vec::new();
        let mut cursor = opts.cursor.clone();
        loop {
            let r = self
                .inner
                .metainfo
                .list_buckets(pb::ListBucketsRequest {
                    header: None,
                    cursor: cursor.clone(),
                    limit: self.inner.config.list_page_size,
                })
                .await?;
            let before = out.len();
            out.extend(
                r.items
                    .into_iter()
                    .filter(|b| b.name > cursor)
                    .map(Bucket::from_pb),
            );
            if !r.more {
                return Ok(out);
            }
            if out.len() == before {
                return Err(UplinkError::Internal(
                    "bucket listing made no progress".into(),
                ));
            }
            cursor = out.last().map(|b| b.name.clone()).unwrap_or_default();
        }
    }

    /// Deletes an empty bucket; `BucketNotEmpty` if it holds objects.
    pub async fn delete_bucket(&self, name: &str) -> Result<Bucket> {
        self.delete_bucket_inner(name, false).await
    }

    /// Deletes a bucket and every object in it.
    pub async fn delete_bucket_with_objects(&self, name: &str) -> Result<Bucket> {
        self.delete_bucket_inner(name, true).await
    }

    async fn delete_bucket_inner(&self, name: &str, delete_all: bool) -> Result<Bucket> {
        check_bucket(name)?;
        let r = self
            .inner
            .metainfo
            .delete_bucket(pb::DeleteBucketRequest {
                header: None,
                name: name.to_string(),
                delete_all,
            })
            .await?;
        Ok(bucket_of(r.bucket, name))
    }

    /// Information about a committed object; `ObjectNotFound` if none.
    pub async fn stat_object(&self, bucket: &str, key: &str) -> Result<Object> {
        check_bucket(bucket)?;
        check_key(key)?;
        let r = self
            .inner
            .metainfo
            .get_object(pb::GetObjectRequest {
                header: None,
                bucket: bucket.to_string(),
                encrypted_key: codec::encode_key(bucket, key),
            })
            .await?;
        let o = r
            .object
            .ok_or_else(|| UplinkError::Internal("satellite sent no object".into()))?;
        Object::from_pb(key.to_string(), &o)
    }

    /// Every object (and, unless recursive, prefix) under `opts.prefix`
    /// after `opts.cursor`, paging with `list_page_size`.
    pub async fn list_objects(
        &self,
        bucket: &str,
        opts: &ListObjectsOptions,
    ) -> Result<Vec<Object>> {
        let limit = self.inner.config.list_page_size;
        let mut out = Vec::new();
        let mut opts = opts.clone();
        loop {
            let (page, more) = self.list_objects_page(bucket, &opts, limit).await?;
            if !more {
                out.extend(page);
                return Ok(out);
            }
            let Some(last) = page.last() else {
                return Err(UplinkError::Internal(
                    "object listing made no progress".into(),
                ));
            };
            opts.cursor = last.key[opts.prefix.len()..].to_string();
            out.extend(page);
        }
    }

    /// One page of at most `limit` items starting after `opts.cursor`, and
    /// whether more follow. Keys in the result are full keys.
    pub async fn list_objects_page(
        &self,
        bucket: &str,
        opts: &ListObjectsOptions,
        limit: u32,
    ) -> Result<(Vec<Object>, bool)> {
        check_bucket(bucket)?;
        if !opts.prefix.is_empty() && !opts.prefix.ends_with('/') {
            return Err(UplinkError::InvalidArgument(format!(
                "prefix {:?} must be empty or end with '/'",
                opts.prefix
            )));
        }
        let r = self
            .inner
            .metainfo
            .list_objects(pb::ListObjectsRequest {
                header: None,
                bucket: bucket.to_string(),
                prefix: codec::encode_key(bucket, &opts.prefix),
                cursor: codec::encode_key(bucket, &opts.cursor),
                recursive: opts.recursive,
                limit,
                include_metadata: opts.system || opts.custom,
            })
            .await?;
        let mut items = Vec::with_capacity(r.items.len());
        for item in &r.items {
            let rel = codec::decode_key(bucket, &item.encrypted_key)?;
            // Everything must sort strictly after the cursor; guards against
            // a prefix cursor being returned again.
            if !opts.cursor.is_empty() && rel.as_str() <= opts.cursor.as_str() {
                continue;
            }
            items.push(Object::from_list_item(
                format!("{}{rel}", opts.prefix),
                item,
                opts.custom,
            )?);
        }
        Ok((items, r.more))
    }

    /// Deletes an object; `ObjectNotFound` if none. Returns what was deleted.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<Object> {
        check_bucket(bucket)?;
        check_key(key)?;
        let r = self
            .inner
            .metainfo
            .delete_object(pb::DeleteObjectRequest {
                header: None,
                bucket: bucket.to_string(),
                encrypted_key: codec::encode_key(bucket, key),
            })
            .await?;
        match r.object {
            Some(o) => Object::from_pb(key.to_string(), &o),
            None => Err(UplinkError::ObjectNotFound(format!("{bucket}/{key}"))),
        }
    }

    /// Starts an upload (BeginObject). Write data, then commit.
    pub async fn upload_object(
        &self,
        bucket: &str,
        key: &str,
        opts: &UploadOptions,
    ) -> Result<Upload> {
        check_bucket(bucket)?;
        check_key(key)?;
        Upload::begin(self.inner.clone(), bucket, key, opts.expires).await
    }

    /// Starts a download of `opts.offset` / `opts.length` (negative offset
    /// = suffix, negative length = to the end). An offset beyond the
    /// object's size is `InvalidArgument`.
    pub async fn download_object(
        &self,
        bucket: &str,
        key: &str,
        opts: &DownloadOptions,
    ) -> Result<Download> {
        check_bucket(bucket)?;
        check_key(key)?;
        Download::begin(self.inner.clone(), bucket, key, opts).await
    }

    /// Closes the project. Uploads and downloads still open keep working
    /// until dropped.
    pub async fn close(self) -> Result<()> {
        Ok(())
    }
}
