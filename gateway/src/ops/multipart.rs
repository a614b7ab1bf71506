//! Multipart uploads over the uplink's native multipart API: parts are
//! streamed straight to the nodes; Complete stitches them without copying.

use md5::{Digest, Md5};
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use uplink::{CommitUploadOptions, ErrorKind, ListUploadsOptions, UplinkError, UploadOptions};

use super::acl::{canned_or_private, drop_object_acl, owner_scope};
use super::objects::{apply_object_acl, headers_of};
use crate::acl::{Acl, Perm};
use crate::body;
use crate::error::{s3err, uplink_error};
use crate::meta::{self, ObjectMeta};
use crate::state::Gateway;

/// Largest part number S3 allows.
const MAX_PART_NUMBER: i32 = 10_000;

/// What CreateMultipartUpload was given, kept until Complete.
struct Pending {
    meta: ObjectMeta,
    acl: Option<Acl>,
}

impl Pending {
    fn encode(&self) -> String {
        let mut lines = Vec::new();
        if let Some(acl) = &self.acl {
            lines.push(format!(
                "acl\t{}",
                acl.to_text().replace('\t', " ").replace('\n', ";")
            ));
        }
        for (k, v) in self.meta.to_custom() {
            lines.push(format!("m\t{}\t{}", escape(&k), escape(&v)));
        }
        lines.join("\n")
    }

    fn decode(text: &str) -> Option<Pending> {
        let mut custom = std::collections::BTreeMap::new();
        let mut acl = None;
        for line in text.lines() {
            let mut parts = line.splitn(3, '\t');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("acl"), Some(a), None) => {
                    let text: String = a
                        .split(';')
                        .filter(|l| !l.is_empty())
                        .map(|l| format!("{}\n", l.replacen(' ', "\t", 1)))
                        .collect();
                    acl = Some(Acl::from_text(&text)?);
                }
                (Some("m"), Some(k), Some(v)) => {
                    custom.insert(unescape(k), unescape(v));
                }
                _ => return None,
            }
        }
        Some(Pending {
            meta: ObjectMeta::from_custom(&custom),
            acl,
        })
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn no_such_upload() -> s3s::S3Error {
    s3err(
        S3ErrorCode::NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
}

/// Uplink errors about an upload id mean NoSuchUpload to S3.
fn upload_error(e: UplinkError) -> s3s::S3Error {
    match e.kind() {
        ErrorKind::ObjectNotFound | ErrorKind::UploadDone | ErrorKind::UploadNotFound => {
            no_such_upload()
        }
        ErrorKind::InvalidPart => s3err(
            S3ErrorCode::InvalidPart,
            format!("One or more of the specified parts could not be found: {e}"),
        ),
        _ => uplink_error(e),
    }
}

/// The access for an upload in progress of `bucket`/`key`, or
/// NoSuchUpload when the gateway knows no such upload.
async fn upload_target(
    gw: &Gateway,
    actor: &crate::state::Actor,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> S3Result<crate::state::Target> {
    let target = gw.resolve(actor, bucket, None, Perm::Write).await?;
    if gw
        .store()
        .upload(&target.scope, upload_id, bucket, key)
        .await?
        .is_none()
    {
        return Err(no_such_upload());
    }
    Ok(target)
}

/// CreateMultipartUpload.
pub async fn create(
    gw: &Gateway,
    req: S3Request<CreateMultipartUploadInput>,
) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = gw.resolve(&actor, &i.bucket, None, Perm::Write).await?;
    // An ACL beyond the owner-only default needs an owner, checked now.
    let acl = match &i.acl {
        Some(a) => {
            let acl = canned_or_private(Some(a.as_str()), &target.owner_id)?;
            if acl.grants.len() > 1 {
                let (s, _) = owner_scope(gw, &actor, &i.bucket, "set ACLs").await?;
                Some(canned_or_private(Some(a.as_str()), &s.user.id)?)
            } else {
                None
            }
        }
        None => None,
    };
    let pending = Pending {
        meta: ObjectMeta {
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
        },
        acl,
    };
    let info = target
        .project
        .begin_upload(&i.bucket, &i.key, &UploadOptions::default())
        .await
        .map_err(uplink_error)?;
    let sealed = gw.seal("upload", pending.encode().as_bytes());
    gw.store()
        .put_upload(&target.scope, &info.upload_id, &i.bucket, &i.key, &sealed)
        .await?;
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(i.bucket),
        key: Some(i.key),
        upload_id: Some(info.upload_id),
        ..Default::default()
    }))
}

