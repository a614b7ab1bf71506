//! Conditional requests: `If-Match`, `If-None-Match`, `If-Modified-Since`
//! and `If-Unmodified-Since` (and CopyObject's `x-amz-copy-source-if-*`
//! twins), judged against an object's ETag and last-modified time the way
//! S3 does (RFC 9110 section 13.2.2): a failed If-Match or
//! If-Unmodified-Since is 412 before anything else; If-Match, when given,
//! overrides If-Unmodified-Since, and If-None-Match overrides
//! If-Modified-Since; a failed If-None-Match or If-Modified-Since is 304
//! for a read (GET, HEAD) and 412 for anything else (a copy's source).
//! Times compare to the second, as HTTP dates carry no more.

use s3s::dto::{CopyObjectInput, ETag, ETagCondition, GetObjectInput, HeadObjectInput, Timestamp};
use s3s::{S3Error, S3ErrorCode};

use crate::s3error::codes::wording;
use crate::s3error::s3err;

/// The conditions of one request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conditions {
    /// Proceed only if the ETag matches (or, for `*`, the object exists).
    pub if_match: Option<ETagCondition>,
    /// Proceed only if the ETag does not match (`*`: matches any).
    pub if_none_match: Option<ETagCondition>,
    /// Proceed only if the object changed after this time.
    pub if_modified_since: Option<Timestamp>,
    /// Proceed only if the object did not change after this time.
    pub if_unmodified_since: Option<Timestamp>,
}

/// What the conditions are attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    /// A GET or HEAD of the object: "not changed" is 304 Not Modified.
    Read,
    /// Anything else (the source of a copy): every failure is 412.
    Other,
}

/// The outcome of the conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every condition holds (or none was given).
    Proceed,
    /// 304: the reader's copy is current.
    NotModified,
    /// 412: a precondition does not hold.
    PreconditionFailed,
}

impl Conditions {
    /// The conditions of a GetObject request.
    pub fn of_get(i: &GetObjectInput) -> Conditions {
        Conditions {
            if_match: i.if_match.clone(),
            if_none_match: i.if_none_match.clone(),
            if_modified_since: i.if_modified_since.clone(),
            if_unmodified_since: i.if_unmodified_since.clone(),
        }
    }

    /// The conditions of a HeadObject request.
    pub fn of_head(i: &HeadObjectInput) -> Conditions {
        Conditions {
            if_match: i.if_match.clone(),
            if_none_match: i.if_none_match.clone(),
            if_modified_since: i.if_modified_since.clone(),
            if_unmodified_since: i.if_unmodified_since.clone(),
        }
    }

    /// The `x-amz-copy-source-if-*` conditions of a CopyObject request,
    /// on its source.
    pub fn of_copy_source(i: &CopyObjectInput) -> Conditions {
        Conditions {
            if_match: i.copy_source_if_match.clone(),
            if_none_match: i.copy_source_if_none_match.clone(),
            if_modified_since: i.copy_source_if_modified_since.clone(),
            if_unmodified_since: i.copy_source_if_unmodified_since.clone(),
        }
    }

    /// Whether no condition was given.
    pub fn is_empty(&self) -> bool {
        self.if_match.is_none()
            && self.if_none_match.is_none()
            && self.if_modified_since.is_none()
            && self.if_unmodified_since.is_none()
    }

    /// Judges the conditions against an object with `etag`, last
    /// modified at `modified`.
    pub fn evaluate(&self, etag: &ETag, modified: &Timestamp, applies: Applies) -> Verdict {
        let modified = seconds(modified);
        let matches = |c: &ETagCondition| match c {
            ETagCondition::Any => true,
            ETagCondition::ETag(e) => e.value() == etag.value(),
        };
        let holds = match &self.if_match {
            Some(c) => matches(c),
            None => self
                .if_unmodified_since
                .as_ref()
                .is_none_or(|t| modified <= seconds(t)),
        };
        if !holds {
            return Verdict::PreconditionFailed;
        }
        let changed = match &self.if_none_match {
            Some(c) => !matches(c),
            None => self
                .if_modified_since
                .as_ref()
                .is_none_or(|t| modified > seconds(t)),
        };
        match (changed, applies) {
            (true, _) => Verdict::Proceed,
            (false, Applies::Read) => Verdict::NotModified,
            (false, Applies::Other) => Verdict::PreconditionFailed,
        }
    }

