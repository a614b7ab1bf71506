//! How S3 object headers live in an object's (encrypted) custom metadata:
//! user metadata under its own name, the standard headers under their
//! lower-case header names, and the S3 ETag under `s3:etag`.

use std::collections::BTreeMap;

use s3s::dto::{self, ETag, Timestamp, TimestampFormat};

/// Custom-metadata key of the S3 ETag.
pub const ETAG: &str = "s3:etag";
const CONTENT_TYPE: &str = "content-type";
const CACHE_CONTROL: &str = "cache-control";
const CONTENT_DISPOSITION: &str = "content-disposition";
const CONTENT_ENCODING: &str = "content-encoding";
const CONTENT_LANGUAGE: &str = "content-language";
const EXPIRES: &str = "expires";
const SYSTEM: [&str; 7] = [
    ETAG,
    CONTENT_TYPE,
    CACHE_CONTROL,
    CONTENT_DISPOSITION,
    CONTENT_ENCODING,
    CONTENT_LANGUAGE,
    EXPIRES,
];

/// The standard headers an object keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    /// Content-Type.
    pub content_type: Option<String>,
    /// Cache-Control.
    pub cache_control: Option<String>,
    /// Content-Disposition.
    pub content_disposition: Option<String>,
    /// Content-Encoding.
    pub content_encoding: Option<String>,
    /// Content-Language.
    pub content_language: Option<String>,
    /// Expires (HTTP date text).
    pub expires: Option<String>,
}

/// An object's S3 view of its custom metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Standard headers.
    pub headers: Headers,
    /// `x-amz-meta-*` values, by name without the prefix.
    pub user: BTreeMap<String, String>,
    /// ETag without quotes.
    pub etag: Option<String>,
}

impl ObjectMeta {
    /// Splits stored custom metadata.
    pub fn from_custom(custom: &BTreeMap<String, String>) -> ObjectMeta {
        let get = |k: &str| custom.get(k).cloned();
        ObjectMeta {
            headers: Headers {
                content_type: get(CONTENT_TYPE),
                cache_control: get(CACHE_CONTROL),
                content_disposition: get(CONTENT_DISPOSITION),
                content_encoding: get(CONTENT_ENCODING),
                content_language: get(CONTENT_LANGUAGE),
                expires: get(EXPIRES),
            },
            user: custom
                .iter()
                .filter(|(k, _)| !SYSTEM.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            etag: get(ETAG),
        }
    }

    /// The custom metadata to store.
    pub fn to_custom(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .user
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        let h = &self.headers;
        for (k, v) in [
            (CONTENT_TYPE, &h.content_type),
            (CACHE_CONTROL, &h.cache_control),
            (CONTENT_DISPOSITION, &h.content_disposition),
            (CONTENT_ENCODING, &h.content_encoding),
            (CONTENT_LANGUAGE, &h.content_language),
            (EXPIRES, &h.expires),
            (ETAG, &self.etag),
        ] {
            if let Some(v) = v {
                out.insert(k.to_string(), v.clone());
            }
        }
        out
    }

    /// The ETag as s3s wants it (objects written outside the gateway have
    /// none; they get an empty strong tag).
    pub fn etag(&self) -> ETag {
        ETag::Strong(self.etag.clone().unwrap_or_default())
    }

    /// The user metadata for a response, if any.
    pub fn user_metadata(&self) -> Option<dto::Metadata> {
        (!self.user.is_empty()).then(|| {
            self.user
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
    }

    /// Expires as a timestamp, if it parses.
    pub fn expires(&self) -> Option<Timestamp> {
        let e = self.headers.expires.as_deref()?;
        Timestamp::parse(TimestampFormat::HttpDate, e).ok()
    }
}

/// Formats a timestamp as an HTTP date (for storing Expires).
pub fn http_date(t: &Timestamp) -> Option<String> {
    let mut buf = Vec::new();
    t.format(TimestampFormat::HttpDate, &mut buf).ok()?;
    String::from_utf8(buf).ok()
}

/// Hex of an MD5 digest.
pub fn hex_md5(digest: &[u8]) -> String {
    satstore_common::hex::encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_metadata_round_trips_and_keeps_user_keys_apart() {
        let meta = ObjectMeta {
            headers: Headers {
                content_type: Some("text/plain".into()),
                cache_control: Some("no-cache".into()),
                expires: Some("Thu, 01 Dec 1994 16:00:00 GMT".into()),
                ..Default::default()
            },
            user: [("Color".to_string(), "blue".to_string())].into(),
            etag: Some("abc".into()),
        };
        let custom = meta.to_custom();
        assert_eq!(custom.get("s3:etag").map(String::as_str), Some("abc"));
        assert_eq!(custom.get("color").map(String::as_str), Some("blue"));
        let back = ObjectMeta::from_custom(&custom);
        assert_eq!(back.headers, meta.headers);
        assert_eq!(back.user.get("color").map(String::as_str), Some("blue"));
        assert_eq!(back.user.len(), 1);
        assert!(back.expires().is_some());
        assert_eq!(back.etag(), ETag::Strong("abc".into()));
    }

    #[test]
    fn objects_from_outside_the_gateway_have_user_metadata_only() {
        let custom: BTreeMap<String, String> = [("a".to_string(), "1".to_string())].into();
        let meta = ObjectMeta::from_custom(&custom);
        assert_eq!(meta.etag, None);
        assert_eq!(meta.user_metadata().map(|m| m.len()), Some(1));
    }
}
