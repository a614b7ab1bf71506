//! The one mapping of uplink failures onto S3 errors: which code each
//! [`ErrorKind`] is, and with which message.

use s3s::{S3Error, S3ErrorCode};
use uplink::{ErrorKind, UplinkError};

use super::codes::{ExtraCode, s3err, standard_message, wording};

/// What the failed uplink call was about: an object or bucket, or a
/// multipart upload named by its id (where a missing object means the
/// upload is gone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A bucket or object call.
    Object,
    /// A call on a multipart upload in progress.
    Upload,
}

/// The S3 code of an uplink failure of `kind`.
pub fn code_of(kind: ErrorKind, subject: Subject) -> S3ErrorCode {
    match (kind, subject) {
        (ErrorKind::ObjectNotFound, Subject::Upload) => S3ErrorCode::NoSuchUpload,
        (ErrorKind::BucketNotFound, _) => S3ErrorCode::NoSuchBucket,
        (ErrorKind::BucketAlreadyExists, _) => S3ErrorCode::BucketAlreadyOwnedByYou,
        (ErrorKind::BucketNotEmpty, _) => S3ErrorCode::BucketNotEmpty,
        (ErrorKind::BucketNameInvalid, _) => S3ErrorCode::InvalidBucketName,
        (ErrorKind::ObjectNotFound, _) => S3ErrorCode::NoSuchKey,
        (ErrorKind::ObjectKeyInvalid, _) => S3ErrorCode::KeyTooLongError,
        (ErrorKind::PermissionDenied, _) => S3ErrorCode::AccessDenied,
        (ErrorKind::InvalidArgument, _) => S3ErrorCode::InvalidArgument,
        (ErrorKind::TooManyRequests, _) => S3ErrorCode::SlowDown,
        (ErrorKind::LimitsExceeded, _) => ExtraCode::QuotaExceeded.code(),
        (ErrorKind::Unavailable, _) => S3ErrorCode::ServiceUnavailable,
        (ErrorKind::Canceled, _) => S3ErrorCode::RequestTimeout,
        (ErrorKind::UploadDone | ErrorKind::UploadNotFound, _) => S3ErrorCode::NoSuchUpload,
        (ErrorKind::InvalidPart, _) => S3ErrorCode::InvalidPart,
        _ => S3ErrorCode::InternalError,
    }
}

/// The S3 error for an uplink failure about an object or bucket.
pub fn uplink_error(e: UplinkError) -> S3Error {
    s3_error(e, Subject::Object)
}

/// The S3 error for an uplink failure about a multipart upload id.
pub fn upload_error(e: UplinkError) -> S3Error {
    s3_error(e, Subject::Upload)
}

