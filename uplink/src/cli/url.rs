//! `sj://bucket/key` URLs and the places `cp` copies between.

use std::path::PathBuf;

use anyhow::{Result, bail};

/// A parsed `sj://BUCKET[/KEY]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SjUrl {
    pub bucket: String,
    /// Object key or prefix; may be empty.
    pub key: String,
}

impl SjUrl {
    /// Parses `sj://BUCKET[/KEY]`.
    pub(crate) fn parse(s: &str) -> Result<Self> {
        let Some(rest) = s.strip_prefix("sj://") else {
            bail!("invalid location {s:?}: expected sj://BUCKET[/KEY]");
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("invalid location {s:?}: missing bucket name after sj://");
        }
        Ok(SjUrl {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }

    /// Parses a URL that must name a bucket only.
    pub(crate) fn parse_bucket(s: &str) -> Result<String> {
        let u = Self::parse(s)?;
        if !u.key.is_empty() {
            bail!("invalid bucket location {s:?}: expected sj://BUCKET without a key");
        }
        Ok(u.bucket)
    }

    /// Parses a URL that must name an object.
    pub(crate) fn parse_object(s: &str) -> Result<Self> {
        let u = Self::parse(s)?;
        if u.key.is_empty() || u.key.ends_with('/') {
            bail!("invalid object location {s:?}: expected sj://BUCKET/KEY");
        }
        Ok(u)
    }
}

/// Where `cp` reads from or writes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    /// Standard input or output (`-`).
    Std,
    /// A local path.
    Local(PathBuf),
    /// An object or prefix in a bucket.
    Remote(SjUrl),
}

impl Location {
    /// Parses a `cp` argument.
    pub(crate) fn parse(s: &str) -> Result<Self> {
        if s == "-" {
            Ok(Location::Std)
        } else if s.starts_with("sj://") {
            Ok(Location::Remote(SjUrl::parse(s)?))
        } else if s.contains("://") {
            bail!("invalid location {s:?}: only local paths, '-' and sj://BUCKET/KEY are supported")
        } else {
            Ok(Location::Local(PathBuf::from(s)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_buckets_and_keys() {
        assert_eq!(
            SjUrl::parse("sj://b").unwrap(),
            SjUrl {
                bucket: "b".into(),
                key: "".into()
            }
        );
        assert_eq!(
            SjUrl::parse("sj://b/").unwrap(),
            SjUrl {
                bucket: "b".into(),
                key: "".into()
            }
        );
        assert_eq!(
            SjUrl::parse("sj://b/dir/file.txt").unwrap(),
            SjUrl {
                bucket: "b".into(),
                key: "dir/file.txt".into()
            }
        );
        assert_eq!(SjUrl::parse_bucket("sj://b").unwrap(), "b");
        assert_eq!(SjUrl::parse_object("sj://b/k").unwrap().key, "k");
    }

    #[test]
    fn rejects_bad_urls_with_a_clear_message() {
        for bad in ["b/k", "s3://b/k", "sj://", "sj:///k"] {
            let e = SjUrl::parse(bad).unwrap_err().to_string();
            assert!(e.contains("sj://"), "{bad}: {e}");
        }
        assert!(SjUrl::parse_bucket("sj://b/k").is_err());
        assert!(SjUrl::parse_object("sj://b").is_err());
        assert!(SjUrl::parse_object("sj://b/dir/").is_err());
    }

    #[test]
    fn locations() {
        assert_eq!(Location::parse("-").unwrap(), Location::Std);
        assert_eq!(
            Location::parse("./a.txt").unwrap(),
            Location::Local("./a.txt".into())
        );
        assert!(matches!(
            Location::parse("sj://b/k").unwrap(),
            Location::Remote(_)
        ));
        assert!(Location::parse("http://x/y").is_err());
        assert!(Location::parse("sj://").is_err());
    }
}