    /// [`Conditions::evaluate`] as an S3 result: `Err` with the
    /// NotModified (304) or PreconditionFailed (412) error.
    pub fn check(
        &self,
        etag: &ETag,
        modified: &Timestamp,
        applies: Applies,
    ) -> Result<(), S3Error> {
        match self.evaluate(etag, modified, applies) {
            Verdict::Proceed => Ok(()),
            Verdict::NotModified => Err(s3err(S3ErrorCode::NotModified, wording::NOT_MODIFIED)),
            Verdict::PreconditionFailed => Err(s3err(
                S3ErrorCode::PreconditionFailed,
                wording::PRECONDITION_FAILED,
            )),
        }
    }
}

/// Whole seconds since the epoch.
fn seconds(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;

    const ETAG: &str = "abc";

    fn at(secs: i64) -> Timestamp {
        Timestamp::from(time::OffsetDateTime::from_unix_timestamp(secs).unwrap())
    }

    fn tag(v: &str) -> Option<ETagCondition> {
        Some(ETagCondition::ETag(ETag::Strong(v.to_string())))
    }

    /// The verdict for an object of ETag "abc" modified at second 1000.
    fn judge(c: &Conditions, applies: Applies) -> Verdict {
        c.evaluate(&ETag::Strong(ETAG.into()), &at(1000), applies)
    }

    use Applies::{Other, Read};
    use Verdict::{NotModified, PreconditionFailed, Proceed};

    #[test]
    fn no_conditions_proceed() {
        let c = Conditions::default();
        assert!(c.is_empty());
        assert_eq!(judge(&c, Read), Proceed);
        assert_eq!(judge(&c, Other), Proceed);
    }

    #[test]
    fn if_match_decides_and_overrides_if_unmodified_since() {
        let c = Conditions {
            if_match: tag(ETAG),
            if_unmodified_since: Some(at(500)),
            ..Default::default()
        };
        assert!(!c.is_empty());
        // If-Unmodified-Since alone would fail: If-Match wins.
        assert_eq!(judge(&c, Read), Proceed);
        let c = Conditions {
            if_match: tag("other"),
            if_unmodified_since: Some(at(2000)),
            ..Default::default()
        };
        assert_eq!(judge(&c, Read), PreconditionFailed);
        let any = Conditions {
            if_match: Some(ETagCondition::Any),
            ..Default::default()
        };
        assert_eq!(judge(&any, Read), Proceed);
        // A weak tag compares by its value.
        let weak = Conditions {
            if_match: Some(ETagCondition::ETag(ETag::Weak(ETAG.into()))),
            ..Default::default()
        };
        assert_eq!(judge(&weak, Read), Proceed);
    }

    #[test]
    fn if_unmodified_since_alone_compares_whole_seconds() {
        let since = |t| Conditions {
            if_unmodified_since: Some(at(t)),
            ..Default::default()
        };
        assert_eq!(judge(&since(999), Read), PreconditionFailed);
        assert_eq!(judge(&since(1000), Read), Proceed);
        assert_eq!(judge(&since(1001), Other), Proceed);
        // Sub-second parts of the object's time do not count.
        let exact = since(1000).evaluate(
            &ETag::Strong(ETAG.into()),
            &Timestamp::from(
                time::OffsetDateTime::from_unix_timestamp_nanos(1_000_700_000_000).unwrap(),
            ),
            Read,
        );
        assert_eq!(exact, Proceed);
    }

    #[test]
    fn a_matching_if_none_match_is_304_on_reads_and_412_otherwise() {
        for c in [
            Conditions {
                if_none_match: tag(ETAG),
                ..Default::default()
            },
            Conditions {
                if_none_match: Some(ETagCondition::Any),
                ..Default::default()
            },
        ] {
            assert_eq!(judge(&c, Read), NotModified);
            assert_eq!(judge(&c, Other), PreconditionFailed);
        }
        let other = Conditions {
            if_none_match: tag("other"),
            ..Default::default()
        };
        assert_eq!(judge(&other, Read), Proceed);
        assert_eq!(judge(&other, Other), Proceed);
    }

    #[test]
    fn if_none_match_overrides_if_modified_since() {
        // Not modified since 2000, but the ETag differs: proceed.
        let c = Conditions {
            if_none_match: tag("other"),
            if_modified_since: Some(at(2000)),
            ..Default::default()
        };
        assert_eq!(judge(&c, Read), Proceed);
        // Modified since 500, but the ETag matches: not modified.
        let c = Conditions {
            if_none_match: tag(ETAG),
            if_modified_since: Some(at(500)),
            ..Default::default()
        };
        assert_eq!(judge(&c, Read), NotModified);
    }

    #[test]
    fn if_modified_since_alone() {
        let since = |t| Conditions {
            if_modified_since: Some(at(t)),
            ..Default::default()
        };
        assert_eq!(judge(&since(999), Read), Proceed);
        assert_eq!(judge(&since(1000), Read), NotModified);
        assert_eq!(judge(&since(1000), Other), PreconditionFailed);
        assert_eq!(judge(&since(5000), Read), NotModified);
    }

    #[test]
    fn precondition_failures_come_before_not_modified() {
        let c = Conditions {
            if_match: tag("other"),
            if_none_match: tag(ETAG),
            ..Default::default()
        };
        assert_eq!(judge(&c, Read), PreconditionFailed);
        let c = Conditions {
            if_unmodified_since: Some(at(10)),
            if_modified_since: Some(at(5000)),
            ..Default::default()
        };
        assert_eq!(judge(&c, Read), PreconditionFailed);
        // A holding If-Match with a matching If-None-Match: 304 on reads.
        let c = Conditions {
            if_match: tag(ETAG),
            if_none_match: tag(ETAG),
            ..Default::default()
        };
        assert_eq!(judge(&c, Read), NotModified);
    }

    #[test]
    fn inputs_give_their_own_conditions() {
        let mut get = GetObjectInput::builder()
            .bucket("b".into())
            .key("k".into())
            .build()
            .unwrap();
        assert!(Conditions::of_get(&get).is_empty());
        get.if_none_match = tag(ETAG);
        get.if_unmodified_since = Some(at(7));
        let c = Conditions::of_get(&get);
        assert_eq!(c.if_none_match, tag(ETAG));
        assert_eq!(c.if_unmodified_since, Some(at(7)));
        assert_eq!(c.if_match, None);
        let mut head = HeadObjectInput::builder()
            .bucket("b".into())
            .key("k".into())
            .build()
            .unwrap();
        head.if_match = Some(ETagCondition::Any);
        head.if_modified_since = Some(at(9));
        let c = Conditions::of_head(&head);
        assert_eq!(c.if_match, Some(ETagCondition::Any));
        assert_eq!(c.if_modified_since, Some(at(9)));
        // A copy's conditions are its copy-source ones, not the target's.
        let mut copy = CopyObjectInput::builder()
            .bucket("b".into())
            .key("k".into())
            .copy_source(s3s::dto::CopySource::Bucket {
                bucket: "src".into(),
                key: "s".into(),
                version_id: None,
            })
            .build()
            .unwrap();
        assert!(Conditions::of_copy_source(&copy).is_empty());
        copy.copy_source_if_match = tag("x");
        copy.copy_source_if_none_match = tag("y");
        copy.copy_source_if_modified_since = Some(at(1));
        copy.copy_source_if_unmodified_since = Some(at(2));
        assert_eq!(
            Conditions::of_copy_source(&copy),
            Conditions {
                if_match: tag("x"),
                if_none_match: tag("y"),
                if_modified_since: Some(at(1)),
                if_unmodified_since: Some(at(2)),
            }
        );
    }

    #[test]
    fn verdicts_become_s3_errors_with_their_status() {
        let etag = ETag::Strong(ETAG.into());
        let c = Conditions {
            if_none_match: tag(ETAG),
            ..Default::default()
        };
        let e = c.check(&etag, &at(1000), Read).unwrap_err();
        assert_eq!(*e.code(), S3ErrorCode::NotModified);
        assert_eq!(e.status_code(), Some(StatusCode::NOT_MODIFIED));
        let e = c.check(&etag, &at(1000), Other).unwrap_err();
        assert_eq!(*e.code(), S3ErrorCode::PreconditionFailed);
        assert_eq!(e.status_code(), Some(StatusCode::PRECONDITION_FAILED));
        assert!(Conditions::default().check(&etag, &at(1000), Read).is_ok());
    }
}
