//! Object information, the options of the object calls, and the object
//! key check of every call that takes one.

use std::collections::BTreeMap;
use std::time::SystemTime;

use satstore_proto::metainfo::{ObjectInfo, ObjectListItem};

use crate::codec;
use crate::convert::time_from_unix;
use crate::encryption::ObjectMetadata;
use crate::error::{Result, UplinkError};

/// System-maintained facts about an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemMetadata {
    /// When the object was committed (or the upload began, for an upload in progress).
    pub created: SystemTime,
    /// When the object expires, if ever.
    pub expires: Option<SystemTime>,
    /// Plaintext size in bytes.
    pub content_length: i64,
}

/// An object (or, in non-recursive listings, a prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// The full object key (for prefixes: ending in '/').
    pub key: String,
    /// True for a collapsed prefix in a non-recursive listing.
    pub is_prefix: bool,
    /// Size, times.
    pub system: SystemMetadata,
    /// User metadata set with [`crate::Upload::set_custom_metadata`]
    /// ("content-type" included when set).
    pub custom: BTreeMap<String, String>,
}

impl Object {
    /// An object from the satellite's info and its decrypted metadata (if
    /// any): sizes and custom metadata come from the authenticated
    /// metadata when present.
    pub(crate) fn from_pb(key: String, o: &ObjectInfo, meta: Option<&ObjectMetadata>) -> Self {
        Object {
            key,
            is_prefix: false,
            system: SystemMetadata {
                created: time_from_unix(o.created_at_unix).unwrap_or(std::time::UNIX_EPOCH),
                expires: time_from_unix(o.expires_at_unix),
                content_length: meta.map_or(o.plain_size, |m| m.plain_size as i64),
            },
            custom: meta.map(codec::custom_of).unwrap_or_default(),
        }
    }

    /// A listing item (see [`Object::from_pb`]).
    pub(crate) fn from_list_item(
        key: String,
        o: &ObjectListItem,
        meta: Option<&ObjectMetadata>,
    ) -> Self {
        Object {
            key,
            is_prefix: o.is_prefix,
            system: SystemMetadata {
                created: time_from_unix(o.created_at_unix).unwrap_or(std::time::UNIX_EPOCH),
                expires: time_from_unix(o.expires_at_unix),
                content_length: meta.map_or(o.plain_size, |m| m.plain_size as i64),
            },
            custom: meta.map(codec::custom_of).unwrap_or_default(),
        }
    }
}

/// Options of [`crate::Project::list_objects`].
#[derive(Clone, Debug, Default)]
pub struct ListObjectsOptions {
    /// Only keys under this prefix; empty or ending in '/'.
    pub prefix: String,
    /// Start after this key (relative to `prefix`).
    pub cursor: String,
    /// List every key under the prefix instead of collapsing at '/'.
    pub recursive: bool,
    /// Fill in system metadata (sizes, times).
    pub system: bool,
    /// Fill in custom metadata (decrypted; needs the object's key).
    pub custom: bool,
}

/// Options of [`crate::Project::upload_object`].
#[derive(Clone, Debug, Default)]
pub struct UploadOptions {
    /// When the object (and its pieces) may be deleted; `None` = never.
    pub expires: Option<SystemTime>,
}

/// Options of [`crate::Project::download_object`].
#[derive(Clone, Copy, Debug)]
pub struct DownloadOptions {
    /// First byte to read; negative = the last `-offset` bytes.
    pub offset: i64,
    /// Bytes to read; negative = to the end.
    pub length: i64,
}

impl Default for DownloadOptions {
    /// The whole object.
    fn default() -> Self {
        DownloadOptions {
            offset: 0,
            length: -1,
        }
    }
}

/// Rejects an empty object key.
pub(crate) fn check_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(UplinkError::ObjectKeyInvalid("object key is empty".into()));
    }
    Ok(())
}
