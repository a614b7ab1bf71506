//! `SatelliteError`, the one error type of the satellite's domain modules,
//! and its mapping to gRPC statuses (the only place that decides what
//! clients see). Every variant names an [`ErrorReason`]; the status carries
//! the reason's gRPC code, the message, and the reason in its details
//! (`grpc-status-details-bin`), so clients never parse the message.

use satstore_common::IdentityError;
use satstore_proto::common::ErrorReason;
use thiserror::Error;

use crate::store::StoreError;

/// Why a satellite operation failed; each variant says what the caller can
/// do and names the [`ErrorReason`] clients receive ([`Self::reason`]).
#[derive(Debug, Error)]
pub enum SatelliteError {
    /// The request is malformed; fix it and retry (`INVALID_ARGUMENT`).
    #[error("{0}")]
    InvalidArgument(String),
    /// The bucket name breaks the naming rules (`BUCKET_NAME_INVALID`).
    #[error("{0}")]
    BucketNameInvalid(String),
    /// The encrypted object key is empty or too long (`OBJECT_KEY_INVALID`).
    #[error("{0}")]
    ObjectKeyInvalid(String),
    /// Something other than a bucket, object or upload does not exist
    /// (`NOT_FOUND`).
    #[error("{0}")]
    NotFound(String),
    /// The bucket does not exist (`BUCKET_NOT_FOUND`).
    #[error("{0}")]
    BucketNotFound(String),
    /// No committed object has that key, or the version was replaced
    /// (`OBJECT_NOT_FOUND`).
    #[error("{0}")]
    ObjectNotFound(String),
    /// The upload (its pending object) does not exist: aborted, expired,
    /// completed, or an unknown upload id (`UPLOAD_NOT_FOUND`).
    #[error("{0}")]
    UploadNotFound(String),
    /// Something other than a bucket exists already (`ALREADY_EXISTS`).
    #[error("{0}")]
    AlreadyExists(String),
    /// The project has a bucket of that name (`BUCKET_ALREADY_EXISTS`).
    #[error("{0}")]
    BucketAlreadyExists(String),
    /// The API key (or a check-in) is missing, unknown, forged or revoked
    /// (`UNAUTHENTICATED`).
    #[error("{0}")]
    Unauthenticated(String),
    /// The API key does not allow this action or path (`PERMISSION_DENIED`).
    #[error("{0}")]
    PermissionDenied(String),
    /// The state does not allow the operation, e.g. it changed meanwhile
    /// (`FAILED_PRECONDITION`).
    #[error("{0}")]
    FailedPrecondition(String),
    /// The bucket holds objects or uploads in progress (`BUCKET_NOT_EMPTY`).
    #[error("{0}")]
    BucketNotEmpty(String),
    /// The upload was committed: no more segments or commits (`UPLOAD_DONE`).
    #[error("{0}")]
    UploadDone(String),
    /// A part named in a multipart commit is missing or incomplete
    /// (`INVALID_PART`).
    #[error("{0}")]
    InvalidPart(String),
    /// A byte range lies outside the object (`OUT_OF_RANGE`).
    #[error("{0}")]
    OutOfRange(String),
    /// Not enough storage nodes are online; retry later (`NOT_ENOUGH_NODES`).
    #[error("{0}")]
    NotEnoughNodes(String),
    /// The caller is over a rate limit; slow down (`RATE_LIMITED`).
    #[error("{0}")]
    RateLimited(String),
    /// The operation is not implemented yet (`UNIMPLEMENTED`).
    #[error("{0}")]
    Unimplemented(String),
    /// The configuration is invalid; fix the config file or flags.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The database failed, or refused a write past a limit
    /// (`StoreError::TooManySegments`: `TOO_MANY_SEGMENTS`).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The identity could not be loaded or created.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// A network or file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A bug or an unexpected internal state.
    #[error("internal error: {0}")]
    Internal(String),
}

impl SatelliteError {
    /// The reason clients receive for this error. `INTERNAL` for failures
    /// whose details stay in the log (database, configuration, identity,
    /// I/O, bugs).
    pub fn reason(&self) -> ErrorReason {
        use ErrorReason as R;
        match self {
            Self::InvalidArgument(_) => R::InvalidArgument,
            Self::BucketNameInvalid(_) => R::BucketNameInvalid,
            Self::ObjectKeyInvalid(_) => R::ObjectKeyInvalid,
            Self::NotFound(_) => R::NotFound,
            Self::BucketNotFound(_) => R::BucketNotFound,
            Self::ObjectNotFound(_) => R::ObjectNotFound,
            Self::UploadNotFound(_) => R::UploadNotFound,
            Self::AlreadyExists(_) => R::AlreadyExists,
            Self::BucketAlreadyExists(_) => R::BucketAlreadyExists,
            Self::Unauthenticated(_) => R::Unauthenticated,
            Self::PermissionDenied(_) => R::PermissionDenied,
            Self::FailedPrecondition(_) => R::FailedPrecondition,
            Self::BucketNotEmpty(_) => R::BucketNotEmpty,
            Self::UploadDone(_) => R::UploadDone,
            Self::InvalidPart(_) => R::InvalidPart,
            Self::OutOfRange(_) => R::OutOfRange,
            Self::NotEnoughNodes(_) => R::NotEnoughNodes,
            Self::RateLimited(_) => R::RateLimited,
            Self::Unimplemented(_) => R::Unimplemented,
            Self::Store(StoreError::TooManySegments(_)) => R::TooManySegments,
            Self::Store(_)
            | Self::Config(_)
            | Self::Identity(_)
            | Self::Io { .. }
            | Self::Internal(_) => R::Internal,
        }
    }
}

