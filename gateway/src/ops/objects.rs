//! Object operations: put, get, head, delete, multi-delete, copy.

use http::StatusCode;
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use uplink::{DownloadOptions, ErrorKind, Object, Project, UploadOptions};

use super::acl::{apply_acl, canned_or_private, drop_object_acl, owner_scope};
use crate::acl::{Acl, Perm};
use crate::body::{self, Written};
use crate::error::{s3err, uplink_error};
use crate::meta::{self, Headers, ObjectMeta};
use crate::state::{Actor, Gateway, Session, Target};

/// Largest object a single PUT may carry (S3's limit).
const MAX_PUT_SIZE: i64 = 5 * 1024 * 1024 * 1024;

/// Stats an object; a missing bucket is NoSuchBucket, not NoSuchKey.
pub(crate) async fn stat(project: &Project, bucket: &str, key: &str) -> S3Result<Object> {
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

fn last_modified(o: &Object) -> Timestamp {
    Timestamp::from(o.system.created)
}

/// Uploads `body` to `bucket`/`key` with `meta` and returns the object and
/// what was written; aborts the upload on any failure. The object's old
/// ACL is dropped (and its shares revoked) just before the commit: the new
/// content is never readable through the old ACL, and a failed commit
/// leaves the object private (fail closed).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn upload(
    gw: &Gateway,
    target: &Target,
    bucket: &str,
    key: &str,
    body: Option<StreamingBlob>,
    content_length: Option<i64>,
    content_md5: Option<&str>,
    mut meta: ObjectMeta,
) -> S3Result<(Object, Written)> {
    let project = &target.project;
    let mut up = project
        .upload_object(bucket, key, &UploadOptions { expires: None })
        .await
        .map_err(uplink_error)?;
    let written = match body::drain(body, &mut up, content_length, content_md5).await {
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

/// The ACL a put-like request asks for, and who applies it: `None` when it
/// is the owner-only default (anyone who may write gets that), else the
/// session of a user of the bucket's owning project (checked before any
/// data moves) and the project scope.
pub(crate) async fn requested_object_acl(
    gw: &Gateway,
    actor: &Actor,
    bucket: &str,
    canned: Option<&str>,
    owner_id: &str,
) -> S3Result<Option<(Acl, std::sync::Arc<Session>, String)>> {
    let acl = canned_or_private(canned, owner_id)?;
    if acl.grants.len() <= 1 {
        return Ok(None);
    }
    let (s, scope) = owner_scope(gw, actor, bucket, "set ACLs").await?;
    // The owner named by the canned ACL is the user who applies it.
    let acl = canned_or_private(canned, &s.user.id)?;
    Ok(Some((acl, s, scope)))
}

/// Applies what [`requested_object_acl`] returned to a new object.
pub(crate) async fn apply_object_acl(
    gw: &Gateway,
    bucket: &str,
    key: &str,
    requested: Option<(Acl, std::sync::Arc<Session>, String)>,
) -> S3Result<()> {
    match requested {
        Some((acl, s, scope)) => {
            apply_acl(gw, &s.access, &scope, bucket, key, &s.user.id, &acl).await
        }
        None => Ok(()),
    }
}

/// The headers of a put-like request.
pub(crate) fn headers_of(
    content_type: Option<&ContentType>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    expires: Option<&Timestamp>,
) -> Headers {
    Headers {
        content_type: content_type.cloned(),
        cache_control,
        content_disposition,
        content_encoding,
        content_language,
        expires: expires.and_then(meta::http_date),
    }
}

/// PutObject.
pub async fn put(
    gw: &Gateway,
    req: S3Request<PutObjectInput>,
) -> S3Result<S3Response<PutObjectOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    if i.content_length.is_some_and(|n| n > MAX_PUT_SIZE) {
        return Err(s3err(
            S3ErrorCode::EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed object size (5 GiB); use multipart upload.",
        ));
    }
    let target = gw.resolve(&actor, &i.bucket, None, Perm::Write).await?;
    let acl = requested_object_acl(
        gw,
        &actor,
        &i.bucket,
        i.acl.as_ref().map(|a| a.as_str()),
        &target.owner_id,
    )
    .await?;
    let meta = ObjectMeta {
        headers: headers_of(
            i.content_type.as_ref(),
            i.cache_control,
            i.content_disposition,
            i.content_encoding,
            i.content_language,
            i.expires.as_ref(),
        ),
        user: i.metadata.unwrap_or_default().into_iter().collect(),
        etag: None,
    };
    let (_, written) = upload(
        gw,
        &target,
        &i.bucket,
        &i.key,
        i.body,
        i.content_length,
        i.content_md5.as_deref(),
        meta,
    )
    .await?;
    apply_object_acl(gw, &i.bucket, &i.key, acl).await?;
    Ok(S3Response::new(PutObjectOutput {
        e_tag: Some(ETag::Strong(meta::hex_md5(&written.md5))),
        size: Some(written.len as i64),
        ..Default::default()
    }))
}

/// Conditional-request checks shared by GET and HEAD.
fn check_conditions(
    etag: &ETag,
    modified: &Timestamp,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let modified: time::OffsetDateTime = modified.clone().into();
    let secs = |t: &Timestamp| -> i64 { time::OffsetDateTime::from(t.clone()).unix_timestamp() };
    let matches = |c: &ETagCondition| match c {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == etag.value(),
    };
    if let Some(c) = if_match {
        if !matches(c) {
            return Err(s3err(
                S3ErrorCode::PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
    } else if let Some(t) = if_unmodified_since
        && modified.unix_timestamp() > secs(t)
    {
        return Err(s3err(
            S3ErrorCode::PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold",
        ));
    }
    if let Some(c) = if_none_match {
        if matches(c) {
            return Err(not_modified());
        }
    } else if let Some(t) = if_modified_since
        && modified.unix_timestamp() <= secs(t)
    {
        return Err(not_modified());
    }
    Ok(())
}

fn not_modified() -> s3s::S3Error {
    let mut e = s3err(S3ErrorCode::NotModified, "Not Modified");
    e.set_status_code(StatusCode::NOT_MODIFIED);
    e
}

/// Byte range of a request against an object of `size`.
fn byte_range(range: Option<&Range>, size: u64) -> S3Result<Option<std::ops::Range<u64>>> {
    match range {
        None => Ok(None),
        Some(r) => match r.check(size) {
            Ok(r) => Ok(Some(r)),
            Err(_) => Err(s3err(
                S3ErrorCode::InvalidRange,
                "The requested range is not satisfiable",
            )),
        },
    }
}

/// An object that passed a GET or HEAD's conditions, with its byte range.
struct Checked {
    meta: ObjectMeta,
    etag: ETag,
    modified: Timestamp,
    size: u64,
    range: Option<std::ops::Range<u64>>,
}

/// Applies a GET or HEAD's conditions and range to `object`.
fn checked(
    object: &Object,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
    range: Option<&Range>,
) -> S3Result<Checked> {
    let meta = ObjectMeta::from_custom(&object.custom);
    let etag = meta.etag();
    let modified = last_modified(object);
    check_conditions(
        &etag,
        &modified,
        if_match,
        if_none_match,
        if_modified_since,
        if_unmodified_since,
    )?;
    let size = object.system.content_length.max(0) as u64;
    let range = byte_range(range, size)?;
    Ok(Checked {
        meta,
        etag,
        modified,
        size,
        range,
    })
}

/// The headers a GET or HEAD answers with: stored ones, replaced by the
/// request's `response-*` overrides.
struct Shown {
    content_type: String,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    expires: Option<Timestamp>,
}

#[allow(clippy::too_many_arguments)]
fn shown(
    meta: &ObjectMeta,
    content_type: Option<String>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    expires: Option<Timestamp>,
) -> Shown {
    let h = &meta.headers;
    Shown {
        content_type: content_type
            .or_else(|| h.content_type.clone())
            .unwrap_or_else(|| "application/octet-stream".to_string()),
        cache_control: cache_control.or_else(|| h.cache_control.clone()),
        content_disposition: content_disposition.or_else(|| h.content_disposition.clone()),
        content_encoding: content_encoding.or_else(|| h.content_encoding.clone()),
        content_language: content_language.or_else(|| h.content_language.clone()),
        expires: expires.or_else(|| meta.expires()),
    }
}

/// [`shown`] with a GET or HEAD input's `response-*` overrides.
macro_rules! shown {
    ($meta:expr, $i:expr) => {
        shown(
            $meta,
            $i.response_content_type,
            $i.response_cache_control,
            $i.response_content_disposition,
            $i.response_content_encoding,
            $i.response_content_language,
            $i.response_expires,
        )
    };
}

/// GetObject.
pub async fn get(
    gw: &Gateway,
    req: S3Request<GetObjectInput>,
) -> S3Result<S3Response<GetObjectOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    if i.part_number.is_some() {
        return Err(s3err(
            S3ErrorCode::NotImplemented,
            "GetObject by partNumber is not supported",
        ));
    }
    let target = gw
        .resolve(&actor, &i.bucket, Some(&i.key), Perm::Read)
        .await?;
    // A plain GET starts the download at once (one satellite round trip
    // fewer); conditions and ranges need the object's size and ETag first.
    let plain = i.range.is_none()
        && i.if_match.is_none()
        && i.if_none_match.is_none()
        && i.if_modified_since.is_none()
        && i.if_unmodified_since.is_none();
    let mut started = None;
    let object = if plain {
        match target
            .project
            .download_object(
                &i.bucket,
                &i.key,
                &DownloadOptions {
                    offset: 0,
                    length: -1,
                },
            )
            .await
        {
            Ok(dl) => {
                let o = dl.info().clone();
                started = Some(dl);
                o
            }
            Err(e) if e.kind() == ErrorKind::ObjectNotFound => {
                return Err(stat(&target.project, &i.bucket, &i.key)
                    .await
                    .err()
                    .unwrap_or_else(|| uplink_error(e)));
            }
            Err(e) => return Err(uplink_error(e)),
        }
    } else {
        stat(&target.project, &i.bucket, &i.key).await?
    };
    let Checked {
        meta,
        etag,
        modified,
        size,
        range,
    } = checked(
        &object,
        i.if_match.as_ref(),
        i.if_none_match.as_ref(),
        i.if_modified_since.as_ref(),
        i.if_unmodified_since.as_ref(),
        i.range.as_ref(),
    )?;
    let (offset, length) = match &range {
        Some(r) => (r.start, r.end - r.start),
        None => (0, size),
    };
    let body = if let Some(dl) = started {
        body::download_body(dl)
    } else if length == 0 {
        StreamingBlob::wrap(futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>())
    } else {
        let dl = target
            .project
            .download_object(
                &i.bucket,
                &i.key,
                &DownloadOptions {
                    offset: offset as i64,
                    length: length as i64,
                },
            )
            .await
            .map_err(uplink_error)?;
        body::download_body(dl)
    };
    let sh = shown!(&meta, i);
    let output = GetObjectOutput {
        accept_ranges: Some("bytes".into()),
        body: Some(body),
        content_length: Some(length as i64),
        content_range: range
            .as_ref()
            .map(|r| format!("bytes {}-{}/{}", r.start, r.end - 1, size)),
        content_type: Some(sh.content_type),
        cache_control: sh.cache_control,
        content_disposition: sh.content_disposition,
        content_encoding: sh.content_encoding,
        content_language: sh.content_language,
        expires: sh.expires,
        e_tag: Some(etag),
        last_modified: Some(modified),
        metadata: meta.user_metadata(),
        ..Default::default()
    };
    let mut resp = S3Response::new(output);
    if range.is_some() {
        resp.status = Some(StatusCode::PARTIAL_CONTENT);
    }
    Ok(resp)
}

/// HeadObject.
pub async fn head(
    gw: &Gateway,
    req: S3Request<HeadObjectInput>,
) -> S3Result<S3Response<HeadObjectOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = gw
        .resolve(&actor, &i.bucket, Some(&i.key), Perm::Read)
        .await?;
    let object = stat(&target.project, &i.bucket, &i.key).await?;
    let Checked {
        meta,
        etag,
        modified,
        size,
        range,
    } = checked(
        &object,
        i.if_match.as_ref(),
        i.if_none_match.as_ref(),
        i.if_modified_since.as_ref(),
        i.if_unmodified_since.as_ref(),
        i.range.as_ref(),
    )?;
    let sh = shown!(&meta, i);
    Ok(S3Response::new(HeadObjectOutput {
        accept_ranges: Some("bytes".into()),
        content_length: Some(range.as_ref().map_or(size, |r| r.end - r.start) as i64),
        content_type: Some(sh.content_type),
        cache_control: sh.cache_control,
        content_disposition: sh.content_disposition,
        content_encoding: sh.content_encoding,
        content_language: sh.content_language,
        expires: sh.expires,
        e_tag: Some(etag),
        last_modified: Some(modified),
        metadata: meta.user_metadata(),
        ..Default::default()
    }))
}

/// Deletes one object and its ACL (revoking its shares); a missing key is
/// not an error (S3 semantics). Whether the object existed.
async fn delete_one(
    gw: &Gateway,
    project: &Project,
    scope: &str,
    bucket: &str,
    key: &str,
) -> S3Result<bool> {
    let existed = match project.delete_object(bucket, key).await {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::ObjectNotFound => false,
        Err(e) => return Err(uplink_error(e)),
    };
    drop_object_acl(gw, scope, bucket, key).await?;
    Ok(existed)
}

/// DeleteObject. The bucket is checked only when the key was missing
/// (NoSuchBucket then), not on every delete.
pub async fn delete(
    gw: &Gateway,
    req: S3Request<DeleteObjectInput>,
) -> S3Result<S3Response<DeleteObjectOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = gw.resolve(&actor, &i.bucket, None, Perm::Write).await?;
    if !delete_one(gw, &target.project, &target.scope, &i.bucket, &i.key).await? {
        target
            .project
            .stat_bucket(&i.bucket)
            .await
            .map_err(uplink_error)?;
    }
    Ok(S3Response::new(DeleteObjectOutput::default()))
}

/// DeleteObjects (multi-delete), eight at a time.
pub async fn delete_many(
    gw: &Gateway,
    req: S3Request<DeleteObjectsInput>,
) -> S3Result<S3Response<DeleteObjectsOutput>> {
    use futures::StreamExt;
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    if i.delete.objects.len() > 1000 {
        return Err(s3err(
            S3ErrorCode::MalformedXML,
            "at most 1000 keys per DeleteObjects request",
        ));
    }
    let target = gw.resolve_bucket(&actor, &i.bucket, Perm::Write).await?;
    let quiet = i.delete.quiet.unwrap_or(false);
    let results: Vec<(String, S3Result<()>)> = futures::stream::iter(i.delete.objects)
        .map(|o| {
            let project = target.project.clone();
            let scope = target.scope.clone();
            let bucket = i.bucket.clone();
            async move {
                let r = delete_one(gw, &project, &scope, &bucket, &o.key)
                    .await
                    .map(|_| ());
                (o.key, r)
            }
        })
        .buffered(8)
        .collect()
        .await;
    let mut deleted = Vec::new();
    let mut errors = Vec::new();
    for (key, r) in results {
        match r {
            Ok(()) if !quiet => deleted.push(DeletedObject {
                key: Some(key),
                ..Default::default()
            }),
            Ok(()) => {}
            Err(e) => errors.push(Error {
                code: Some(e.code().as_str().to_string()),
                key: Some(key),
                message: e.message().map(str::to_string),
                version_id: None,
            }),
        }
    }
    Ok(S3Response::new(DeleteObjectsOutput {
        deleted: Some(deleted),
        errors: (!errors.is_empty()).then_some(errors),
        request_charged: None,
    }))
}

/// CopyObject: streams the source through the gateway into the target,
/// keeping (COPY) or replacing (REPLACE) the metadata.
pub async fn copy(
    gw: &Gateway,
    req: S3Request<CopyObjectInput>,
) -> S3Result<S3Response<CopyObjectOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let CopySource::Bucket {
        bucket: src_bucket,
        key: src_key,
        version_id,
    } = &i.copy_source
    else {
        return Err(s3err(
            S3ErrorCode::NotImplemented,
            "copy from access points is not supported",
        ));
    };
    if version_id.is_some() {
        return Err(s3err(
            S3ErrorCode::NotImplemented,
            "versioning is not supported",
        ));
    }
    let source = gw
        .resolve(&actor, src_bucket, Some(src_key), Perm::Read)
        .await?;
    let target = gw.resolve(&actor, &i.bucket, None, Perm::Write).await?;
    let acl = requested_object_acl(
        gw,
        &actor,
        &i.bucket,
        i.acl.as_ref().map(|a| a.as_str()),
        &target.owner_id,
    )
    .await?;
    let object = stat(&source.project, src_bucket, src_key).await?;
    let src_meta = ObjectMeta::from_custom(&object.custom);
    check_conditions(
        &src_meta.etag(),
        &last_modified(&object),
        i.copy_source_if_match.as_ref(),
        i.copy_source_if_none_match.as_ref(),
        i.copy_source_if_modified_since.as_ref(),
        i.copy_source_if_unmodified_since.as_ref(),
    )
    .map_err(|e| {
        // S3 answers 412 for every failed copy-source condition.
        if *e.code() == S3ErrorCode::NotModified {
            s3err(
                S3ErrorCode::PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold",
            )
        } else {
            e
        }
    })?;
    let replace = i
        .metadata_directive
        .as_ref()
        .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
    let same = **src_bucket == *i.bucket && **src_key == *i.key;
    if same && !replace {
        return Err(s3err(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata.",
        ));
    }
    let meta = if replace {
        ObjectMeta {
            headers: headers_of(
                i.content_type.as_ref(),
                i.cache_control,
                i.content_disposition,
                i.content_encoding,
                i.content_language,
                i.expires.as_ref(),
            ),
            user: i.metadata.unwrap_or_default().into_iter().collect(),
            etag: None,
        }
    } else {
        ObjectMeta {
            etag: None,
            ..src_meta
        }
    };
    let size = object.system.content_length.max(0);
    let body = if size == 0 {
        None
    } else {
        let dl = source
            .project
            .download_object(
                src_bucket,
                src_key,
                &DownloadOptions {
                    offset: 0,
                    length: -1,
                },
            )
            .await
            .map_err(uplink_error)?;
        Some(body::download_body(dl))
    };
    let (new_object, written) =
        upload(gw, &target, &i.bucket, &i.key, body, Some(size), None, meta).await?;
    apply_object_acl(gw, &i.bucket, &i.key, acl).await?;
    Ok(S3Response::new(CopyObjectOutput {
        copy_object_result: Some(CopyObjectResult {
            e_tag: Some(ETag::Strong(meta::hex_md5(&written.md5))),
            last_modified: Some(last_modified(&new_object)),
            ..Default::default()
        }),
        ..Default::default()
    }))
}
