//! The HTTP layer around s3s: request ids, a span per request, CORS
//! preflight and response headers, concurrency limit, an idle timeout on
//! request bodies, metrics, the request id inside every error body, and
//! the (opt-in, rate-limited) registration endpoint.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use s3s::service::S3Service;
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::cors::CorsRules;
use crate::state::Gateway;

/// Filled in by the access check with the S3 operation's name.
#[derive(Clone, Default)]
pub struct OperationSlot(pub Arc<Mutex<Option<String>>>);

impl OperationSlot {
    fn name(&self) -> String {
        self.0
            .lock()
            .ok()
            .and_then(|g| g.clone())
            .unwrap_or_else(|| "Unknown".to_string())
    }
}

/// The client's address, put into each request's extensions by the server.
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub SocketAddr);

/// Serves one HTTP request.
#[derive(Clone)]
pub struct Handler {
    pub(crate) s3: S3Service,
    pub(crate) gw: Gateway,
    pub(crate) limit: Arc<Semaphore>,
    pub(crate) domains: Arc<Vec<String>>,
    pub(crate) allow_registration: bool,
    pub(crate) registrations: Arc<crate::ratelimit::RateLimiter>,
    pub(crate) body_idle_timeout: Duration,
}

fn request_id() -> String {
    satstore_common::hex::encode(&rand::random::<[u8; 8]>()).to_uppercase()
}

fn xml_error(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
) -> Response<s3s::Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
    );
    let mut resp = Response::new(s3s::Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    resp
}

