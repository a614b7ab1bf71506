//! The public error of the uplink library and the one place where gRPC
//! status codes from the satellite and the nodes become error kinds.

use thiserror::Error;

/// What went wrong, coarsely: match on this to decide what to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bucket does not exist.
    BucketNotFound,
    /// A bucket with that name already exists.
    BucketAlreadyExists,
    /// The bucket still holds objects.
    BucketNotEmpty,
    /// The bucket name is not acceptable.
    BucketNameInvalid,
    /// No committed object has that key.
    ObjectNotFound,
    /// The object key is not acceptable.
    ObjectKeyInvalid,
    /// The API key does not allow the operation.
    PermissionDenied,
    /// An argument (range, prefix, access text, option) is not valid.
    InvalidArgument,
    /// The satellite rate-limits this project; retry later.
    TooManyRequests,
    /// A project limit (storage, bandwidth, segments) is exhausted.
    LimitsExceeded,
    /// The satellite or too many nodes could not be reached; retry later.
    Unavailable,
    /// The operation was canceled.
    Canceled,
    /// The upload was already committed, aborted or failed.
    UploadDone,
    /// The multipart upload does not exist (completed, aborted, expired or
    /// a malformed upload id): S3 `NoSuchUpload`.
    UploadNotFound,
    /// A part named in a multipart commit was not uploaded, or is
    /// incomplete: S3 `InvalidPart`.
    InvalidPart,
    /// A bug or an unexpected answer; the message says more.
    Internal,
}