/// UploadPart: streams the body into the part, MD5 as its ETag.
pub async fn upload_part(
    gw: &Gateway,
    req: S3Request<UploadPartInput>,
) -> S3Result<S3Response<UploadPartOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    if !(1..=MAX_PART_NUMBER).contains(&i.part_number) {
        return Err(s3err(
            S3ErrorCode::InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive",
        ));
    }
    let target = upload_target(gw, &actor, &i.bucket, &i.key, &i.upload_id).await?;
    let mut part = target
        .project
        .upload_part(&i.bucket, &i.key, &i.upload_id, i.part_number as u32)
        .await
        .map_err(upload_error)?;
    let written = match body::drain(
        i.body,
        &mut part,
        i.content_length,
        i.content_md5.as_deref(),
    )
    .await
    {
        Ok(w) => w,
        Err(e) => {
            let _ = part.abort().await;
            return Err(e);
        }
    };
    if let Err(e) = part.set_etag(meta::hex_md5(&written.md5).into_bytes()) {
        let _ = part.abort().await;
        return Err(uplink_error(e));
    }
    part.commit().await.map_err(upload_error)?;
    Ok(S3Response::new(UploadPartOutput {
        e_tag: Some(ETag::Strong(meta::hex_md5(&written.md5))),
        ..Default::default()
    }))
}

/// Every uploaded part of an upload, ascending.
async fn all_parts(
    project: &uplink::Project,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> S3Result<Vec<uplink::PartInfo>> {
    let mut out = Vec::new();
    let mut cursor = 0;
    loop {
        let (parts, more) = project
            .list_upload_parts(bucket, key, upload_id, cursor, 1000)
            .await
            .map_err(upload_error)?;
        if let Some(last) = parts.last() {
            cursor = last.part_number;
        }
        let empty = parts.is_empty();
        out.extend(parts);
        if !more || empty {
            return Ok(out);
        }
    }
}

/// CompleteMultipartUpload: checks the part list against what was
/// uploaded, then commits the object from those parts.
pub async fn complete(
    gw: &Gateway,
    req: S3Request<CompleteMultipartUploadInput>,
) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = gw.resolve(&actor, &i.bucket, None, Perm::Write).await?;
    let sealed = gw
        .store()
        .upload(&target.scope, &i.upload_id, &i.bucket, &i.key)
        .await?
        .ok_or_else(no_such_upload)?;
    let pending = gw
        .open("upload", &sealed)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| Pending::decode(&t))
        .ok_or_else(|| {
            s3err(
                S3ErrorCode::InternalError,
                "stored upload metadata is corrupt",
            )
        })?;
    let requested = i.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
    if requested.is_empty() {
        return Err(s3err(
            S3ErrorCode::MalformedXML,
            "You must specify at least one part",
        ));
    }
    let uploaded = all_parts(&target.project, &i.bucket, &i.key, &i.upload_id).await?;
    let mut numbers = Vec::with_capacity(requested.len());
    let mut md5s = Md5::new();
    let mut prev = 0;
    for (n, p) in requested.iter().enumerate() {
        let number = p.part_number.unwrap_or(0);
        if number <= prev {
            return Err(s3err(
                S3ErrorCode::InvalidPartOrder,
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
            ));
        }
        prev = number;
        let invalid = || {
            s3err(
                S3ErrorCode::InvalidPart,
                format!(
                    "One or more of the specified parts could not be found (part {number}), or its entity tag did not match."
                ),
            )
        };
        let found = uploaded
            .iter()
            .find(|u| u.part_number as i32 == number)
            .ok_or_else(invalid)?;
        let stored = String::from_utf8_lossy(&found.etag).to_string();
        if let Some(given) = &p.e_tag
            && given.value().trim_matches('"') != stored
        {
            return Err(invalid());
        }
        let last = n + 1 == requested.len();
        if !last && found.size < gw.inner.min_part_size {
            return Err(s3err(
                S3ErrorCode::EntityTooSmall,
                format!(
                    "Your proposed upload is smaller than the minimum allowed size: part {number} has {} bytes, parts but the last need {}",
                    found.size, gw.inner.min_part_size
                ),
            ));
        }
        let raw = satstore_common::hex::decode(&stored).unwrap_or_default();
        md5s.update(&raw);
        numbers.push(number as u32);
    }
    let etag = format!("{}-{}", meta::hex_md5(&md5s.finalize()), numbers.len());
    // The ACL asked for at creation is applied by an owner, checked before
    // the commit.
    let requested = match pending.acl.clone() {
        Some(acl) => {
            let (s, scope) = owner_scope(
                gw,
                &actor,
                &i.bucket,
                "complete an upload begun with an ACL",
            )
            .await?;
            Some((acl, s, scope))
        }
        None => None,
    };
    let mut meta = pending.meta;
    meta.etag = Some(etag.clone());
    // The old object's ACL goes before the new content is visible.
    drop_object_acl(gw, &target.scope, &i.bucket, &i.key).await?;
    target
        .project
        .commit_upload(
            &i.bucket,
            &i.key,
            &i.upload_id,
            CommitUploadOptions {
                custom_metadata: meta.to_custom(),
                parts: numbers,
            },
        )
        .await
        .map_err(upload_error)?;
    gw.store().delete_upload(&i.upload_id).await?;
    apply_object_acl(gw, &i.bucket, &i.key, requested).await?;
    Ok(S3Response::new(CompleteMultipartUploadOutput {
        bucket: Some(i.bucket.clone()),
        key: Some(i.key.clone()),
        e_tag: Some(ETag::Strong(etag)),
        location: Some(format!("/{}/{}", i.bucket, i.key)),
        ..Default::default()
    }))
}