impl From<SatelliteError> for tonic::Status {
    fn from(e: SatelliteError) -> Self {
        let reason = e.reason();
        if reason == ErrorReason::Internal {
            // Internals stay in the log; the client gets a generic message.
            tracing::error!(error = %e, "request failed with an internal error");
            return reason.status("internal satellite error; see the satellite log");
        }
        reason.status(e.to_string())
    }
}

/// Shorthand for `SatelliteError::InvalidArgument(..)`.
pub(crate) fn invalid(msg: impl Into<String>) -> SatelliteError {
    SatelliteError::InvalidArgument(msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    fn status(e: SatelliteError) -> (Code, String, Option<ErrorReason>) {
        let s = tonic::Status::from(e);
        (s.code(), s.message().to_string(), ErrorReason::of(&s))
    }

    #[test]
    fn every_error_carries_its_reason_and_code() {
        use ErrorReason as R;
        use SatelliteError as E;
        let m = || "what failed".to_string();
        let cases = [
            (
                E::InvalidArgument(m()),
                R::InvalidArgument,
                Code::InvalidArgument,
            ),
            (
                E::BucketNameInvalid(m()),
                R::BucketNameInvalid,
                Code::InvalidArgument,
            ),
            (
                E::ObjectKeyInvalid(m()),
                R::ObjectKeyInvalid,
                Code::InvalidArgument,
            ),
            (E::NotFound(m()), R::NotFound, Code::NotFound),
            (E::BucketNotFound(m()), R::BucketNotFound, Code::NotFound),
            (E::ObjectNotFound(m()), R::ObjectNotFound, Code::NotFound),
            (E::UploadNotFound(m()), R::UploadNotFound, Code::NotFound),
            (E::AlreadyExists(m()), R::AlreadyExists, Code::AlreadyExists),
            (
                E::BucketAlreadyExists(m()),
                R::BucketAlreadyExists,
                Code::AlreadyExists,
            ),
            (
                E::Unauthenticated(m()),
                R::Unauthenticated,
                Code::Unauthenticated,
            ),
            (
                E::PermissionDenied(m()),
                R::PermissionDenied,
                Code::PermissionDenied,
            ),
            (
                E::FailedPrecondition(m()),
                R::FailedPrecondition,
                Code::FailedPrecondition,
            ),
            (
                E::BucketNotEmpty(m()),
                R::BucketNotEmpty,
                Code::FailedPrecondition,
            ),
            (E::UploadDone(m()), R::UploadDone, Code::FailedPrecondition),
            (
                E::InvalidPart(m()),
                R::InvalidPart,
                Code::FailedPrecondition,
            ),
            (E::OutOfRange(m()), R::OutOfRange, Code::OutOfRange),
            (E::NotEnoughNodes(m()), R::NotEnoughNodes, Code::Unavailable),
            (E::RateLimited(m()), R::RateLimited, Code::ResourceExhausted),
            (E::Unimplemented(m()), R::Unimplemented, Code::Unimplemented),
        ];
        for (e, reason, code) in cases {
            assert_eq!(status(e), (code, m(), Some(reason)));
        }
        let (c, msg, r) = status(E::Store(StoreError::TooManySegments(100_000)));
        assert_eq!((c, r), (Code::ResourceExhausted, Some(R::TooManySegments)));
        assert!(msg.contains("100000 segments"), "{msg}");
    }

    #[test]
    fn internals_stay_hidden() {
        let internals = [
            SatelliteError::Internal("secret detail".into()),
            SatelliteError::Config("secret detail".into()),
            SatelliteError::Store(StoreError::corrupt("secret detail", "x")),
            SatelliteError::Io {
                what: "secret detail",
                source: std::io::Error::other("x"),
            },
        ];
        for e in internals {
            let (c, msg, r) = status(e);
            assert_eq!((c, r), (Code::Internal, Some(ErrorReason::Internal)));
            assert!(!msg.contains("secret"), "{msg}");
        }
    }
}
