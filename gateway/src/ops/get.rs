//! GetObject and HeadObject: an object (or only its headers) under the
//! request's conditions, byte range and `response-*` overrides.

use http::StatusCode;
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use uplink::{DownloadOptions, ErrorKind, Object};

use super::stat::{last_modified, stat};
use crate::acl::Perm;
use crate::body;
use crate::conditions::{Applies, Conditions};
use crate::meta::ObjectMeta;
use crate::overrides::ResponseOverrides;
use crate::s3error::{s3err, uplink_error};
use crate::state::Gateway;

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
fn checked(object: &Object, conditions: &Conditions, range: Option<&Range>) -> S3Result<Checked> {
    let meta = ObjectMeta::from_custom(&object.custom);
    let etag = meta.etag();
    let modified = last_modified(object);
    conditions.check(&etag, &modified, Applies::Read)?;
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
    let conditions = Conditions::of_get(&i);
    // A plain GET starts the download at once (one satellite round trip
    // fewer); conditions and ranges need the object's size and ETag first.
    let plain = i.range.is_none() && conditions.is_empty();
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
    } = checked(&object, &conditions, i.range.as_ref())?;
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
    let shown = ResponseOverrides::of_get(&i).apply(&meta);
    let output = GetObjectOutput {
        accept_ranges: Some("bytes".into()),
        body: Some(body),
        content_length: Some(length as i64),
        content_range: range
            .as_ref()
            .map(|r| format!("bytes {}-{}/{}", r.start, r.end - 1, size)),
        content_type: Some(shown.content_type),
        cache_control: shown.cache_control,
        content_disposition: shown.content_disposition,
        content_encoding: shown.content_encoding,
        content_language: shown.content_language,
        expires: shown.expires,
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
    } = checked(&object, &Conditions::of_head(&i), i.range.as_ref())?;
    let shown = ResponseOverrides::of_head(&i).apply(&meta);
    Ok(S3Response::new(HeadObjectOutput {
        accept_ranges: Some("bytes".into()),
        content_length: Some(range.as_ref().map_or(size, |r| r.end - r.start) as i64),
        content_type: Some(shown.content_type),
        cache_control: shown.cache_control,
        content_disposition: shown.content_disposition,
        content_encoding: shown.content_encoding,
        content_language: shown.content_language,
        expires: shown.expires,
        e_tag: Some(etag),
        last_modified: Some(modified),
        metadata: meta.user_metadata(),
        ..Default::default()
    }))
}