/// AbortMultipartUpload.
pub async fn abort(
    gw: &Gateway,
    req: S3Request<AbortMultipartUploadInput>,
) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = upload_target(gw, &actor, &i.bucket, &i.key, &i.upload_id).await?;
    target
        .project
        .abort_upload(&i.bucket, &i.key, &i.upload_id)
        .await
        .map_err(upload_error)?;
    gw.store().delete_upload(&i.upload_id).await?;
    Ok(S3Response::new(AbortMultipartUploadOutput::default()))
}

/// ListParts.
pub async fn list_parts(
    gw: &Gateway,
    req: S3Request<ListPartsInput>,
) -> S3Result<S3Response<ListPartsOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = upload_target(gw, &actor, &i.bucket, &i.key, &i.upload_id).await?;
    let max = i.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
    let marker = i.part_number_marker.unwrap_or(0).max(0) as u32;
    let (parts, more) = target
        .project
        .list_upload_parts(&i.bucket, &i.key, &i.upload_id, marker, max)
        .await
        .map_err(upload_error)?;
    let next = parts.last().map(|p| p.part_number as i32);
    let owner = crate::acl::policy::owner(
        &target.owner_id,
        &gw.display_name(&target.owner_id).await.unwrap_or_default(),
    );
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(i.bucket),
        key: Some(i.key),
        upload_id: Some(i.upload_id),
        max_parts: Some(max as i32),
        part_number_marker: Some(marker as i32),
        next_part_number_marker: next,
        is_truncated: Some(more),
        owner: Some(owner.clone()),
        initiator: Some(Initiator {
            display_name: owner.display_name,
            id: owner.id,
        }),
        storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
        parts: Some(
            parts
                .into_iter()
                .map(|p| Part {
                    e_tag: Some(ETag::Strong(String::from_utf8_lossy(&p.etag).to_string())),
                    last_modified: Some(Timestamp::from(p.modified)),
                    part_number: Some(p.part_number as i32),
                    size: Some(p.size as i64),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    }))
}

/// ListMultipartUploads.
pub async fn list_uploads(
    gw: &Gateway,
    req: S3Request<ListMultipartUploadsInput>,
) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
    let actor = gw.actor(req.credentials.as_ref()).await?;
    let i = req.input;
    let target = gw.resolve_bucket(&actor, &i.bucket, Perm::Read).await?;
    let max = i.max_uploads.unwrap_or(1000).clamp(0, 1000) as usize;
    let opts = ListUploadsOptions {
        prefix: i.prefix.clone().unwrap_or_default(),
        cursor: i.key_marker.clone().unwrap_or_default(),
        limit: max,
    };
    let (uploads, more) = target
        .project
        .list_uploads(&i.bucket, &opts)
        .await
        .map_err(uplink_error)?;
    let last = uploads.last().map(|u| (u.key.clone(), u.upload_id.clone()));
    let owner = crate::acl::policy::owner(
        &target.owner_id,
        &gw.display_name(&target.owner_id).await.unwrap_or_default(),
    );
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(i.bucket),
        prefix: i.prefix,
        key_marker: i.key_marker,
        upload_id_marker: i.upload_id_marker,
        max_uploads: Some(max as i32),
        is_truncated: Some(more),
        next_key_marker: if more {
            last.as_ref().map(|l| l.0.clone())
        } else {
            None
        },
        next_upload_id_marker: if more { last.map(|l| l.1) } else { None },
        uploads: Some(
            uploads
                .into_iter()
                .map(|u| MultipartUpload {
                    initiated: Some(Timestamp::from(u.created)),
                    initiator: Some(Initiator {
                        display_name: owner.display_name.clone(),
                        id: owner.id.clone(),
                    }),
                    key: Some(u.key),
                    owner: Some(owner.clone()),
                    storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
                    upload_id: Some(u.upload_id),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_metadata_round_trips_with_awkward_values() {
        let mut acl = Acl::canned("public-read", "alice").unwrap();
        acl.grants.sort();
        let p = Pending {
            meta: ObjectMeta {
                user: [("k".to_string(), "tab\there\nnewline \\ back".to_string())].into(),
                ..Default::default()
            },
            acl: Some(acl.clone()),
        };
        let back = Pending::decode(&p.encode()).unwrap();
        assert_eq!(back.meta.user, p.meta.user);
        let mut got = back.acl.unwrap();
        got.grants.sort();
        assert_eq!(got, acl);
        assert!(Pending::decode("garbage line").is_none());
    }
}