impl Handler {
    /// The bucket a request addresses (virtual host or first path segment).
    fn bucket_of(&self, headers: &HeaderMap, path: &str) -> Option<String> {
        if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok())
            && let Some(b) = crate::host::bucket_of(&self.domains, host)
        {
            return Some(b.to_string());
        }
        let first = path.trim_start_matches('/').split('/').next()?;
        (!first.is_empty()).then(|| first.to_string())
    }

    /// The object key a request addresses, if any (percent-decoded).
    fn key_of(&self, headers: &HeaderMap, path: &str) -> Option<String> {
        let path = path.trim_start_matches('/');
        let virtual_host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|h| crate::host::bucket_of(&self.domains, h).is_some());
        let raw = if virtual_host {
            path
        } else {
            path.split_once('/')?.1
        };
        (!raw.is_empty()).then(|| percent_decode(raw))
    }

    async fn cors_rules(&self, bucket: Option<&str>) -> Option<CorsRules> {
        let text = self.gw.store().cors_of_claimed(bucket?).await.ok()??;
        CorsRules::from_text(&text)
    }

    /// Answers an OPTIONS preflight from the bucket's CORS rules.
    async fn preflight(
        &self,
        headers: &HeaderMap,
        bucket: Option<&str>,
        id: &str,
    ) -> Response<s3s::Body> {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let method = headers
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|v| v.to_str().ok());
        let (Some(origin), Some(method)) = (origin, method) else {
            return xml_error(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Insufficient information. Origin request header needed.",
                id,
            );
        };
        let requested: Vec<String> = headers
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .map(|h| h.trim().to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let rules = self.cors_rules(bucket).await;
        let Some(rule) = rules
            .as_ref()
            .and_then(|r| r.find(origin, method, &requested))
        else {
            return xml_error(
                StatusCode::FORBIDDEN,
                "AccessForbidden",
                "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
                id,
            );
        };
        let mut resp = Response::new(s3s::Body::empty());
        let h = resp.headers_mut();
        let set = |h: &mut HeaderMap, name: header::HeaderName, v: &str| {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(name, v);
            }
        };
        set(
            h,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            &rule.allow_origin(origin),
        );
        set(
            h,
            header::ACCESS_CONTROL_ALLOW_METHODS,
            &rule.methods.join(", "),
        );
        if !requested.is_empty() {
            set(
                h,
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                &requested.join(", "),
            );
        }
        if !rule.expose.is_empty() {
            set(
                h,
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                &rule.expose.join(", "),
            );
        }
        if let Some(age) = rule.max_age {
            set(h, header::ACCESS_CONTROL_MAX_AGE, &age.to_string());
        }
        if rule.allow_origin(origin) != "*" {
            set(h, header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
        }
        set(
            h,
            header::VARY,
            "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        );
        resp
    }

    /// Adds CORS headers to an actual (non-preflight) response.
    async fn add_cors(
        &self,
        resp: &mut Response<s3s::Body>,
        origin: &str,
        method: &Method,
        bucket: Option<&str>,
    ) {
        let Some(rules) = self.cors_rules(bucket).await else {
            return;
        };
        let Some(rule) = rules.find(origin, method.as_str(), &[]) else {
            return;
        };
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&rule.allow_origin(origin)) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        if let Ok(v) = HeaderValue::from_str(&rule.methods.join(", ")) {
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v);
        }
        if !rule.expose.is_empty()
            && let Ok(v) = HeaderValue::from_str(&rule.expose.join(", "))
        {
            h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, v);
        }
        if rule.allow_origin(origin) != "*" {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }

    /// `POST /_satstore/register`: registers an access grant (JSON body,
    /// see [`crate::register::RegisterRequest`]) and answers the new
    /// credentials as JSON. Off unless `allow_registration`; rate-limited
    /// per client address; the grant must name a trusted satellite that
    /// accepts it; an email given here is kept unconfirmed.
    async fn register(&self, req: Request<hyper::body::Incoming>, id: &str) -> Response<s3s::Body> {
        let json = |status: StatusCode, body: serde_json::Value| {
            let mut resp = Response::new(s3s::Body::from(body.to_string()));
            *resp.status_mut() = status;
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        };
        let error = |status: StatusCode, msg: String| {
            json(
                status,
                serde_json::json!({ "error": msg, "request_id": id }),
            )
        };
        if !self.allow_registration {
            return error(
                StatusCode::FORBIDDEN,
                "registration over HTTP is turned off on this gateway (allow_registration); \
                 ask its operator to run `gateway register`"
                    .into(),
            );
        }
        if req.method() != Method::POST {
            return error(StatusCode::METHOD_NOT_ALLOWED, "use POST".into());
        }
        let client = req
            .extensions()
            .get::<PeerAddr>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |p| p.0.ip());
        if let Err(wait) = self.registrations.check(client) {
            let mut resp = error(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many registrations; retry in {} s",
                    wait.as_secs().max(1)
                ),
            );
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
            return resp;
        }
        let body = crate::idle::IdleTimeoutBody::new(req.into_body(), self.body_idle_timeout);
        let body = match http_body_util::Limited::new(body, 64 * 1024)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("reading the body: {e}")),
        };
        let parsed: crate::register::RegisterRequest = match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("expected JSON {{\"access_grant\": ...}}: {e}"),
                );
            }
        };
        let registration = crate::register::Registration {
            grant: &parsed.access_grant,
            email: parsed.email.as_deref(),
            display_name: parsed.display_name.as_deref(),
            email_confirmed: false,
        };
        match self.gw.register(&registration).await {
            Ok(c) => json(StatusCode::OK, serde_json::to_value(&c).unwrap_or_default()),
            Err(crate::GatewayError::Conflict(m)) => {
                error(StatusCode::CONFLICT, format!("already registered: {m}"))
            }
            Err(
                e @ (crate::GatewayError::Uplink(_)
                | crate::GatewayError::InvalidArgument(_)
                | crate::GatewayError::UntrustedSatellite(_)
                | crate::GatewayError::GrantRefused(_)),
            ) => {
                let unavailable = matches!(&e, crate::GatewayError::Uplink(u)
                    if u.kind() == uplink::ErrorKind::Unavailable);
                if unavailable {
                    error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
                } else {
                    error(StatusCode::BAD_REQUEST, e.to_string())
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "registration failed");
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "registration failed".into(),
                )
            }
        }
    }

    /// Serves one request.
    pub async fn handle(
        self,
        req: Request<hyper::body::Incoming>,
    ) -> Result<Response<s3s::Body>, std::convert::Infallible> {
        let id = request_id();
        let span = tracing::info_span!("s3", request_id = %id, method = %req.method(), path = %req.uri().path());
        Ok(self.handle_inner(req, id).instrument(span).await)
    }

    async fn handle_inner(
        self,
        req: Request<hyper::body::Incoming>,
        id: String,
    ) -> Response<s3s::Body> {
        let started = Instant::now();
        let method = req.method().clone();
        let bucket = self.bucket_of(req.headers(), req.uri().path());
        let key = self.key_of(req.headers(), req.uri().path());
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if let Some(n) = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            self.gw.inner.metrics.add_in(n);
        }
        let (operation, mut resp) = if req.uri().path() == crate::register::REGISTER_PATH {
            ("Register".to_string(), self.register(req, &id).await)
        } else if method == Method::OPTIONS {
            (
                "OPTIONS".to_string(),
                self.preflight(req.headers(), bucket.as_deref(), &id).await,
            )
        } else {
            match self.limit.clone().try_acquire_owned() {
                Err(_) => (
                    "Throttled".to_string(),
                    xml_error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "SlowDown",
                        "Please reduce your request rate.",
                        &id,
                    ),
                ),
                Ok(permit) => {
                    let slot = OperationSlot::default();
                    let timeout = self.body_idle_timeout;
                    let mut req = req.map(|b| {
                        s3s::Body::http_body_unsync(crate::idle::IdleTimeoutBody::new(b, timeout))
                    });
                    req.extensions_mut().insert(slot.clone());
                    let resp = match self.s3.call(req).await {
                        Ok(resp) => resp,
                        Err(e) => {
                            tracing::error!(error = ?e, "s3 service failed");
                            xml_error(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "InternalError",
                                "We encountered an internal error. Please try again.",
                                &id,
                            )
                        }
                    };
                    drop(permit);
                    (slot.name(), resp)
                }
            }
        };
        if resp.status().as_u16() >= 400 {
            resp = with_request_id(resp, &id, bucket.as_deref(), key.as_deref()).await;
        }
        if let Some(origin) = origin.as_deref()
            && method != Method::OPTIONS
        {
            self.add_cors(&mut resp, origin, &method, bucket.as_deref())
                .await;
        }
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert("x-amz-request-id", v.clone());
            resp.headers_mut().insert("x-amz-id-2", v);
        }
        resp.headers_mut()
            .insert(header::SERVER, HeaderValue::from_static("Satstore"));
        if let Some(n) = resp
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            self.gw.inner.metrics.add_out(n);
        }
        let status = resp.status().as_u16();
        self.gw
            .inner
            .metrics
            .observe(&operation, status, started.elapsed().as_secs_f64());
        tracing::info!(operation = %operation, status, elapsed_ms = started.elapsed().as_millis() as u64, "request");
        resp
    }
}

