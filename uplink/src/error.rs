//! The public error of the uplink library and the one place where gRPC
//! statuses from the satellite and the nodes become error kinds: by the
//! [`ErrorReason`] a status carries in its details, or by its gRPC code
//! when it carries none (an older peer, a failed connection). Message text
//! is for people and never decides a kind.

use satstore_proto::common::ErrorReason;
use thiserror::Error;

/// What went wrong, coarsely: match on this to decide what to do.
///
/// Every kind has a stable numeric [`code`](Self::code). Kinds that Storj's
/// uplink-c and uplink-python also have use the same numbers (`0x02` to
/// `0x22`); the kinds only Satstore has are numbered from `0x100` up.
/// Codes are never renumbered or reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bucket does not exist (`0x13`).
    BucketNotFound,
    /// A bucket with that name already exists (`0x11`).
    BucketAlreadyExists,
    /// The bucket still holds objects or uploads in progress (`0x12`).
    BucketNotEmpty,
    /// The bucket name is not acceptable (`0x10`).
    BucketNameInvalid,
    /// No committed object has that key (`0x21`).
    ObjectNotFound,
    /// The object key is not acceptable (`0x20`).
    ObjectKeyInvalid,
    /// The API key is not valid or does not allow the operation (`0x09`).
    PermissionDenied,
    /// An argument (range, prefix, access text, option) is not valid
    /// (`0x100`).
    InvalidArgument,
    /// Too many requests; retry later (`0x05`).
    TooManyRequests,
    /// A limit is exhausted: a project's storage, bandwidth or segments, or
    /// the segments one object may have (`0x101`).
    LimitsExceeded,
    /// The satellite or too many nodes could not be reached; retry later
    /// (`0x102`).
    Unavailable,
    /// The operation was canceled (`0x03`).
    Canceled,
    /// The upload was already committed, aborted or failed (`0x22`).
    UploadDone,
    /// The upload does not exist: a multipart upload completed, aborted,
    /// expired or named by a malformed id, or a plain upload aborted
    /// meanwhile: S3 `NoSuchUpload` (`0x103`).
    UploadNotFound,
    /// A part named in a multipart commit was not uploaded, or is
    /// incomplete: S3 `InvalidPart` (`0x104`).
    InvalidPart,
    /// A bug or an unexpected answer; the message says more (`0x02`).
    Internal,
}

impl ErrorKind {
    /// Every kind, in code order.
    pub const ALL: [ErrorKind; 16] = [
        Self::Internal,
        Self::Canceled,
        Self::TooManyRequests,
        Self::PermissionDenied,
        Self::BucketNameInvalid,
        Self::BucketAlreadyExists,
        Self::BucketNotEmpty,
        Self::BucketNotFound,
        Self::ObjectKeyInvalid,
        Self::ObjectNotFound,
        Self::UploadDone,
        Self::InvalidArgument,
        Self::LimitsExceeded,
        Self::Unavailable,
        Self::UploadNotFound,
        Self::InvalidPart,
    ];

    /// The stable numeric code of this kind: Storj's uplink-c /
    /// uplink-python `ERROR_*` value where Storj has the kind, `0x100` and
    /// up for Satstore's own. (`0x04`, `0x06` to `0x08` and `0x30` /
    /// `0x31` are Storj codes of kinds Satstore does not have.)
    pub fn code(self) -> u16 {
        match self {
            Self::Internal => 0x02,
            Self::Canceled => 0x03,
            Self::TooManyRequests => 0x05,
            Self::PermissionDenied => 0x09,
            Self::BucketNameInvalid => 0x10,
            Self::BucketAlreadyExists => 0x11,
            Self::BucketNotEmpty => 0x12,
            Self::BucketNotFound => 0x13,
            Self::ObjectKeyInvalid => 0x20,
            Self::ObjectNotFound => 0x21,
            Self::UploadDone => 0x22,
            Self::InvalidArgument => 0x100,
            Self::LimitsExceeded => 0x101,
            Self::Unavailable => 0x102,
            Self::UploadNotFound => 0x103,
            Self::InvalidPart => 0x104,
        }
    }