/// Error of every uplink library call. The message is meant for a person.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UplinkError {
    #[error("bucket not found: {0}")]
    BucketNotFound(String),
    #[error("bucket already exists: {0}")]
    BucketAlreadyExists(String),
    #[error("bucket not empty: {0}")]
    BucketNotEmpty(String),
    #[error("invalid bucket name: {0}")]
    BucketNameInvalid(String),
    #[error("object not found: {0}")]
    ObjectNotFound(String),
    #[error("invalid object key: {0}")]
    ObjectKeyInvalid(String),
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    #[error("limits exceeded: {0}")]
    LimitsExceeded(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("canceled: {0}")]
    Canceled(String),
    #[error("upload done: {0}")]
    UploadDone(String),
    #[error("multipart upload not found: {0}")]
    UploadNotFound(String),
    #[error("invalid part: {0}")]
    InvalidPart(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result alias of the uplink library.
pub type Result<T, E = UplinkError> = std::result::Result<T, E>;

impl UplinkError {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::BucketNotFound(_) => ErrorKind::BucketNotFound,
            Self::BucketAlreadyExists(_) => ErrorKind::BucketAlreadyExists,
            Self::BucketNotEmpty(_) => ErrorKind::BucketNotEmpty,
            Self::BucketNameInvalid(_) => ErrorKind::BucketNameInvalid,
            Self::ObjectNotFound(_) => ErrorKind::ObjectNotFound,
            Self::ObjectKeyInvalid(_) => ErrorKind::ObjectKeyInvalid,
            Self::PermissionDenied(_) => ErrorKind::PermissionDenied,
            Self::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Self::TooManyRequests(_) => ErrorKind::TooManyRequests,
            Self::LimitsExceeded(_) => ErrorKind::LimitsExceeded,
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Canceled(_) => ErrorKind::Canceled,
            Self::UploadDone(_) => ErrorKind::UploadDone,
            Self::UploadNotFound(_) => ErrorKind::UploadNotFound,
            Self::InvalidPart(_) => ErrorKind::InvalidPart,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The same error with `context` put before its message.
    pub(crate) fn with_context(self, context: &str) -> Self {
        let wrap = |m: String| format!("{context}: {m}");
        match self {
            Self::BucketNotFound(m) => Self::BucketNotFound(wrap(m)),
            Self::BucketAlreadyExists(m) => Self::BucketAlreadyExists(wrap(m)),
            Self::BucketNotEmpty(m) => Self::BucketNotEmpty(wrap(m)),
            Self::BucketNameInvalid(m) => Self::BucketNameInvalid(wrap(m)),
            Self::ObjectNotFound(m) => Self::ObjectNotFound(wrap(m)),
            Self::ObjectKeyInvalid(m) => Self::ObjectKeyInvalid(wrap(m)),
            Self::PermissionDenied(m) => Self::PermissionDenied(wrap(m)),
            Self::InvalidArgument(m) => Self::InvalidArgument(wrap(m)),
            Self::TooManyRequests(m) => Self::TooManyRequests(wrap(m)),
            Self::LimitsExceeded(m) => Self::LimitsExceeded(wrap(m)),
            Self::Unavailable(m) => Self::Unavailable(wrap(m)),
            Self::Canceled(m) => Self::Canceled(wrap(m)),
            Self::UploadDone(m) => Self::UploadDone(wrap(m)),
            Self::UploadNotFound(m) => Self::UploadNotFound(wrap(m)),
            Self::InvalidPart(m) => Self::InvalidPart(wrap(m)),
            Self::Internal(m) => Self::Internal(wrap(m)),
        }
    }

    /// Maps a satellite status, using `subject` to decide what a bare
    /// NOT_FOUND / FAILED_PRECONDITION refers to.
    pub(crate) fn from_status(status: &tonic::Status, subject: Subject) -> Self {
        use tonic::Code;
        let msg = status.message().to_string();
        // The connection itself failed (the status carries a transport
        // error): never the satellite's answer.
        if std::error::Error::source(status).is_some() {
            return Self::Unavailable(format!(
                "connection to the satellite failed: {msg} (a network run with --insecure \
                 needs --insecure / UPLINK_INSECURE on the client too, and the other way round)"
            ));
        }
        let lower = msg.to_ascii_lowercase();
        match status.code() {
            Code::NotFound if lower.contains("multipart upload") => Self::UploadNotFound(msg),
            Code::FailedPrecondition if lower.starts_with("invalid part") => Self::InvalidPart(msg),
            Code::NotFound => {
                let bucket = lower.contains("bucket");
                let object = lower.contains("object") || lower.contains("key");
                match (bucket, object, subject) {
                    (true, false, _) => Self::BucketNotFound(msg),
                    (false, true, _) => Self::ObjectNotFound(msg),
                    (_, _, Subject::Bucket) => Self::BucketNotFound(msg),
                    _ => Self::ObjectNotFound(msg),
                }
            }
            Code::AlreadyExists => Self::BucketAlreadyExists(msg),
            Code::FailedPrecondition if lower.contains("empty") || subject == Subject::Bucket => {
                Self::BucketNotEmpty(msg)
            }
            Code::InvalidArgument | Code::OutOfRange | Code::FailedPrecondition => {
                if lower.contains("bucket name") {
                    Self::BucketNameInvalid(msg)
                } else if lower.contains("object key") || lower.contains("encrypted key") {
                    Self::ObjectKeyInvalid(msg)
                } else {
                    Self::InvalidArgument(msg)
                }
            }
            Code::PermissionDenied | Code::Unauthenticated => Self::PermissionDenied(msg),
            Code::ResourceExhausted => {
                if lower.contains("rate") || lower.contains("too many") {
                    Self::TooManyRequests(msg)
                } else {
                    Self::LimitsExceeded(msg)
                }
            }
            Code::Unavailable | Code::DeadlineExceeded => Self::Unavailable(msg),
            Code::Cancelled => Self::Canceled(msg),
            _ => Self::Internal(format!("{:?}: {msg}", status.code())),
        }
    }
}

impl From<crate::encryption::EncryptionError> for UplinkError {
    /// Encryption failures: a missing key is a permission problem of the
    /// access, a failed authentication means wrong keys or tampered data.
    fn from(e: crate::encryption::EncryptionError) -> Self {
        use crate::encryption::EncryptionError as E;
        match e {
            E::NoKey { .. } => Self::PermissionDenied(e.to_string()),
            E::InvalidArgument(_) => Self::InvalidArgument(e.to_string()),
            E::Authentication { .. } | E::Malformed { .. } | E::InvalidLength { .. } => {
                Self::Internal(format!("object data is corrupt or was tampered with: {e}"))
            }
            _ => Self::Internal(e.to_string()),
        }
    }
}

/// What a satellite call is about, to interpret ambiguous status codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Subject {
    /// A bucket call: NOT_FOUND means the bucket, FAILED_PRECONDITION "not empty".
    Bucket,
    /// An object call: NOT_FOUND means the object unless the message says bucket.
    Object,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::{Code, Status};

    fn kind(code: Code, msg: &str, subject: Subject) -> ErrorKind {
        UplinkError::from_status(&Status::new(code, msg), subject).kind()
    }

    #[test]
    fn not_found_uses_message_then_subject() {
        assert_eq!(
            kind(Code::NotFound, "bucket \"b\" not found", Subject::Object),
            ErrorKind::BucketNotFound
        );
        assert_eq!(
            kind(Code::NotFound, "object not found", Subject::Bucket),
            ErrorKind::ObjectNotFound
        );
        assert_eq!(
            kind(Code::NotFound, "no such thing", Subject::Bucket),
            ErrorKind::BucketNotFound
        );
        assert_eq!(
            kind(Code::NotFound, "no such thing", Subject::Object),
            ErrorKind::ObjectNotFound
        );
    }

    #[test]
    fn codes_map_to_kinds() {
        let s = Subject::Object;
        assert_eq!(
            kind(Code::AlreadyExists, "exists", Subject::Bucket),
            ErrorKind::BucketAlreadyExists
        );
        assert_eq!(
            kind(Code::FailedPrecondition, "bucket not empty", s),
            ErrorKind::BucketNotEmpty
        );
        assert_eq!(
            kind(Code::FailedPrecondition, "x", Subject::Bucket),
            ErrorKind::BucketNotEmpty
        );
        assert_eq!(
            kind(Code::FailedPrecondition, "object is not pending", s),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(Code::InvalidArgument, "invalid bucket name \"A\"", s),
            ErrorKind::BucketNameInvalid
        );
        assert_eq!(
            kind(Code::InvalidArgument, "object key is empty", s),
            ErrorKind::ObjectKeyInvalid
        );
        assert_eq!(
            kind(Code::InvalidArgument, "bad range", s),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(Code::OutOfRange, "offset beyond end", s),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(Code::PermissionDenied, "no", s),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            kind(Code::Unauthenticated, "bad key", s),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            kind(Code::ResourceExhausted, "rate limit exceeded", s),
            ErrorKind::TooManyRequests
        );
        assert_eq!(
            kind(Code::ResourceExhausted, "storage limit exceeded", s),
            ErrorKind::LimitsExceeded
        );
        assert_eq!(kind(Code::Unavailable, "down", s), ErrorKind::Unavailable);
        assert_eq!(
            kind(Code::DeadlineExceeded, "slow", s),
            ErrorKind::Unavailable
        );
        assert_eq!(kind(Code::Cancelled, "bye", s), ErrorKind::Canceled);
        assert_eq!(kind(Code::Internal, "boom", s), ErrorKind::Internal);
        assert_eq!(
            kind(Code::NotFound, "multipart upload not found (aborted)", s),
            ErrorKind::UploadNotFound
        );
        assert_eq!(
            kind(Code::FailedPrecondition, "invalid part: part(s) [3]", s),
            ErrorKind::InvalidPart
        );
        assert_eq!(kind(Code::Unknown, "boom", s), ErrorKind::Internal);
    }

    #[test]
    fn encryption_errors_map_to_kinds() {
        use crate::encryption::EncryptionError as E;
        let no_key = UplinkError::from(E::NoKey { bucket: "b".into() });
        assert_eq!(no_key.kind(), ErrorKind::PermissionDenied);
        let auth = UplinkError::from(E::Authentication {
            what: "block 1".into(),
        });
        assert_eq!(auth.kind(), ErrorKind::Internal);
        assert!(auth.to_string().contains("tampered"), "{auth}");
        let arg = UplinkError::from(E::InvalidArgument("prefix".into()));
        assert_eq!(arg.kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn message_is_kept() {
        let e = UplinkError::from_status(
            &Status::not_found("bucket \"photos\" not found"),
            Subject::Bucket,
        );
        assert!(e.to_string().contains("photos"), "{e}");
    }
}