/// The value of one ASCII hex digit.
fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes %XX escapes (anything else, invalid escapes included, stays as
/// it is; bytes that do not form UTF-8 become U+FFFD). Works on bytes, so
/// no input can make it slice inside a character.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(&h), Some(&l)) = (b.get(i + 1), b.get(i + 2))
            && let (Some(h), Some(l)) = (hex_digit(h), hex_digit(l))
        {
            out.push(h << 4 | l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes text for an XML element.
fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Completes an S3 error body: a standard `<Message>` when s3s gave none,
/// `<Key>` / `<BucketName>` for NoSuchKey / NoSuchBucket, and the
/// `<RequestId>` (errors raised inside s3s, such as signature failures,
/// carry none).
async fn with_request_id(
    resp: Response<s3s::Body>,
    id: &str,
    bucket: Option<&str>,
    key: Option<&str>,
) -> Response<s3s::Body> {
    let is_xml = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("xml"));
    if !is_xml {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes: Bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if !text.contains("<Message>")
        && let Some(code) = text
            .split("<Code>")
            .nth(1)
            .and_then(|r| r.split("</Code>").next())
        && let Some(msg) = standard_message(code)
    {
        text = text.replacen("</Code>", &format!("</Code><Message>{msg}</Message>"), 1);
    }
    let code = text
        .split("<Code>")
        .nth(1)
        .and_then(|r| r.split("</Code>").next())
        .unwrap_or_default()
        .to_string();
    let extra = match (code.as_str(), bucket, key) {
        ("NoSuchKey", _, Some(k)) if !text.contains("<Key>") => {
            format!("<Key>{}</Key>", xml_escape(k))
        }
        ("NoSuchBucket", Some(b), _) if !text.contains("<BucketName>") => {
            format!("<BucketName>{}</BucketName>", xml_escape(b))
        }
        _ => String::new(),
    };
    if !extra.is_empty() {
        text = text.replacen("</Error>", &format!("{extra}</Error>"), 1);
    }
    let new = if !text.contains("<RequestId>") && text.contains("</Error>") {
        text.replacen(
            "</Error>",
            &format!("<RequestId>{id}</RequestId></Error>"),
            1,
        )
    } else {
        text
    };
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(new.len()));
    Response::from_parts(parts, s3s::Body::from(new))
}

/// S3's wording for errors raised without a message.
fn standard_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "SignatureDoesNotMatch" => {
            "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        }
        "InvalidAccessKeyId" => "The AWS Access Key Id you provided does not exist in our records.",
        "InvalidBucketName" => "The specified bucket is not valid.",
        "AccessDenied" => "Access Denied",
        "RequestTimeTooSkewed" => {
            "The difference between the request time and the current time is too large."
        }
        "MalformedXML" => {
            "The XML you provided was not well-formed or did not validate against our published schema."
        }
        "NoSuchBucket" => "The specified bucket does not exist",
        "NoSuchKey" => "The specified key does not exist.",
        "MethodNotAllowed" => "The specified method is not allowed against this resource.",
        "NotImplemented" => "A header you provided implies functionality that is not implemented.",
        "MissingContentLength" => "You must provide the Content-Length HTTP header.",
        _ => return None,
    })
}

/// Lets every request through to the operations (which authorize each one
/// themselves: anonymous requests may read what an ACL makes public), and
/// records the operation's name for metrics.
pub struct RecordOperation;

#[async_trait::async_trait]
impl s3s::access::S3Access for RecordOperation {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> s3s::S3Result<()> {
        let name = cx.s3_op().name().to_string();
        if let Some(slot) = cx.extensions_mut().get::<OperationSlot>()
            && let Ok(mut g) = slot.0.lock()
        {
            *g = Some(name);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_never_panics_on_odd_input() {
        assert_eq!(percent_decode("a%20b%2Fc"), "a b/c");
        assert_eq!(percent_decode("%41"), "A");
        // Not escapes: kept as they are.
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%+1"), "%+1");
        // Non-ASCII next to a '%', truncated escapes, invalid UTF-8 results.
        for odd in [
            "%a\u{e9}",
            "%\u{e9}",
            "\u{e9}%",
            "%",
            "%%",
            "%%%%%",
            "%c3",
            "%ff%fe",
            "a%\u{1F600}b",
        ] {
            let _ = percent_decode(odd);
        }
        assert_eq!(percent_decode("%a\u{e9}"), "%a\u{e9}");
        assert_eq!(percent_decode("%c3%a9"), "\u{e9}");
    }
}