    /// The kind with this [`code`](Self::code), if any.
    pub fn from_code(code: u16) -> Option<ErrorKind> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Error of every uplink library call. The message is meant for a person;
/// [`kind`](Self::kind) is for code.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UplinkError {
    /// [`ErrorKind::BucketNotFound`].
    #[error("bucket not found: {0}")]
    BucketNotFound(String),
    /// [`ErrorKind::BucketAlreadyExists`].
    #[error("bucket already exists: {0}")]
    BucketAlreadyExists(String),
    /// [`ErrorKind::BucketNotEmpty`].
    #[error("bucket not empty: {0}")]
    BucketNotEmpty(String),
    /// [`ErrorKind::BucketNameInvalid`].
    #[error("invalid bucket name: {0}")]
    BucketNameInvalid(String),
    /// [`ErrorKind::ObjectNotFound`].
    #[error("object not found: {0}")]
    ObjectNotFound(String),
    /// [`ErrorKind::ObjectKeyInvalid`].
    #[error("invalid object key: {0}")]
    ObjectKeyInvalid(String),
    /// [`ErrorKind::PermissionDenied`].
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// [`ErrorKind::InvalidArgument`].
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// [`ErrorKind::TooManyRequests`].
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// [`ErrorKind::LimitsExceeded`].
    #[error("limits exceeded: {0}")]
    LimitsExceeded(String),
    /// [`ErrorKind::Unavailable`].
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// [`ErrorKind::Canceled`].
    #[error("canceled: {0}")]
    Canceled(String),
    /// [`ErrorKind::UploadDone`].
    #[error("upload done: {0}")]
    UploadDone(String),
    /// [`ErrorKind::UploadNotFound`].
    #[error("upload not found: {0}")]
    UploadNotFound(String),
    /// [`ErrorKind::InvalidPart`].
    #[error("invalid part: {0}")]
    InvalidPart(String),
    /// [`ErrorKind::Internal`].
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

    /// Maps a satellite status: by the [`ErrorReason`] in its details, else
    /// by its gRPC code, with `subject` deciding what a bare NOT_FOUND /
    /// FAILED_PRECONDITION refers to. A connection that failed (the status
    /// carries a transport error) is `Unavailable` with the `--insecure`
    /// hint, never the satellite's answer.
    pub(crate) fn from_status(status: &tonic::Status, subject: Subject) -> Self {
        let msg = status.message().to_string();
        if std::error::Error::source(status).is_some() {
            return Self::Unavailable(format!(
                "connection to the satellite failed: {msg} (a network run with --insecure \
                 needs --insecure / UPLINK_INSECURE on the client too, and the other way round)"
            ));
        }
        match ErrorReason::of(status) {
            Some(reason) => Self::from_reason(reason, subject, msg),
            None => Self::from_grpc_code(status.code(), subject, msg),
        }
    }

    /// The error for a reason the satellite named. A general reason means
    /// "none of the specific ones": a general FAILED_PRECONDITION on a
    /// bucket call is not "bucket not empty", a general ALREADY_EXISTS not
    /// "bucket exists". Only NOT_FOUND, which has no general kind, goes by
    /// the call's subject.
    fn from_reason(reason: ErrorReason, subject: Subject, msg: String) -> Self {
        use ErrorReason as R;
        match reason {
            R::BucketNameInvalid => Self::BucketNameInvalid(msg),
            R::BucketAlreadyExists => Self::BucketAlreadyExists(msg),
            R::BucketNotEmpty => Self::BucketNotEmpty(msg),
            R::BucketNotFound => Self::BucketNotFound(msg),
            R::ObjectKeyInvalid => Self::ObjectKeyInvalid(msg),
            R::ObjectNotFound => Self::ObjectNotFound(msg),
            R::UploadDone => Self::UploadDone(msg),
            R::UploadNotFound => Self::UploadNotFound(msg),
            R::InvalidPart => Self::InvalidPart(msg),
            R::TooManySegments => Self::LimitsExceeded(msg),
            R::RateLimited => Self::TooManyRequests(msg),
            R::NotEnoughNodes => Self::Unavailable(msg),
            R::InvalidArgument | R::OutOfRange | R::FailedPrecondition | R::AlreadyExists => {
                Self::InvalidArgument(msg)
            }
            R::Unauthenticated | R::PermissionDenied => Self::PermissionDenied(msg),
            R::Internal | R::Unimplemented => Self::Internal(format!("{:?}: {msg}", reason.code())),
            R::NotFound | R::Unspecified => Self::from_grpc_code(reason.code(), subject, msg),
        }
    }

