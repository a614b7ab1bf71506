//! S3 errors as types. Codes are s3s's [`S3ErrorCode`](s3s::S3ErrorCode),
//! plus [`ExtraCode`] for the few S3 codes it lacks; [`codes`] holds S3's
//! standard wording per code, [`from_uplink`] the one mapping of uplink
//! failures onto S3 errors, and [`document`] the `<Error>` body clients
//! read, parsed and rendered (XML-escaped) in one place.

pub mod codes;
pub mod document;
pub mod from_uplink;

pub use codes::{ExtraCode, s3err, standard_message};
pub use document::ErrorDocument;
pub use from_uplink::{uplink_error, upload_error};
