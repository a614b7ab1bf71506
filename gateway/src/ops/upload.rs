//! Writing an object: the metadata a put-like request asks for, and the
//! upload that streams a body into a new object with it.

use s3s::S3Result;
use s3s::dto::{CopyObjectInput, CreateMultipartUploadInput, PutObjectInput, StreamingBlob};
use uplink::{Object, UploadOptions};

use super::acl::drop_object_acl;
use crate::body::{self, BodyOrigin, Written};
use crate::meta::{self, Headers, ObjectMeta};
use crate::s3error::uplink_error;
use crate::state::{Gateway, Target};

/// A put-like request (PutObject, CopyObject, CreateMultipartUpload):
/// the metadata it asks the new object to have.
pub trait RequestedMeta {
    /// Its standard headers and `x-amz-meta-*` values (taken out).
    fn take_meta(&mut self) -> ObjectMeta;
}

macro_rules! requested_meta {
    ($($input:ty),*) => {$(
        impl RequestedMeta for $input {
            fn take_meta(&mut self) -> ObjectMeta {
                ObjectMeta {
                    headers: Headers {
                        content_type: self.content_type.take(),
                        cache_control: self.cache_control.take(),
                        content_disposition: self.content_disposition.take(),
                        content_encoding: self.content_encoding.take(),
                        content_language: self.content_language.take(),
                        expires: self.expires.as_ref().and_then(meta::http_date),
                    },
                    user: self.metadata.take().unwrap_or_default().into_iter().collect(),
                    etag: None,
                }
            }
        }
    )*};
}

requested_meta!(PutObjectInput, CopyObjectInput, CreateMultipartUploadInput);

/// A body to upload: its bytes, where they come from, and what the
/// request declared of them.
pub struct UploadBody<'a> {
    /// The bytes (none: empty).
    pub blob: Option<StreamingBlob>,
    /// Where they come from.
    pub origin: BodyOrigin,
    /// The declared Content-Length.
    pub content_length: Option<i64>,
    /// The declared Content-MD5 (base64).
    pub content_md5: Option<&'a str>,
}

/// Uploads `body` to `bucket`/`key` with `meta` and returns the object and
/// what was written; aborts the upload on any failure. The object's old
/// ACL is dropped (and its shares revoked) just before the commit: the new
/// content is never readable through the old ACL, and a failed commit
/// leaves the object private (fail closed).
pub async fn upload(
    gw: &Gateway,
    target: &Target,
    bucket: &str,
    key: &str,
    body: UploadBody<'_>,
    mut meta: ObjectMeta,
) -> S3Result<(Object, Written)> {
    let project = &target.project;
    let mut up = project
        .upload_object(bucket, key, &UploadOptions { expires: None })
        .await
        .map_err(uplink_error)?;
    let written = match body::drain(
        body.blob,
        &body.origin,
        &mut up,
        body.content_length,
        body.content_md5,
    )
    .await
    {
        Ok(w) => w,
        Err(e) => {
            let _ = up.abort().await;
            return Err(e);
        }
    };
    meta.etag = Some(meta::hex_md5(&written.md5));
    if let Err(e) = up.set_custom_metadata(meta.to_custom()) {
        let _ = up.abort().await;
        return Err(uplink_error(e));
    }
    if let Err(e) = drop_object_acl(gw, &target.scope, bucket, key).await {
        let _ = up.abort().await;
        return Err(e);
    }
    let object = up.commit().await.map_err(uplink_error)?;
    Ok((object, written))
}

#[cfg(test)]
mod tests {
    use s3s::dto::{Timestamp, TimestampFormat};

    use super::*;

    #[test]
    fn put_like_inputs_give_their_headers_and_user_metadata() {
        let mut put = PutObjectInput::builder()
            .bucket("b".into())
            .key("k".into())
            .build()
            .unwrap();
        put.content_type = Some("text/plain".into());
        put.cache_control = Some("no-cache".into());
        put.expires = Some(
            Timestamp::parse(TimestampFormat::HttpDate, "Thu, 01 Dec 1994 16:00:00 GMT").unwrap(),
        );
        put.metadata = Some([("color".to_string(), "blue".to_string())].into());
        let meta = put.take_meta();
        assert_eq!(meta.headers.content_type.as_deref(), Some("text/plain"));
        assert_eq!(meta.headers.cache_control.as_deref(), Some("no-cache"));
        assert_eq!(
            meta.headers.expires.as_deref(),
            Some("Thu, 01 Dec 1994 16:00:00 GMT")
        );
        assert_eq!(meta.user.get("color").map(String::as_str), Some("blue"));
        assert_eq!(meta.etag, None);
        // Taken out: a second look finds nothing.
        assert_eq!(put.content_type, None);
        assert!(put.take_meta().user.is_empty());

        let mut mpu = CreateMultipartUploadInput::builder()
            .bucket("b".into())
            .key("k".into())
            .build()
            .unwrap();
        mpu.content_language = Some("en".into());
        assert_eq!(
            mpu.take_meta().headers.content_language.as_deref(),
            Some("en")
        );
    }
}
