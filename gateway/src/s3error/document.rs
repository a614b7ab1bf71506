//! The `<Error>` document of an S3 error response: what a client reads.
//! s3s renders the errors of the operations and of its own checks
//! (signatures, parsing); the HTTP layer parses that document, completes
//! it (standard message, the key or bucket named, the request id) and
//! renders it again; its own errors (throttling, CORS preflight) start
//! here. Rendering goes through s3s's XML writer, which escapes text.

use http::{HeaderValue, Response, StatusCode, header};
use s3s::S3ErrorCode;
use s3s::xml::{DeError, DeResult, Deserializer, SerResult, Serializer};

use super::codes::{standard_message, status_of};

/// An S3 error document.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorDocument {
    /// `<Code>`.
    pub code: S3ErrorCode,
    /// `<Message>`.
    pub message: Option<String>,
    /// Elements other than the ones named here, in order (name, text).
    pub other: Vec<(String, String)>,
    /// `<Key>`: the key a NoSuchKey is about.
    pub key: Option<String>,
    /// `<BucketName>`: the bucket a NoSuchBucket is about.
    pub bucket_name: Option<String>,
    /// `<RequestId>`.
    pub request_id: Option<String>,
}

impl ErrorDocument {
    /// A document with `code` and `message`.
    pub fn new(code: S3ErrorCode, message: impl Into<String>) -> ErrorDocument {
        ErrorDocument {
            code,
            message: Some(message.into()),
            other: Vec::new(),
            key: None,
            bucket_name: None,
            request_id: None,
        }
    }

    /// Reads an `<Error>` document (as s3s renders them); `None` when
    /// `xml` is not one.
    pub fn parse(xml: &[u8]) -> Option<ErrorDocument> {
        let mut d = Deserializer::new(xml);
        let doc = d.named_element("Error", read_fields).ok()??;
        d.expect_eof().ok()?;
        Some(doc)
    }

    /// The document as the client gets it: S3's standard message when
    /// none was given, the key of a NoSuchKey and the bucket of a
    /// NoSuchBucket (those the request addressed), and `request_id`
    /// unless one is there already.
    pub fn completed(
        mut self,
        request_id: &str,
        bucket: Option<&str>,
        key: Option<&str>,
    ) -> ErrorDocument {
        if self.message.is_none() {
            self.message = standard_message(&self.code).map(str::to_string);
        }
        match self.code {
            S3ErrorCode::NoSuchKey if self.key.is_none() => {
                self.key = key.map(str::to_string);
            }
            S3ErrorCode::NoSuchBucket if self.bucket_name.is_none() => {
                self.bucket_name = bucket.map(str::to_string);
            }
            _ => {}
        }
        if self.request_id.is_none() {
            self.request_id = Some(request_id.to_string());
        }
        self
    }

    /// The document with `request_id`.
    pub fn with_request_id(mut self, request_id: &str) -> ErrorDocument {
        self.request_id = Some(request_id.to_string());
        self
    }

    /// The XML text: a declaration and the `<Error>` element.
    pub fn to_xml(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(256);
        let mut ser = Serializer::new(&mut buf);
        // Writing into a Vec cannot fail.
        if let Err(e) = ser
            .decl()
            .and_then(|()| s3s::xml::Serialize::serialize(self, &mut ser))
        {
            tracing::error!(error = %e, "rendering an S3 error document failed");
        }
        buf
    }

    /// A response carrying the document, with the status of its code.
    pub fn into_response(self) -> Response<s3s::Body> {
        let status = status_of(&self.code);
        self.into_response_with(status)
    }

    /// A response carrying the document with `status`.
    pub fn into_response_with(self, status: StatusCode) -> Response<s3s::Body> {
        let body = self.to_xml();
        let mut resp = Response::new(s3s::Body::from(body));
        *resp.status_mut() = status;
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        resp
    }
}

/// The children of `<Error>`; `None` without a `<Code>`.
fn read_fields(d: &mut Deserializer<'_>) -> DeResult<Option<ErrorDocument>> {
    let mut code = None;
    let mut doc = ErrorDocument::new(S3ErrorCode::InternalError, "");
    doc.message = None;
    d.for_each_element(|d, name| {
        let text = d.text(|t| Ok(t.to_string()))?;
        match name {
            b"Code" => {
                code =
                    Some(S3ErrorCode::from_bytes(text.as_bytes()).ok_or(DeError::InvalidContent)?);
            }
            b"Message" => doc.message = Some(text),
            b"Key" => doc.key = Some(text),
            b"BucketName" => doc.bucket_name = Some(text),
            b"RequestId" => doc.request_id = Some(text),
            other => doc
                .other
                .push((String::from_utf8_lossy(other).into_owned(), text)),
        }
        Ok(())
    })?;
    Ok(code.map(|code| ErrorDocument { code, ..doc }))
}

