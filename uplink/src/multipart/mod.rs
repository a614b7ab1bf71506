//! Multipart uploads (S3 CreateMultipartUpload / UploadPart /
//! CompleteMultipartUpload / AbortMultipartUpload / ListParts /
//! ListMultipartUploads), native on the satellite: an upload is a pending
//! object; each part's segments are stored at positions `{part, index}`
//! by a [`PartUpload`] (`part_upload`; the same writer core as
//! [`crate::Upload`]); committing makes the object from the chosen parts
//! without copying.
//!
//! Encryption: parts use the object's path-derived key like normal
//! uploads; a part's ETag is sealed (AES-256-GCM, random nonce) under a key
//! derived from it; keys of listed uploads are decrypted here.
//!
//! The upload id is the base58 text of the satellite's 16-byte id: safe in
//! URLs and XML, valid until the upload is committed, aborted or expires
//! (satellite `multipart_expiration`, 7 days by default).
//!
//! Modules, from the bottom: `etag` (ETag sealing, a leaf), `types` (the
//! public types and shared wire helpers), `part_upload` (the [`PartUpload`]
//! transfer), then `lifecycle` and `listing` (the `impl Project` methods:
//! begin, upload part, commit, abort; list parts and uploads). This file
//! only re-exports.

mod etag;
mod lifecycle;
mod listing;
mod part_upload;
mod types;

pub use part_upload::PartUpload;
pub use types::{CommitUploadOptions, ListUploadsOptions, MAX_PART_NUMBER, PartInfo, UploadInfo};
