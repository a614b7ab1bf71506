//! S3 error codes: the shorthand that raises one, the codes s3s has no
//! variant for, and S3's standard wording of the codes the gateway (or
//! s3s, without a message) raises.

use http::StatusCode;
use s3s::{S3Error, S3ErrorCode};

/// Shorthand for an S3 error with a code and message.
pub fn s3err(code: S3ErrorCode, msg: impl Into<String>) -> S3Error {
    S3Error::with_message(code, msg.into())
}

/// S3 error codes that s3s's [`S3ErrorCode`] has no variant for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtraCode {
    /// The project's storage, bandwidth or object limits are reached.
    QuotaExceeded,
    /// A CORS preflight that no rule of the bucket allows.
    AccessForbidden,
    /// A CORS preflight without an Origin or a method to check.
    BadRequest,
}

impl ExtraCode {
    /// Every extra code.
    pub const ALL: [ExtraCode; 3] = [
        ExtraCode::QuotaExceeded,
        ExtraCode::AccessForbidden,
        ExtraCode::BadRequest,
    ];

    /// The code's name in an `<Error>` body.
    pub fn as_str(self) -> &'static str {
        match self {
            ExtraCode::QuotaExceeded => "QuotaExceeded",
            ExtraCode::AccessForbidden => "AccessForbidden",
            ExtraCode::BadRequest => "BadRequest",
        }
    }

    /// The HTTP status S3 answers it with.
    pub fn status(self) -> StatusCode {
        match self {
            ExtraCode::QuotaExceeded | ExtraCode::AccessForbidden => StatusCode::FORBIDDEN,
            ExtraCode::BadRequest => StatusCode::BAD_REQUEST,
        }
    }

    /// The code as s3s carries it.
    pub fn code(self) -> S3ErrorCode {
        S3ErrorCode::Custom(self.as_str().into())
    }

    /// The extra code `code` stands for, if it is one.
    pub fn of(code: &S3ErrorCode) -> Option<ExtraCode> {
        let S3ErrorCode::Custom(name) = code else {
            return None;
        };
        ExtraCode::ALL.into_iter().find(|c| c.as_str() == &**name)
    }

    /// An S3 error with this code, its status and `msg`.
    pub fn error(self, msg: impl Into<String>) -> S3Error {
        let mut e = s3err(self.code(), msg);
        e.set_status_code(self.status());
        e
    }
}

/// The HTTP status an error with `code` is answered with.
pub fn status_of(code: &S3ErrorCode) -> StatusCode {
    ExtraCode::of(code)
        .map(ExtraCode::status)
        .or_else(|| code.status_code())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// S3's wording for an error raised without a message.
pub fn standard_message(code: &S3ErrorCode) -> Option<&'static str> {
    Some(match code {
        S3ErrorCode::SignatureDoesNotMatch => {
            "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        }
        S3ErrorCode::InvalidAccessKeyId => {
            "The AWS Access Key Id you provided does not exist in our records."
        }
        S3ErrorCode::InvalidBucketName => "The specified bucket is not valid.",
        S3ErrorCode::AccessDenied => "Access Denied",
        S3ErrorCode::RequestTimeTooSkewed => {
            "The difference between the request time and the current time is too large."
        }
        S3ErrorCode::MalformedXML => {
            "The XML you provided was not well-formed or did not validate against our published schema."
        }
        S3ErrorCode::NoSuchBucket => "The specified bucket does not exist",
        S3ErrorCode::NoSuchKey => "The specified key does not exist.",
        S3ErrorCode::MethodNotAllowed => {
            "The specified method is not allowed against this resource."
        }
        S3ErrorCode::NotImplemented => {
            "A header you provided implies functionality that is not implemented."
        }
        S3ErrorCode::MissingContentLength => "You must provide the Content-Length HTTP header.",
        _ => return None,
    })
}

/// S3's wording of the errors the gateway raises with a fixed message.
pub mod wording {
    /// BucketAlreadyOwnedByYou.
    pub const BUCKET_ALREADY_OWNED_BY_YOU: &str =
        "Your previous request to create the named bucket succeeded and you already own it.";
    /// BucketAlreadyExists.
    pub const BUCKET_ALREADY_EXISTS: &str =
        "The requested bucket name is not available. Please select a different name and try again.";
    /// NoSuchUpload.
    pub const NO_SUCH_UPLOAD: &str = "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.";
    /// PreconditionFailed.
    pub const PRECONDITION_FAILED: &str =
        "At least one of the pre-conditions you specified did not hold";
    /// NotModified.
    pub const NOT_MODIFIED: &str = "Not Modified";
    /// RequestTimeout of a request body.
    pub const REQUEST_TIMEOUT: &str = "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.";
    /// SignatureDoesNotMatch of an aws-chunked chunk.
    pub const CHUNK_SIGNATURE_DOES_NOT_MATCH: &str =
        "The chunk signature we calculated does not match the signature you provided.";
    /// SlowDown.
    pub const SLOW_DOWN: &str = "Please reduce your request rate.";
    /// InternalError.
    pub const INTERNAL_ERROR: &str = "We encountered an internal error. Please try again.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_codes_round_trip_through_s3s_and_carry_their_status() {
        for c in ExtraCode::ALL {
            assert_eq!(ExtraCode::of(&c.code()), Some(c));
            assert_eq!(c.code().as_str(), c.as_str());
            assert_eq!(status_of(&c.code()), c.status());
            let e = c.error("m");
            assert_eq!(e.status_code(), Some(c.status()));
            assert_eq!(e.message(), Some("m"));
        }
        assert_eq!(ExtraCode::of(&S3ErrorCode::AccessDenied), None);
        assert_eq!(ExtraCode::of(&S3ErrorCode::Custom("Other".into())), None);
        assert_eq!(
            ExtraCode::QuotaExceeded.status(),
            StatusCode::FORBIDDEN,
            "S3 answers QuotaExceeded with 403"
        );
    }

    #[test]
    fn statuses_follow_the_code() {
        assert_eq!(status_of(&S3ErrorCode::NoSuchKey), StatusCode::NOT_FOUND);
        assert_eq!(
            status_of(&S3ErrorCode::SlowDown),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            status_of(&S3ErrorCode::NotModified),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            status_of(&S3ErrorCode::Custom("Unheard".into())),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn codes_raised_bare_get_the_s3_wording() {
        assert_eq!(
            standard_message(&S3ErrorCode::NoSuchKey),
            Some("The specified key does not exist.")
        );
        assert!(
            standard_message(&S3ErrorCode::SignatureDoesNotMatch)
                .is_some_and(|m| m.starts_with("The request signature"))
        );
        assert_eq!(standard_message(&S3ErrorCode::InternalError), None);
        assert_eq!(standard_message(&ExtraCode::QuotaExceeded.code()), None);
    }
}