impl s3s::xml::Serialize for ErrorDocument {
    fn serialize<W: std::io::Write>(&self, s: &mut Serializer<W>) -> SerResult {
        s.content("Error", self)
    }
}

impl s3s::xml::SerializeContent for ErrorDocument {
    fn serialize_content<W: std::io::Write>(&self, s: &mut Serializer<W>) -> SerResult {
        s.content("Code", self.code.as_str())?;
        if let Some(m) = &self.message {
            s.content("Message", m)?;
        }
        for (name, text) in &self.other {
            s.content(name, text)?;
        }
        if let Some(k) = &self.key {
            s.content("Key", k)?;
        }
        if let Some(b) = &self.bucket_name {
            s.content("BucketName", b)?;
        }
        if let Some(id) = &self.request_id {
            s.content("RequestId", id)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use s3s::S3Error;

    use super::*;
    use crate::s3error::ExtraCode;

    /// The body s3s renders for `e`.
    async fn s3s_body(e: S3Error) -> Vec<u8> {
        use http_body_util::BodyExt;
        let resp = e.to_http_response().unwrap();
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    #[tokio::test]
    async fn s3s_documents_parse_and_complete() {
        let bare = s3s_body(S3Error::new(S3ErrorCode::NoSuchKey)).await;
        let doc =
            ErrorDocument::parse(&bare)
                .unwrap()
                .completed("REQ1", Some("bkt"), Some("a/<b>&c"));
        assert_eq!(doc.code, S3ErrorCode::NoSuchKey);
        assert_eq!(
            doc.message.as_deref(),
            Some("The specified key does not exist.")
        );
        assert_eq!(doc.key.as_deref(), Some("a/<b>&c"));
        assert_eq!(doc.bucket_name, None, "only NoSuchBucket names the bucket");
        assert_eq!(doc.request_id.as_deref(), Some("REQ1"));
        let xml = String::from_utf8(doc.to_xml()).unwrap();
        assert!(xml.starts_with("<?xml"), "{xml}");
        assert!(xml.contains("<Key>a/&lt;b&gt;&amp;c</Key>"), "{xml}");
        assert!(
            xml.ends_with("<RequestId>REQ1</RequestId></Error>"),
            "{xml}"
        );
        // What it renders parses back to the same document.
        assert_eq!(ErrorDocument::parse(xml.as_bytes()), Some(doc));
    }

    #[tokio::test]
    async fn what_the_error_says_already_is_kept() {
        let mut e = S3Error::with_message(S3ErrorCode::NoSuchBucket, "gone <now>");
        e.set_request_id("OLD");
        let doc = ErrorDocument::parse(&s3s_body(e).await).unwrap().completed(
            "NEW",
            Some("b&b"),
            Some("k"),
        );
        assert_eq!(doc.message.as_deref(), Some("gone <now>"));
        assert_eq!(doc.bucket_name.as_deref(), Some("b&b"));
        assert_eq!(doc.key, None);
        assert_eq!(doc.request_id.as_deref(), Some("OLD"));
        // Codes without a standard message stay without one; extra codes
        // keep their names.
        let doc =
            ErrorDocument::parse(&s3s_body(S3Error::new(ExtraCode::QuotaExceeded.code())).await)
                .unwrap()
                .completed("R", None, None);
        assert_eq!(doc.code.as_str(), "QuotaExceeded");
        assert_eq!(doc.message, None);
    }

    #[test]
    fn messages_are_escaped_and_unknown_elements_kept() {
        let xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>a &amp; b</Message><Resource>/x</Resource></Error>";
        let doc = ErrorDocument::parse(xml).unwrap();
        assert_eq!(doc.message.as_deref(), Some("a & b"));
        assert_eq!(doc.other, vec![("Resource".to_string(), "/x".to_string())]);
        let text = String::from_utf8(doc.with_request_id("R").to_xml()).unwrap();
        assert!(
            text.contains(
                "<Message>a &amp; b</Message><Resource>/x</Resource><RequestId>R</RequestId>"
            ),
            "{text}"
        );
    }

    #[test]
    fn other_bodies_are_not_documents() {
        for body in [
            &b""[..],
            b"not xml",
            b"<Other><Code>X</Code></Other>",
            b"<Error><Message>no code</Message></Error>",
            b"<Error><Code>X</Code><Nested><A>1</A></Nested></Error>",
            b"<Error><Code>X</Code>",
        ] {
            assert_eq!(
                ErrorDocument::parse(body),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[tokio::test]
    async fn responses_carry_the_status_of_the_code() {
        use http_body_util::BodyExt;
        let resp = ErrorDocument::new(ExtraCode::AccessForbidden.code(), "no rule")
            .with_request_id("R")
            .into_response();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/xml");
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let doc = ErrorDocument::parse(&body).unwrap();
        assert_eq!(doc.code.as_str(), "AccessForbidden");
        assert_eq!(doc.message.as_deref(), Some("no rule"));
        let resp = ErrorDocument::new(S3ErrorCode::SlowDown, "slow").into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
