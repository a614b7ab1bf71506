//! The machine-readable reason of a failed call: [`ErrorReason`] in an
//! `ErrorDetail`, packed into the status's `grpc-status-details-bin`
//! trailer the way `google.rpc.Status` carries details, so that any gRPC
//! client can read it. The satellite sends every error with a reason
//! ([`ErrorReason::status`]); clients read it back with
//! [`ErrorReason::of`] and fall back to the gRPC code when there is none.

use prost::Message;

use crate::common::{AnyDetail, ErrorDetail, ErrorReason, StatusDetails};

/// Type URL of an `ErrorDetail` inside `StatusDetails.details`.
pub const ERROR_DETAIL_TYPE_URL: &str = "type.googleapis.com/common.v1.ErrorDetail";

impl ErrorReason {
    /// The gRPC code of every status with this reason.
    pub fn code(self) -> tonic::Code {
        use tonic::Code;
        match self {
            Self::Unspecified => Code::Unknown,
            Self::Internal => Code::Internal,
            Self::InvalidArgument | Self::BucketNameInvalid | Self::ObjectKeyInvalid => {
                Code::InvalidArgument
            }
            Self::NotFound | Self::BucketNotFound | Self::ObjectNotFound | Self::UploadNotFound => {
                Code::NotFound
            }
            Self::AlreadyExists | Self::BucketAlreadyExists => Code::AlreadyExists,
            Self::FailedPrecondition
            | Self::BucketNotEmpty
            | Self::UploadDone
            | Self::InvalidPart => Code::FailedPrecondition,
            Self::OutOfRange => Code::OutOfRange,
            Self::Unauthenticated => Code::Unauthenticated,
            Self::PermissionDenied => Code::PermissionDenied,
            Self::Unimplemented => Code::Unimplemented,
            Self::TooManySegments | Self::RateLimited => Code::ResourceExhausted,
            Self::NotEnoughNodes => Code::Unavailable,
        }
    }

    /// A status with this reason's code, `message`, and the reason in its
    /// details.
    pub fn status(self, message: impl Into<String>) -> tonic::Status {
        let message = message.into();
        let code = self.code();
        let details = StatusDetails {
            code: code as i32,
            message: message.clone(),
            details: vec![AnyDetail {
                type_url: ERROR_DETAIL_TYPE_URL.to_string(),
                value: ErrorDetail {
                    reason: self as i32,
                }
                .encode_to_vec(),
            }],
        };
        tonic::Status::with_details(code, message, details.encode_to_vec().into())
    }

    /// The reason `status` carries. `None` when it has no Satstore detail
    /// (an older peer, a failed connection, a proxy's answer), or only an
    /// unspecified reason or one this build does not know (a newer peer):
    /// then the gRPC code is all there is to go by.
    pub fn of(status: &tonic::Status) -> Option<ErrorReason> {
        let details = StatusDetails::decode(status.details()).ok()?;
        details
            .details
            .iter()
            .filter(|d| d.type_url == ERROR_DETAIL_TYPE_URL)
            .find_map(|d| {
                let detail = ErrorDetail::decode(d.value.as_slice()).ok()?;
                match ErrorReason::try_from(detail.reason) {
                    Ok(ErrorReason::Unspecified) | Err(_) => None,
                    Ok(r) => Some(r),
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::{Code, Status};

    /// Every reason with its wire value and code: a renumbering fails here.
    const TABLE: &[(ErrorReason, i32, Code)] = &[
        (ErrorReason::Internal, 1, Code::Internal),
        (ErrorReason::InvalidArgument, 2, Code::InvalidArgument),
        (ErrorReason::NotFound, 3, Code::NotFound),
        (ErrorReason::AlreadyExists, 4, Code::AlreadyExists),
        (ErrorReason::FailedPrecondition, 5, Code::FailedPrecondition),
        (ErrorReason::OutOfRange, 6, Code::OutOfRange),
        (ErrorReason::Unauthenticated, 7, Code::Unauthenticated),
        (ErrorReason::PermissionDenied, 8, Code::PermissionDenied),
        (ErrorReason::Unimplemented, 9, Code::Unimplemented),
        (ErrorReason::BucketNameInvalid, 16, Code::InvalidArgument),
        (ErrorReason::BucketAlreadyExists, 17, Code::AlreadyExists),
        (ErrorReason::BucketNotEmpty, 18, Code::FailedPrecondition),
        (ErrorReason::BucketNotFound, 19, Code::NotFound),
        (ErrorReason::ObjectKeyInvalid, 32, Code::InvalidArgument),
        (ErrorReason::ObjectNotFound, 33, Code::NotFound),
        (ErrorReason::UploadDone, 34, Code::FailedPrecondition),
        (ErrorReason::UploadNotFound, 35, Code::NotFound),
        (ErrorReason::InvalidPart, 36, Code::FailedPrecondition),
        (ErrorReason::TooManySegments, 37, Code::ResourceExhausted),
        (ErrorReason::RateLimited, 48, Code::ResourceExhausted),
        (ErrorReason::NotEnoughNodes, 49, Code::Unavailable),
    ];

    #[test]
    fn values_and_codes_are_pinned() {
        for &(reason, value, code) in TABLE {
            assert_eq!(reason as i32, value, "{reason:?}");
            assert_eq!(ErrorReason::try_from(value), Ok(reason));
            assert_eq!(reason.code(), code, "{reason:?}");
        }
        // The table is complete: every value up to the largest is either
        // in it or unassigned.
        let known = (0..=64)
            .filter(|v| ErrorReason::try_from(*v).is_ok())
            .count();
        assert_eq!(known, TABLE.len() + 1, "a reason is missing from the table");
    }

    #[test]
    fn reason_round_trips_through_a_status() {
        for &(reason, _, code) in TABLE {
            let s = reason.status("what happened");
            assert_eq!(s.code(), code);
            assert_eq!(s.message(), "what happened");
            assert_eq!(ErrorReason::of(&s), Some(reason));
            // Readable as google.rpc.Status: code and message repeated.
            let d = StatusDetails::decode(s.details()).unwrap();
            assert_eq!((d.code, d.message.as_str()), (code as i32, "what happened"));
            assert_eq!(d.details[0].type_url, ERROR_DETAIL_TYPE_URL);
        }
    }

    #[test]
    fn missing_unknown_or_foreign_details_give_no_reason() {
        assert_eq!(
            ErrorReason::of(&Status::not_found("bucket not found")),
            None
        );
        let with = |type_url: &str, reason: i32| {
            let d = StatusDetails {
                code: Code::NotFound as i32,
                message: String::new(),
                details: vec![AnyDetail {
                    type_url: type_url.into(),
                    value: ErrorDetail { reason }.encode_to_vec(),
                }],
            };
            Status::with_details(Code::NotFound, "", d.encode_to_vec().into())
        };
        assert_eq!(ErrorReason::of(&with(ERROR_DETAIL_TYPE_URL, 0)), None);
        assert_eq!(ErrorReason::of(&with(ERROR_DETAIL_TYPE_URL, 9999)), None);
        assert_eq!(
            ErrorReason::of(&with("type.googleapis.com/other.Detail", 19)),
            None
        );
        assert_eq!(
            ErrorReason::of(&with(ERROR_DETAIL_TYPE_URL, 19)),
            Some(ErrorReason::BucketNotFound)
        );
        let garbage = Status::with_details(Code::NotFound, "", vec![0xffu8, 0xff].into());
        assert_eq!(ErrorReason::of(&garbage), None);
    }
}