/// The S3 error for an uplink failure about `subject`: S3's wording
/// where clients expect it, the uplink's message otherwise.
pub fn s3_error(e: UplinkError, subject: Subject) -> S3Error {
    let code = code_of(e.kind(), subject);
    if code == S3ErrorCode::InternalError {
        tracing::error!(error = %e, "uplink internal error");
    }
    if let Some(extra) = ExtraCode::of(&code) {
        return extra.error(e.to_string());
    }
    let message = match (&code, subject) {
        (S3ErrorCode::NoSuchUpload, Subject::Upload) => wording::NO_SUCH_UPLOAD.to_string(),
        (S3ErrorCode::InvalidPart, Subject::Upload) => {
            format!("One or more of the specified parts could not be found: {e}")
        }
        (S3ErrorCode::BucketAlreadyOwnedByYou, _) => {
            wording::BUCKET_ALREADY_OWNED_BY_YOU.to_string()
        }
        (S3ErrorCode::NoSuchBucket | S3ErrorCode::NoSuchKey, _) => standard_message(&code)
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string()),
        _ => e.to_string(),
    };
    s3err(code, message)
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;

    fn err(kind: ErrorKind) -> UplinkError {
        let m = "detail".to_string();
        match kind {
            ErrorKind::BucketNotFound => UplinkError::BucketNotFound(m),
            ErrorKind::BucketAlreadyExists => UplinkError::BucketAlreadyExists(m),
            ErrorKind::BucketNotEmpty => UplinkError::BucketNotEmpty(m),
            ErrorKind::BucketNameInvalid => UplinkError::BucketNameInvalid(m),
            ErrorKind::ObjectNotFound => UplinkError::ObjectNotFound(m),
            ErrorKind::ObjectKeyInvalid => UplinkError::ObjectKeyInvalid(m),
            ErrorKind::PermissionDenied => UplinkError::PermissionDenied(m),
            ErrorKind::InvalidArgument => UplinkError::InvalidArgument(m),
            ErrorKind::TooManyRequests => UplinkError::TooManyRequests(m),
            ErrorKind::LimitsExceeded => UplinkError::LimitsExceeded(m),
            ErrorKind::Unavailable => UplinkError::Unavailable(m),
            ErrorKind::Canceled => UplinkError::Canceled(m),
            ErrorKind::UploadDone => UplinkError::UploadDone(m),
            ErrorKind::UploadNotFound => UplinkError::UploadNotFound(m),
            ErrorKind::InvalidPart => UplinkError::InvalidPart(m),
            _ => UplinkError::Internal(m),
        }
    }

    #[test]
    fn every_kind_has_its_s3_code() {
        use S3ErrorCode as C;
        let table = [
            (ErrorKind::BucketNotFound, C::NoSuchBucket, C::NoSuchBucket),
            (
                ErrorKind::BucketAlreadyExists,
                C::BucketAlreadyOwnedByYou,
                C::BucketAlreadyOwnedByYou,
            ),
            (
                ErrorKind::BucketNotEmpty,
                C::BucketNotEmpty,
                C::BucketNotEmpty,
            ),
            (
                ErrorKind::BucketNameInvalid,
                C::InvalidBucketName,
                C::InvalidBucketName,
            ),
            (ErrorKind::ObjectNotFound, C::NoSuchKey, C::NoSuchUpload),
            (
                ErrorKind::ObjectKeyInvalid,
                C::KeyTooLongError,
                C::KeyTooLongError,
            ),
            (
                ErrorKind::PermissionDenied,
                C::AccessDenied,
                C::AccessDenied,
            ),
            (
                ErrorKind::InvalidArgument,
                C::InvalidArgument,
                C::InvalidArgument,
            ),
            (ErrorKind::TooManyRequests, C::SlowDown, C::SlowDown),
            (
                ErrorKind::LimitsExceeded,
                ExtraCode::QuotaExceeded.code(),
                ExtraCode::QuotaExceeded.code(),
            ),
            (
                ErrorKind::Unavailable,
                C::ServiceUnavailable,
                C::ServiceUnavailable,
            ),
            (ErrorKind::Canceled, C::RequestTimeout, C::RequestTimeout),
            (ErrorKind::UploadDone, C::NoSuchUpload, C::NoSuchUpload),
            (ErrorKind::UploadNotFound, C::NoSuchUpload, C::NoSuchUpload),
            (ErrorKind::InvalidPart, C::InvalidPart, C::InvalidPart),
            (ErrorKind::Internal, C::InternalError, C::InternalError),
        ];
        for (kind, object, upload) in table {
            assert_eq!(code_of(kind, Subject::Object), object, "{kind:?}");
            assert_eq!(code_of(kind, Subject::Upload), upload, "{kind:?}");
            assert_eq!(err(kind).kind(), kind);
            assert_eq!(*uplink_error(err(kind)).code(), object, "{kind:?}");
            assert_eq!(*upload_error(err(kind)).code(), upload, "{kind:?}");
        }
    }

    #[test]
    fn messages_use_s3_wording_where_clients_expect_it() {
        let e = uplink_error(err(ErrorKind::ObjectNotFound));
        assert_eq!(e.message(), Some("The specified key does not exist."));
        let e = uplink_error(err(ErrorKind::BucketNotFound));
        assert_eq!(e.message(), Some("The specified bucket does not exist"));
        let e = uplink_error(err(ErrorKind::BucketAlreadyExists));
        assert_eq!(e.message(), Some(wording::BUCKET_ALREADY_OWNED_BY_YOU));
        let e = upload_error(err(ErrorKind::UploadNotFound));
        assert_eq!(e.message(), Some(wording::NO_SUCH_UPLOAD));
        // Outside an upload's context the uplink's own words stay.
        let e = uplink_error(err(ErrorKind::UploadNotFound));
        assert_eq!(e.message(), Some("upload not found: detail"));
        let e = upload_error(err(ErrorKind::InvalidPart));
        assert_eq!(
            e.message(),
            Some("One or more of the specified parts could not be found: invalid part: detail")
        );
        let e = uplink_error(err(ErrorKind::PermissionDenied));
        assert_eq!(e.message(), Some("permission denied: detail"));
    }

    #[test]
    fn a_quota_is_403_quota_exceeded() {
        let e = uplink_error(err(ErrorKind::LimitsExceeded));
        assert_eq!(e.code().as_str(), "QuotaExceeded");
        assert_eq!(e.status_code(), Some(StatusCode::FORBIDDEN));
        assert_eq!(e.message(), Some("limits exceeded: detail"));
    }
}
