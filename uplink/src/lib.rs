//! The Satstore client library: access grants, the project API (buckets,
//! objects, listing) and streaming uploads and downloads that erasure-code
//! data across storage nodes, with every byte read back verified against
//! hashes signed at upload.
//!
//! ```no_run
//! # async fn demo(satellite: &str, api_key: &str) -> Result<(), uplink::UplinkError> {
//! let access = uplink::request_access_with_passphrase(satellite, api_key, "passphrase").await?;
//! let grant = access.serialize(); // later: uplink::parse_access(&grant)?
//! let project = access.open_project().await?;
//! project.ensure_bucket("photos").await?;
//! let mut upload = project.upload_object("photos", "cat.jpg", &Default::default()).await?;
//! upload.write_all(b"meow").await?;
//! upload.commit().await?;
//! let mut download = project.download_object("photos", "cat.jpg", &Default::default()).await?;
//! let mut buf = Vec::new();
//! download.read_file(&mut buf).await?;
//! # Ok(()) }
//! ```
//!
//! Contract:
//! - The satellite and the nodes never see object keys (unless the access
//!   uses the "none" path cipher), content or metadata in the clear: keys
//!   are encrypted per '/' component, content per 64 KiB block with a
//!   random key per segment, metadata at commit. Reads verify everything.
//! - Errors are [`UplinkError`]; match on [`UplinkError::kind`].
//! - An upload contacts the satellite at [`Project::upload_object`]
//!   (BeginObject); writes cut the stream into segments of
//!   `UplinkConfig::segment_size` (default: the satellite's maximum). The
//!   last segment is stored inline when it fits the satellite's inline
//!   size; a 0-byte object has no segment. Nothing is visible before
//!   [`Upload::commit`]; dropping an uncommitted upload aborts it.
//! - Piece uploads run in parallel; a segment needs `success` stored pieces
//!   (slow pieces are cut after `long_tail_grace`).
//! - A download needs `k` good pieces per segment; a piece that fails or
//!   serves corrupt data is replaced by another at the same chunk.
//!
//! Modules, by layer (each imports only from its own layer or below; no
//! import cycles):
//! - foundations (pure, no I/O): [`error`] ([`UplinkError`], [`ErrorKind`]
//!   and the status mapping); [`encryption`] (keys, key derivation, path /
//!   content / metadata encryption); [`config`] (the [`UplinkConfig`]
//!   knobs); [`bucket`], [`object`] (info types, options, name checks);
//!   [`share`] (caveats of restricted shares: [`Permission`],
//!   [`SharePrefix`]); private `codec` (key / metadata codecs over the
//!   encryption store), `convert`, `ranges` (range arithmetic), `orders`
//!   (order schedule), `decrypt` (download decryption stage).
//! - transport: private `dial` (node connections), `metainfo` (satellite
//!   client), `piece_upload`, `piece_download` (one piece on one node).
//! - session: private `session`, what transfers need from a project
//!   (satellite client, dialer, config, encryption keys).
//! - transfers, on a session: [`upload`] ([`Upload`]) and
//!   [`multipart`]'s [`PartUpload`], both wrapping one writer core
//!   (`stream_writer` -> `segment_writer` -> `segment_upload` ->
//!   `piece_upload`); [`download`] ([`Download`] -> `segment_download` ->
//!   `piece_download`).
//! - facade: [`access`] (access grants, their text form, passphrase access
//!   requests, sharing); [`project`] ([`Project`], the API entry point,
//!   which opens the session and starts transfers), with more `impl
//!   Project` blocks in private `list` (object listings) and [`multipart`]
//!   (multipart uploads: [`Project::begin_upload`],
//!   [`Project::commit_upload`], listing).

pub mod access;
pub mod bucket;
mod codec;
pub mod config;
mod convert;
mod decrypt;
mod dial;
pub mod download;
pub mod encryption;
pub mod error;
mod list;
mod metainfo;
pub mod multipart;
pub mod object;
mod orders;
mod piece_download;
mod piece_upload;
pub mod project;
mod ranges;
mod segment_download;
mod segment_upload;
mod segment_writer;
mod session;
pub mod share;
mod stream_writer;
pub mod upload;

pub use access::{
    Access, EncryptionKey, Uplink, config_request_access_with_passphrase, parse_access,
    request_access_with_passphrase,
};
pub use bucket::{Bucket, ListBucketsOptions};
pub use config::UplinkConfig;
pub use download::Download;
pub use error::{ErrorKind, Result, UplinkError};
pub use multipart::{CommitUploadOptions, ListUploadsOptions, PartInfo, PartUpload, UploadInfo};
pub use object::{DownloadOptions, ListObjectsOptions, Object, SystemMetadata, UploadOptions};
pub use project::Project;
pub use share::{Permission, SharePrefix};
pub use upload::Upload;
#[cfg(test)]
mod test_node;
#[cfg(test)]
mod transfer_tests;
