//! Multipart uploads over the uplink's native multipart API: parts are
//! streamed straight to the nodes; Complete stitches them without copying.
//! The gateway keeps a record per upload in progress, with what Create was
//! given ([`pending`]).

mod complete;
mod create;
mod listing;
mod part;
mod pending;
mod target;

pub use complete::complete;
pub use create::{abort, create};
pub use listing::{list_parts, list_uploads};
pub use part::upload_part;
