//! The `response-*` query parameters of GetObject and HeadObject
//! (`response-content-type`, `-content-disposition`, `-cache-control`,
//! `-expires`, `-content-language`, `-content-encoding`): each replaces the
//! header the object was stored with in this one response. The gateway
//! honours them on every request it serves (signed or, through a public
//! ACL, anonymous).

use s3s::dto::{GetObjectInput, HeadObjectInput, Timestamp};

use crate::meta::ObjectMeta;

/// Content-Type of an object stored without one.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// The `response-*` overrides of one request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResponseOverrides {
    /// `response-content-type`.
    pub content_type: Option<String>,
    /// `response-cache-control`.
    pub cache_control: Option<String>,
    /// `response-content-disposition`.
    pub content_disposition: Option<String>,
    /// `response-content-encoding`.
    pub content_encoding: Option<String>,
    /// `response-content-language`.
    pub content_language: Option<String>,
    /// `response-expires`.
    pub expires: Option<Timestamp>,
}

/// The headers a GET or HEAD answers with.
#[derive(Clone, Debug, PartialEq)]
pub struct ShownHeaders {
    /// Content-Type (always sent).
    pub content_type: String,
    /// Cache-Control.
    pub cache_control: Option<String>,
    /// Content-Disposition.
    pub content_disposition: Option<String>,
    /// Content-Encoding.
    pub content_encoding: Option<String>,
    /// Content-Language.
    pub content_language: Option<String>,
    /// Expires.
    pub expires: Option<Timestamp>,
}

impl ResponseOverrides {
    /// The overrides of a GetObject request.
    pub fn of_get(i: &GetObjectInput) -> ResponseOverrides {
        ResponseOverrides {
            content_type: i.response_content_type.clone(),
            cache_control: i.response_cache_control.clone(),
            content_disposition: i.response_content_disposition.clone(),
            content_encoding: i.response_content_encoding.clone(),
            content_language: i.response_content_language.clone(),
            expires: i.response_expires.clone(),
        }
    }

    /// The overrides of a HeadObject request.
    pub fn of_head(i: &HeadObjectInput) -> ResponseOverrides {
        ResponseOverrides {
            content_type: i.response_content_type.clone(),
            cache_control: i.response_cache_control.clone(),
            content_disposition: i.response_content_disposition.clone(),
            content_encoding: i.response_content_encoding.clone(),
            content_language: i.response_content_language.clone(),
            expires: i.response_expires.clone(),
        }
    }

    /// The headers to answer with for an object with `meta`: each
    /// override given, else what the object was stored with.
    pub fn apply(self, meta: &ObjectMeta) -> ShownHeaders {
        let h = &meta.headers;
        ShownHeaders {
            content_type: self
                .content_type
                .or_else(|| h.content_type.clone())
                .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string()),
            cache_control: self.cache_control.or_else(|| h.cache_control.clone()),
            content_disposition: self
                .content_disposition
                .or_else(|| h.content_disposition.clone()),
            content_encoding: self.content_encoding.or_else(|| h.content_encoding.clone()),
            content_language: self.content_language.or_else(|| h.content_language.clone()),
            expires: self.expires.or_else(|| meta.expires()),
        }
    }
}

#[cfg(test)]
mod tests {
    use s3s::dto::TimestampFormat;

    use super::*;
    use crate::meta::Headers;

    fn stored() -> ObjectMeta {
        ObjectMeta {
            headers: Headers {
                content_type: Some("text/plain".into()),
                cache_control: Some("no-cache".into()),
                content_disposition: Some("inline".into()),
                content_encoding: Some("gzip".into()),
                content_language: Some("en".into()),
                expires: Some("Thu, 01 Dec 1994 16:00:00 GMT".into()),
            },
            ..Default::default()
        }
    }

    fn date(text: &str) -> Timestamp {
        Timestamp::parse(TimestampFormat::HttpDate, text).unwrap()
    }

    #[test]
    fn without_overrides_the_stored_headers_show() {
        let shown = ResponseOverrides::default().apply(&stored());
        assert_eq!(
            shown,
            ShownHeaders {
                content_type: "text/plain".into(),
                cache_control: Some("no-cache".into()),
                content_disposition: Some("inline".into()),
                content_encoding: Some("gzip".into()),
                content_language: Some("en".into()),
                expires: Some(date("Thu, 01 Dec 1994 16:00:00 GMT")),
            }
        );
    }

    #[test]
    fn each_override_replaces_its_header_only() {
        let o = ResponseOverrides {
            content_type: Some("image/png".into()),
            content_disposition: Some("attachment; filename=\"a.png\"".into()),
            expires: Some(date("Fri, 02 Dec 1994 16:00:00 GMT")),
            ..Default::default()
        };
        let shown = o.apply(&stored());
        assert_eq!(shown.content_type, "image/png");
        assert_eq!(
            shown.content_disposition.as_deref(),
            Some("attachment; filename=\"a.png\"")
        );
        assert_eq!(shown.expires, Some(date("Fri, 02 Dec 1994 16:00:00 GMT")));
        assert_eq!(shown.cache_control.as_deref(), Some("no-cache"));
        assert_eq!(shown.content_encoding.as_deref(), Some("gzip"));
        assert_eq!(shown.content_language.as_deref(), Some("en"));
    }

    #[test]
    fn an_object_stored_bare_is_octet_stream_unless_overridden() {
        let bare = ObjectMeta::default();
        let shown = ResponseOverrides::default().apply(&bare);
        assert_eq!(shown.content_type, DEFAULT_CONTENT_TYPE);
        assert_eq!(shown.cache_control, None);
        assert_eq!(shown.expires, None);
        let o = ResponseOverrides {
            cache_control: Some("max-age=60".into()),
            content_language: Some("fr".into()),
            content_encoding: Some("br".into()),
            ..Default::default()
        };
        let shown = o.apply(&bare);
        assert_eq!(shown.cache_control.as_deref(), Some("max-age=60"));
        assert_eq!(shown.content_language.as_deref(), Some("fr"));
        assert_eq!(shown.content_encoding.as_deref(), Some("br"));
        assert_eq!(shown.content_type, DEFAULT_CONTENT_TYPE);
    }

    #[test]
    fn get_and_head_inputs_give_their_overrides() {
        let mut get = GetObjectInput::builder()
            .bucket("b".into())
            .key("k".into())
            .build()
            .unwrap();
        get.response_content_type = Some("text/csv".into());
        get.response_content_language = Some("de".into());
        let o = ResponseOverrides::of_get(&get);
        assert_eq!(o.content_type.as_deref(), Some("text/csv"));
        assert_eq!(o.content_language.as_deref(), Some("de"));
        assert_eq!(o.cache_control, None);
        let mut head = HeadObjectInput::builder()
            .bucket("b".into())
            .key("k".into())
            .build()
            .unwrap();
        head.response_cache_control = Some("no-store".into());
        head.response_expires = Some(date("Fri, 02 Dec 1994 16:00:00 GMT"));
        let o = ResponseOverrides::of_head(&head);
        assert_eq!(o.cache_control.as_deref(), Some("no-store"));
        assert!(o.expires.is_some());
        assert_eq!(o.content_type, None);
    }
}
