//! `SatelliteError`, the one error type of the satellite's domain modules,
//! and its mapping to gRPC status codes (the only place that decides what
//! clients see).

use satstore_common::IdentityError;
use thiserror::Error;

use crate::store::StoreError;

/// Why a satellite operation failed; each variant says what the caller can do.
#[derive(Debug, Error)]
pub enum SatelliteError {
    /// The request is malformed; fix it and retry.
    #[error("{0}")]
    InvalidArgument(String),
    /// The named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The thing to create exists already.
    #[error("{0}")]
    AlreadyExists(String),
    /// The API key is missing, unknown, forged or revoked.
    #[error("{0}")]
    Unauthenticated(String),
    /// The API key does not allow this action or path.
    #[error("{0}")]
    PermissionDenied(String),
    /// The state does not allow the operation (e.g. bucket not empty).
    #[error("{0}")]
    FailedPrecondition(String),
    /// A byte range lies outside the object.
    #[error("{0}")]
    OutOfRange(String),
    /// Not enough resources right now (e.g. storage nodes); retry later.
    #[error("{0}")]
    Unavailable(String),
    /// The caller is over a rate or size limit; slow down.
    #[error("{0}")]
    ResourceExhausted(String),
    /// The operation is not implemented yet.
    #[error("{0}")]
    Unimplemented(String),
    /// The configuration is invalid; fix the config file or flags.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The database failed.
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

impl From<SatelliteError> for tonic::Status {
    fn from(e: SatelliteError) -> Self {
        use tonic::Status;
        match e {
            SatelliteError::InvalidArgument(m) => Status::invalid_argument(m),
            SatelliteError::NotFound(m) => Status::not_found(m),
            SatelliteError::AlreadyExists(m) => Status::already_exists(m),
            SatelliteError::Unauthenticated(m) => Status::unauthenticated(m),
            SatelliteError::PermissionDenied(m) => Status::permission_denied(m),
            SatelliteError::FailedPrecondition(m) => Status::failed_precondition(m),
            SatelliteError::OutOfRange(m) => Status::out_of_range(m),
            SatelliteError::Unavailable(m) => Status::unavailable(m),
            SatelliteError::ResourceExhausted(m) => Status::resource_exhausted(m),
            SatelliteError::Store(e @ StoreError::TooManySegments(_)) => {
                Status::resource_exhausted(e.to_string())
            }
            SatelliteError::Unimplemented(m) => Status::unimplemented(m),
            other => {
                // Internals stay in the log; the client gets a generic message.
                tracing::error!(error = %other, "request failed with an internal error");
                Status::internal("internal satellite error; see the satellite log")
            }
        }
    }
}

/// Shorthand for `Err(SatelliteError::InvalidArgument(..))`.
pub(crate) fn invalid(msg: impl Into<String>) -> SatelliteError {
    SatelliteError::InvalidArgument(msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_hidden_internals() {
        let s: tonic::Status = SatelliteError::NotFound("bucket not found".into()).into();
        assert_eq!(s.code(), tonic::Code::NotFound);
        assert_eq!(s.message(), "bucket not found");
        let s: tonic::Status = SatelliteError::Internal("secret detail".into()).into();
        assert_eq!(s.code(), tonic::Code::Internal);
        assert!(!s.message().contains("secret"));
        let s: tonic::Status = invalid("bad").into();
        assert_eq!(s.code(), tonic::Code::InvalidArgument);
    }
}
