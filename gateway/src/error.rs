//! The gateway's error type and its mapping onto S3 error codes.

use s3s::{S3Error, S3ErrorCode};
use thiserror::Error;
use uplink::{ErrorKind, UplinkError};

/// Why a gateway operation outside the S3 request path failed (store,
/// sealing, configuration, startup).
#[derive(Debug, Error)]
pub enum GatewayError {
    /// The database could not be opened or migrated.
    #[error("gateway database: {0}")]
    DatabaseSetup(#[from] satstore_service::sql::SqlError),
    /// The database failed.
    #[error("gateway database: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored value is malformed.
    #[error("corrupt gateway state: {0}")]
    Corrupt(String),
    /// A sealed value did not open with the key given (wrong secret or
    /// tampered row).
    #[error("cannot open sealed {0}: wrong key or tampered value")]
    Unseal(String),
    /// An email or other unique value is already registered.
    #[error("already registered: {0}")]
    Conflict(String),
    /// Input that cannot be accepted.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// An access grant names a satellite this gateway does not trust.
    #[error(
        "this gateway does not trust the satellite {0} that the access grant names \
         (trusted_satellites)"
    )]
    UntrustedSatellite(String),
    /// The satellite refused the access grant (unknown, forged, revoked or
    /// expired API key).
    #[error("the satellite refused the access grant: {0}")]
    GrantRefused(String),
    /// The uplink library failed.
    #[error(transparent)]
    Uplink(#[from] UplinkError),
    /// A socket or file failed.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
}

impl From<GatewayError> for S3Error {
    fn from(e: GatewayError) -> Self {
        match e {
            GatewayError::Uplink(u) => uplink_error(u),
            GatewayError::InvalidArgument(m) => {
                S3Error::with_message(S3ErrorCode::InvalidArgument, m)
            }
            GatewayError::Conflict(m) => S3Error::with_message(S3ErrorCode::InvalidRequest, m),
            e @ (GatewayError::UntrustedSatellite(_) | GatewayError::GrantRefused(_)) => {
                S3Error::with_message(S3ErrorCode::AccessDenied, e.to_string())
            }
            other => {
                tracing::error!(error = %other, "gateway internal error");
                S3Error::with_message(S3ErrorCode::InternalError, other.to_string())
            }
        }
    }
}

/// The S3 error for an uplink failure.
pub fn uplink_error(e: UplinkError) -> S3Error {
    let code = match e.kind() {
        ErrorKind::BucketNotFound => S3ErrorCode::NoSuchBucket,
        ErrorKind::BucketAlreadyExists => S3ErrorCode::BucketAlreadyOwnedByYou,
        ErrorKind::BucketNotEmpty => S3ErrorCode::BucketNotEmpty,
        ErrorKind::BucketNameInvalid => S3ErrorCode::InvalidBucketName,
        ErrorKind::ObjectNotFound => S3ErrorCode::NoSuchKey,
        ErrorKind::ObjectKeyInvalid => S3ErrorCode::KeyTooLongError,
        ErrorKind::PermissionDenied => S3ErrorCode::AccessDenied,
        ErrorKind::InvalidArgument => S3ErrorCode::InvalidArgument,
        ErrorKind::TooManyRequests => S3ErrorCode::SlowDown,
        ErrorKind::LimitsExceeded => {
            let mut err =
                S3Error::with_message(S3ErrorCode::Custom("QuotaExceeded".into()), e.to_string());
            err.set_status_code(http::StatusCode::FORBIDDEN);
            return err;
        }
        ErrorKind::Unavailable => S3ErrorCode::ServiceUnavailable,
        ErrorKind::Canceled => S3ErrorCode::RequestTimeout,
        ErrorKind::UploadDone | ErrorKind::UploadNotFound => S3ErrorCode::NoSuchUpload,
        ErrorKind::InvalidPart => S3ErrorCode::InvalidPart,
        _ => {
            tracing::error!(error = %e, "uplink internal error");
            S3ErrorCode::InternalError
        }
    };
    let message = match code {
        S3ErrorCode::NoSuchBucket => "The specified bucket does not exist".to_string(),
        S3ErrorCode::NoSuchKey => "The specified key does not exist.".to_string(),
        _ => e.to_string(),
    };
    S3Error::with_message(code, message)
}

/// Shorthand for an S3 error with a code and message.
pub fn s3err(code: S3ErrorCode, msg: impl Into<String>) -> S3Error {
    S3Error::with_message(code, msg.into())
}
