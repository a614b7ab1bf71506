//! The project API: buckets, stat, delete, revocation, and the entry
//! points of streaming uploads and downloads. Names mirror uplink-python.
//!
//! Layer: the facade on top. A [`Project`] holds the `Session` its
//! transfers share and starts them ([`Upload`], [`Download`]); listings
//! (`list`) and multipart uploads (`multipart`) add more `impl Project`
//! blocks above this one. [`Access::open_project`] lives here too, so that
//! `access` stays below the project.

use std::sync::Arc;

use satstore_proto::metainfo as pb;

use crate::access::Access;
use crate::bucket::{Bucket, ListBucketsOptions, check_bucket};
use crate::codec;
use crate::config::UplinkConfig;
use crate::download::Download;
use crate::encryption::PathCipher;
use crate::error::{ErrorKind, Result, UplinkError};
use crate::object::{DownloadOptions, Object, UploadOptions, check_key};
use crate::session::Session;
use crate::upload::Upload;

/// A project on one satellite, opened from an [`Access`]. Cheap to clone.
#[derive(Clone)]
pub struct Project {
    /// The session its transfers share.
    pub(crate) session: Arc<Session>,
}

impl std::fmt::Debug for Project {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Project({})", self.session.satellite)
    }
}

impl Access {
    /// Opens the project with the default configuration. No RPC is made
    /// until the first call.
    pub async fn open_project(&self) -> Result<Project> {
        self.config_open_project(&UplinkConfig::default()).await
    }

    /// Opens the project with `config`.
    pub async fn config_open_project(&self, config: &UplinkConfig) -> Result<Project> {
        Project::open(self.clone(), config.clone())
    }
}

fn bucket_of(b: Option<pb::BucketInfo>, name: &str) -> Bucket {
    b.map(Bucket::from_pb).unwrap_or(Bucket {
        name: name.to_string(),
        created: std::time::UNIX_EPOCH,
    })
}

impl Project {
    pub(crate) fn open(access: Access, config: UplinkConfig) -> Result<Self> {
        let session = Session::open(access.satellite, &access.api_key, access.encryption, config)?;
        Ok(Project {
            session: Arc::new(session),
        })
    }

    /// Creates a bucket; `BucketAlreadyExists` if it exists.
    pub async fn create_bucket(&self, name: &str) -> Result<Bucket> {
        check_bucket(name)?;
        let r = self
            .session
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
            .session
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
                .session
                .metainfo
                .list_buckets(pb::ListBucketsRequest {
                    header: None,
                    cursor: cursor.clone(),
                    limit: self.session.config.list_page_size,
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
            .session
            .metainfo
            .delete_bucket(pb::DeleteBucketRequest {
                header: None,
                name: name.to_string(),
                delete_all,
            })
            .await?;
        Ok(bucket_of(r.bucket, name))
    }

    /// Information about a committed object; `ObjectNotFound` if none
    /// (also when it was written under another encryption key).
    pub async fn stat_object(&self, bucket: &str, key: &str) -> Result<Object> {
        check_bucket(bucket)?;
        check_key(key)?;
        let store = &self.session.encryption;
        let r = self
            .session
            .metainfo
            .get_object(pb::GetObjectRequest {
                header: None,
                bucket: bucket.to_string(),
                encrypted_key: codec::encrypt_key(store, bucket, key)?,
            })
            .await?;
        let o = r
            .object
            .ok_or_else(|| UplinkError::Internal("satellite sent no object".into()))?;
        let meta = codec::info_metadata(store, bucket, key, &o)?;
        Ok(Object::from_pb(key.to_string(), &o, meta.as_ref()))
    }

    /// Deletes an object; `ObjectNotFound` if none. Returns what was deleted.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<Object> {
        check_bucket(bucket)?;
        check_key(key)?;
        let r = self
            .session
            .metainfo
            .delete_object(pb::DeleteObjectRequest {
                header: None,
                bucket: bucket.to_string(),
                encrypted_key: codec::encrypt_key(&self.session.encryption, bucket, key)?,
            })
            .await?;
        match r.object {
            Some(o) => {
                // Already deleted: metadata that does not decrypt only
                // loses the custom fields of the answer.
                let meta = codec::info_metadata(&self.session.encryption, bucket, key, &o)
                    .ok()
                    .flatten();
                Ok(Object::from_pb(key.to_string(), &o, meta.as_ref()))
            }
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
        Upload::begin(self.session.clone(), bucket, key, opts.expires).await
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
        Download::begin(self.session.clone(), bucket, key, opts).await
    }

    /// Revokes `access`'s API key (one derived from this project's key,
    /// e.g. by [`Access::share`]): the satellite refuses it, and every key
    /// derived from it, from then on. Uses this project's own key.
    pub async fn revoke_access(&self, access: &Access) -> Result<()> {
        self.session
            .metainfo
            .revoke_api_key(pb::RevokeApiKeyRequest {
                header: None,
                api_key: access.api_key.to_bytes(),
            })
            .await?;
        Ok(())
    }

    /// Asks the satellite which project this access belongs to (the
    /// `ProjectInfo` call): a cheap check that the satellite accepts the
    /// API key (issued by it, not revoked, within its time window).
    pub async fn project_id(&self) -> Result<String> {
        let r = self
            .session
            .metainfo
            .project_info(pb::ProjectInfoRequest { header: None })
            .await?;
        if r.project_id.is_empty() {
            return Err(UplinkError::Internal(
                "satellite sent an empty project id".into(),
            ));
        }
        Ok(r.project_id)
    }

    /// Whether listings under `prefix` of `bucket` come from the satellite
    /// in key order (plain keys): each [`Project::list_objects_page`] is then
    /// one satellite call. With encrypted keys every page lists the whole
    /// folder and sorts it here.
    pub fn lists_in_key_order(&self, bucket: &str, prefix: &str) -> bool {
        self.session
            .encryption
            .lookup_plain(bucket, prefix)
            .is_ok_and(|base| base.cipher == PathCipher::None)
    }

    /// Whether `bucket` holds multipart uploads in progress, counting those
    /// this access cannot decrypt (one satellite call).
    pub async fn has_uploads_in_progress(&self, bucket: &str) -> Result<bool> {
        check_bucket(bucket)?;
        let r = self
            .session
            .metainfo
            .list_multipart_uploads(pb::ListMultipartUploadsRequest {
                header: None,
                bucket: bucket.to_string(),
                prefix: Vec::new(),
                cursor_key: Vec::new(),
                cursor_upload_id: Vec::new(),
                limit: 1,
            })
            .await?;
        Ok(!r.items.is_empty())
    }

    /// Closes the project. Uploads and downloads still open keep working
    /// until dropped.
    pub async fn close(self) -> Result<()> {
        Ok(())
    }
}
