//! CompleteMultipartUpload: the part list checked against what was
//! uploaded ([`stitch`]), then the object committed from those parts
//! without copying them, with the metadata and ACL given at creation.

use md5::{Digest, Md5};
use s3s::dto::*;
use s3s::{S3ErrorCode, S3Request, S3Response, S3Result};
use uplink::{CommitUploadOptions, PartInfo, Project};

use super::pending::Pending;
use super::target::no_such_upload;
use crate::acl::Perm;
use crate::meta;
use crate::ops::acl::{RequestedAcl, apply_object_acl, drop_object_acl, owner_scope};
use crate::s3error::{s3err, upload_error};
use crate::state::Gateway;

/// Every uploaded part of an upload, ascending.
async fn all_parts(
    project: &Project,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> S3Result<Vec<PartInfo>> {
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

/// The object a Complete request stitches from the uploaded parts.
#[derive(Debug, PartialEq, Eq)]
pub struct Stitched {
    /// The part numbers, ascending.
    pub parts: Vec<u32>,
    /// S3's multipart ETag: the MD5 of the parts' MD5s, `-`, their count.
    pub etag: String,
}

/// Checks the `requested` part list against the `uploaded` parts: at least
/// one, ascending, each uploaded with the ETag given, all but the last at
/// least `min_part_size` bytes.
pub fn stitch(
    requested: &[CompletedPart],
    uploaded: &[PartInfo],
    min_part_size: u64,
) -> S3Result<Stitched> {
    if requested.is_empty() {
        return Err(s3err(
            S3ErrorCode::MalformedXML,
            "You must specify at least one part",
        ));
    }
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
        if !last && found.size < min_part_size {
            return Err(s3err(
                S3ErrorCode::EntityTooSmall,
                format!(
                    "Your proposed upload is smaller than the minimum allowed size: part {number} has {} bytes, parts but the last need {}",
                    found.size, min_part_size
                ),
            ));
        }
        let raw = satstore_common::hex::decode(&stored).unwrap_or_default();
        md5s.update(&raw);
        numbers.push(number as u32);
    }
    Ok(Stitched {
        etag: format!("{}-{}", meta::hex_md5(&md5s.finalize()), numbers.len()),
        parts: numbers,
    })
}

/// CompleteMultipartUpload.
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
    let Stitched { parts, etag } = stitch(&requested, &uploaded, gw.inner.min_part_size)?;
    // The ACL asked for at creation is applied by an owner, checked before
    // the commit.
    let acl = match pending.acl {
        Some(acl) => {
            let (session, scope) = owner_scope(
                gw,
                &actor,
                &i.bucket,
                "complete an upload begun with an ACL",
            )
            .await?;
            Some(RequestedAcl {
                acl,
                session,
                scope,
            })
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
                parts,
            },
        )
        .await
        .map_err(upload_error)?;
    gw.store().delete_upload(&i.upload_id).await?;
    apply_object_acl(gw, &i.bucket, &i.key, acl).await?;
    Ok(S3Response::new(CompleteMultipartUploadOutput {
        bucket: Some(i.bucket.clone()),
        key: Some(i.key.clone()),
        e_tag: Some(ETag::Strong(etag)),
        location: Some(format!("/{}/{}", i.bucket, i.key)),
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    const MD5_A: &str = "0cc175b9c0f1b6a831c399e269772661";
    const MD5_B: &str = "92eb5ffee6ae2fec3ad71c777531578f";

    fn uploaded(number: u32, size: u64, etag: &str) -> PartInfo {
        PartInfo {
            part_number: number,
            size,
            modified: SystemTime::UNIX_EPOCH,
            etag: etag.as_bytes().to_vec(),
        }
    }

    fn asked(number: i32, etag: Option<&str>) -> CompletedPart {
        CompletedPart {
            part_number: Some(number),
            e_tag: etag.map(|e| ETag::Strong(e.to_string())),
            ..Default::default()
        }
    }

    fn code(r: S3Result<Stitched>) -> S3ErrorCode {
        r.unwrap_err().code().clone()
    }

    #[test]
    fn parts_stitch_with_the_s3_multipart_etag() {
        let up = [uploaded(1, 10, MD5_A), uploaded(2, 3, MD5_B)];
        let s = stitch(&[asked(1, Some(MD5_A)), asked(2, None)], &up, 10).unwrap();
        assert_eq!(s.parts, vec![1, 2]);
        let mut md5s = Md5::new();
        md5s.update(satstore_common::hex::decode(MD5_A).unwrap());
        md5s.update(satstore_common::hex::decode(MD5_B).unwrap());
        assert_eq!(s.etag, format!("{}-2", meta::hex_md5(&md5s.finalize())));
        // A subset of the uploaded parts is fine, and quoted ETags match.
        let s = stitch(&[asked(2, Some(&format!("\"{MD5_B}\"")))], &up, 10).unwrap();
        assert_eq!(s.parts, vec![2]);
        assert!(s.etag.ends_with("-1"));
    }

    #[test]
    fn bad_part_lists_get_the_s3_codes() {
        let up = [uploaded(1, 10, MD5_A), uploaded(2, 3, MD5_B)];
        assert_eq!(code(stitch(&[], &up, 10)), S3ErrorCode::MalformedXML);
        assert_eq!(
            code(stitch(&[asked(2, None), asked(1, None)], &up, 1)),
            S3ErrorCode::InvalidPartOrder
        );
        assert_eq!(
            code(stitch(&[asked(1, None), asked(1, None)], &up, 1)),
            S3ErrorCode::InvalidPartOrder
        );
        assert_eq!(
            code(stitch(&[asked(3, None)], &up, 1)),
            S3ErrorCode::InvalidPart
        );
        assert_eq!(
            code(stitch(&[asked(1, Some(MD5_B))], &up, 1)),
            S3ErrorCode::InvalidPart
        );
        // Part 2 is small but last: fine; part 1 too small but not last.
        assert!(stitch(&[asked(1, None), asked(2, None)], &up, 10).is_ok());
        assert_eq!(
            code(stitch(&[asked(1, None), asked(2, None)], &up, 11)),
            S3ErrorCode::EntityTooSmall
        );
    }
}
