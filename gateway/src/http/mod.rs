//! The HTTP layer around s3s: request ids, a span per request, CORS
//! preflight and response headers ([`cors`]), concurrency limit, an idle
//! timeout on request bodies watched for why they break, metrics, error
//! documents completed with the request id ([`error_body`]), and the
//! (opt-in, rate-limited) registration endpoint ([`registration`]).

pub mod address;
pub mod cors;
pub mod error_body;
pub mod extensions;
pub mod registration;

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderValue, Method, Request, Response, header};
use s3s::S3ErrorCode;
use s3s::service::S3Service;
use tokio::sync::Semaphore;
use tracing::Instrument;

pub use address::{bucket_of, key_of, percent_decode};
use error_body::completed_error;
pub use extensions::{OperationSlot, PeerAddr, RecordOperation};

use crate::body::{BodyWatch, WatchedBody};
use crate::cors::CorsRules;
use crate::idle::IdleTimeoutBody;
use crate::ratelimit::RateLimiter;
use crate::s3error::ErrorDocument;
use crate::s3error::codes::wording;
use crate::state::Gateway;

/// Serves one HTTP request.
#[derive(Clone)]
pub struct Handler {
    pub(crate) s3: S3Service,
    pub(crate) gw: Gateway,
    pub(crate) limit: Arc<Semaphore>,
    pub(crate) domains: Arc<Vec<String>>,
    pub(crate) allow_registration: bool,
    pub(crate) registrations: Arc<RateLimiter>,
    pub(crate) body_idle_timeout: Duration,
}

/// A new request id: 16 upper-case hex digits.
fn request_id() -> String {
    satstore_common::hex::encode(&rand::random::<[u8; 8]>()).to_uppercase()
}

impl Handler {
    /// The CORS rules of a claimed bucket, if it has any.
    async fn cors_rules(&self, bucket: Option<&str>) -> Option<CorsRules> {
        let text = self.gw.store().cors_of_claimed(bucket?).await.ok()??;
        CorsRules::from_text(&text)
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
        let bucket = bucket_of(&self.domains, req.headers(), req.uri().path());
        let key = key_of(&self.domains, req.headers(), req.uri().path());
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
            let resp = registration::register(
                &self.gw,
                self.allow_registration,
                &self.registrations,
                self.body_idle_timeout,
                req,
                &id,
            )
            .await;
            ("Register".to_string(), resp)
        } else if method == Method::OPTIONS {
            (
                "OPTIONS".to_string(),
                cors::preflight(
                    req.headers(),
                    self.cors_rules(bucket.as_deref()).await.as_ref(),
                    &id,
                ),
            )
        } else {
            match self.limit.clone().try_acquire_owned() {
                Err(_) => (
                    "Throttled".to_string(),
                    ErrorDocument::new(S3ErrorCode::SlowDown, wording::SLOW_DOWN)
                        .with_request_id(&id)
                        .into_response(),
                ),
                Ok(permit) => {
                    let slot = OperationSlot::default();
                    let timeout = self.body_idle_timeout;
                    let watch = BodyWatch::new();
                    let raw = watch.clone();
                    let mut req = req.map(|b| {
                        s3s::Body::http_body_unsync(WatchedBody::new(
                            IdleTimeoutBody::new(b, timeout),
                            raw,
                        ))
                    });
                    req.extensions_mut().insert(slot.clone());
                    req.extensions_mut().insert(watch);
                    let resp = match self.s3.call(req).await {
                        Ok(resp) => resp,
                        Err(e) => {
                            tracing::error!(error = ?e, "s3 service failed");
                            ErrorDocument::new(S3ErrorCode::InternalError, wording::INTERNAL_ERROR)
                                .with_request_id(&id)
                                .into_response()
                        }
                    };
                    drop(permit);
                    (slot.name(), resp)
                }
            }
        };
        if resp.status().as_u16() >= 400 {
            resp = completed_error(resp, &id, bucket.as_deref(), key.as_deref()).await;
        }
        if let Some(origin) = origin.as_deref()
            && method != Method::OPTIONS
        {
            let rules = self.cors_rules(bucket.as_deref()).await;
            cors::add_cors(&mut resp, origin, &method, rules.as_ref());
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