    /// The error for a status without a reason: by its code alone, and the
    /// call's subject for NOT_FOUND and FAILED_PRECONDITION.
    fn from_grpc_code(code: tonic::Code, subject: Subject, msg: String) -> Self {
        use tonic::Code;
        match (code, subject) {
            (Code::NotFound, Subject::Bucket) => Self::BucketNotFound(msg),
            (Code::NotFound, Subject::Object) => Self::ObjectNotFound(msg),
            (Code::AlreadyExists, _) => Self::BucketAlreadyExists(msg),
            (Code::FailedPrecondition, Subject::Bucket) => Self::BucketNotEmpty(msg),
            (Code::InvalidArgument | Code::OutOfRange | Code::FailedPrecondition, _) => {
                Self::InvalidArgument(msg)
            }
            (Code::PermissionDenied | Code::Unauthenticated, _) => Self::PermissionDenied(msg),
            (Code::ResourceExhausted, _) => Self::TooManyRequests(msg),
            (Code::Unavailable | Code::DeadlineExceeded, _) => Self::Unavailable(msg),
            (Code::Cancelled, _) => Self::Canceled(msg),
            (code, _) => Self::Internal(format!("{code:?}: {msg}")),
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

/// What a satellite call is about, to interpret a status without a reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Subject {
    /// A bucket call: NOT_FOUND means the bucket, FAILED_PRECONDITION "not empty".
    Bucket,
    /// An object call: NOT_FOUND means the object.
    Object,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::{Code, Status};

    /// The pinned codes: changing one breaks every binding that stored it.
    const CODES: [(ErrorKind, u16); 16] = [
        (ErrorKind::Internal, 0x02),
        (ErrorKind::Canceled, 0x03),
        (ErrorKind::TooManyRequests, 0x05),
        (ErrorKind::PermissionDenied, 0x09),
        (ErrorKind::BucketNameInvalid, 0x10),
        (ErrorKind::BucketAlreadyExists, 0x11),
        (ErrorKind::BucketNotEmpty, 0x12),
        (ErrorKind::BucketNotFound, 0x13),
        (ErrorKind::ObjectKeyInvalid, 0x20),
        (ErrorKind::ObjectNotFound, 0x21),
        (ErrorKind::UploadDone, 0x22),
        (ErrorKind::InvalidArgument, 0x100),
        (ErrorKind::LimitsExceeded, 0x101),
        (ErrorKind::Unavailable, 0x102),
        (ErrorKind::UploadNotFound, 0x103),
        (ErrorKind::InvalidPart, 0x104),
    ];

    #[test]
    fn every_kind_has_its_pinned_code() {
        for (kind, code) in CODES {
            assert_eq!(kind.code(), code, "{kind:?}");
            assert_eq!(ErrorKind::from_code(code), Some(kind), "{code:#x}");
        }
        assert_eq!(ErrorKind::ALL.len(), CODES.len());
        for kind in ErrorKind::ALL {
            assert!(CODES.iter().any(|(k, _)| *k == kind), "{kind:?} not pinned");
        }
        // No other code names a kind.
        let named = (0..=u16::MAX)
            .filter(|c| ErrorKind::from_code(*c).is_some())
            .count();
        assert_eq!(named, CODES.len());
    }

    fn by_code(code: Code, msg: &str, subject: Subject) -> ErrorKind {
        UplinkError::from_status(&Status::new(code, msg), subject).kind()
    }

    fn by_reason(reason: ErrorReason, msg: &str, subject: Subject) -> ErrorKind {
        UplinkError::from_status(&reason.status(msg), subject).kind()
    }

    #[test]
    fn reasons_map_to_kinds() {
        use ErrorReason as R;
        let cases = [
            (R::BucketNameInvalid, ErrorKind::BucketNameInvalid),
            (R::BucketAlreadyExists, ErrorKind::BucketAlreadyExists),
            (R::BucketNotEmpty, ErrorKind::BucketNotEmpty),
            (R::BucketNotFound, ErrorKind::BucketNotFound),
            (R::ObjectKeyInvalid, ErrorKind::ObjectKeyInvalid),
            (R::ObjectNotFound, ErrorKind::ObjectNotFound),
            (R::UploadDone, ErrorKind::UploadDone),
            (R::UploadNotFound, ErrorKind::UploadNotFound),
            (R::InvalidPart, ErrorKind::InvalidPart),
            (R::TooManySegments, ErrorKind::LimitsExceeded),
            (R::RateLimited, ErrorKind::TooManyRequests),
            (R::NotEnoughNodes, ErrorKind::Unavailable),
            (R::Internal, ErrorKind::Internal),
            (R::InvalidArgument, ErrorKind::InvalidArgument),
            (R::FailedPrecondition, ErrorKind::InvalidArgument),
            (R::OutOfRange, ErrorKind::InvalidArgument),
            (R::Unauthenticated, ErrorKind::PermissionDenied),
            (R::PermissionDenied, ErrorKind::PermissionDenied),
            (R::AlreadyExists, ErrorKind::InvalidArgument),
            (R::Unimplemented, ErrorKind::Internal),
        ];
        for (reason, kind) in cases {
            for subject in [Subject::Bucket, Subject::Object] {
                assert_eq!(by_reason(reason, "x", subject), kind, "{reason:?}");
            }
        }
        // The general NOT_FOUND says no more than the code.
        assert_eq!(
            by_reason(R::NotFound, "x", Subject::Bucket),
            ErrorKind::BucketNotFound
        );
        assert_eq!(
            by_reason(R::NotFound, "x", Subject::Object),
            ErrorKind::ObjectNotFound
        );
    }

    #[test]
    fn the_reason_wins_over_a_misleading_message_and_subject() {
        // Each message names another kind than the reason; the subject too.
        let cases = [
            (
                ErrorReason::ObjectNotFound,
                "bucket \"photos\" not found",
                Subject::Bucket,
                ErrorKind::ObjectNotFound,
            ),
            (
                ErrorReason::BucketNotFound,
                "object key not found",
                Subject::Object,
                ErrorKind::BucketNotFound,
            ),
            (
                ErrorReason::UploadDone,
                "invalid part: bucket not empty",
                Subject::Bucket,
                ErrorKind::UploadDone,
            ),
            (
                ErrorReason::TooManySegments,
                "rate limit: too many requests",
                Subject::Object,
                ErrorKind::LimitsExceeded,
            ),
            (
                ErrorReason::InvalidArgument,
                "invalid bucket name \"A\"",
                Subject::Object,
                ErrorKind::InvalidArgument,
            ),
        ];
        for (reason, msg, subject, kind) in cases {
            let e = UplinkError::from_status(&reason.status(msg), subject);
            assert_eq!(e.kind(), kind, "{reason:?} {msg:?}");
            assert!(e.to_string().contains(msg), "message kept: {e}");
        }
    }

    #[test]
    fn without_a_reason_the_code_decides_never_the_message() {
        let (b, o) = (Subject::Bucket, Subject::Object);
        let cases = [
            (
                Code::NotFound,
                "bucket \"b\" not found",
                o,
                ErrorKind::ObjectNotFound,
            ),
            (
                Code::NotFound,
                "object not found",
                b,
                ErrorKind::BucketNotFound,
            ),
            (
                Code::NotFound,
                "multipart upload not found",
                o,
                ErrorKind::ObjectNotFound,
            ),
            (
                Code::AlreadyExists,
                "exists",
                b,
                ErrorKind::BucketAlreadyExists,
            ),
            (Code::FailedPrecondition, "x", b, ErrorKind::BucketNotEmpty),
            (
                Code::FailedPrecondition,
                "bucket not empty",
                o,
                ErrorKind::InvalidArgument,
            ),
            (
                Code::FailedPrecondition,
                "invalid part: [3]",
                o,
                ErrorKind::InvalidArgument,
            ),
            (
                Code::InvalidArgument,
                "invalid bucket name",
                o,
                ErrorKind::InvalidArgument,
            ),
            (
                Code::InvalidArgument,
                "object key is empty",
                o,
                ErrorKind::InvalidArgument,
            ),
            (
                Code::OutOfRange,
                "offset beyond end",
                o,
                ErrorKind::InvalidArgument,
            ),
            (Code::PermissionDenied, "no", o, ErrorKind::PermissionDenied),
            (
                Code::Unauthenticated,
                "bad key",
                o,
                ErrorKind::PermissionDenied,
            ),
            (
                Code::ResourceExhausted,
                "storage limit exceeded",
                o,
                ErrorKind::TooManyRequests,
            ),
            (Code::Unavailable, "down", o, ErrorKind::Unavailable),
            (Code::DeadlineExceeded, "slow", o, ErrorKind::Unavailable),
            (Code::Cancelled, "bye", o, ErrorKind::Canceled),
            (Code::Internal, "boom", o, ErrorKind::Internal),
            (Code::Unknown, "boom", o, ErrorKind::Internal),
        ];
        for (code, msg, subject, kind) in cases {
            assert_eq!(by_code(code, msg, subject), kind, "{code:?} {msg:?}");
        }
    }

    #[test]
    fn a_failed_connection_is_unavailable_with_the_insecure_hint() {
        // Even with a reason-like code and no detail: the transport error
        // decides.
        let mut s = Status::new(Code::NotFound, "error trying to connect");
        s.set_source(std::sync::Arc::new(std::io::Error::other("reset")));
        let e = UplinkError::from_status(&s, Subject::Bucket);
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert!(e.to_string().contains("--insecure"), "{e}");
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
            &ErrorReason::BucketNotFound.status("bucket \"photos\" not found"),
            Subject::Bucket,
        );
        assert!(e.to_string().contains("photos"), "{e}");
    }
}
