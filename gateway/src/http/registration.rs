//! `POST /_satstore/register`: registration over HTTP (opt-in,
//! rate-limited per client address).

use std::net::IpAddr;
use std::time::Duration;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;

use super::extensions::PeerAddr;
use crate::error::GatewayError;
use crate::idle::IdleTimeoutBody;
use crate::ratelimit::RateLimiter;
use crate::register::{RegisterRequest, Registration};
use crate::state::Gateway;

/// Registers an access grant (JSON body, see [`RegisterRequest`]) and
/// answers the new credentials as JSON. Off unless `allowed`;
/// rate-limited per client address by `limiter`; the grant must name a
/// trusted satellite that accepts it; an email given here is kept
/// unconfirmed.
pub async fn register(
    gw: &Gateway,
    allowed: bool,
    limiter: &RateLimiter,
    body_idle_timeout: Duration,
    req: Request<hyper::body::Incoming>,
    id: &str,
) -> Response<s3s::Body> {
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
    if !allowed {
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
        .map_or(IpAddr::from([0, 0, 0, 0]), |p| p.0.ip());
    if let Err(wait) = limiter.check(client) {
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
    let body = IdleTimeoutBody::new(req.into_body(), body_idle_timeout);
    let body = match http_body_util::Limited::new(body, 64 * 1024)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("reading the body: {e}")),
    };
    let parsed: RegisterRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("expected JSON {{\"access_grant\": ...}}: {e}"),
            );
        }
    };
    let registration = Registration {
        grant: &parsed.access_grant,
        email: parsed.email.as_deref(),
        display_name: parsed.display_name.as_deref(),
        email_confirmed: false,
    };
    match gw.register(&registration).await {
        Ok(c) => json(StatusCode::OK, serde_json::to_value(&c).unwrap_or_default()),
        Err(GatewayError::Conflict(m)) => {
            error(StatusCode::CONFLICT, format!("already registered: {m}"))
        }
        Err(
            e @ (GatewayError::Uplink(_)
            | GatewayError::InvalidArgument(_)
            | GatewayError::UntrustedSatellite(_)
            | GatewayError::GrantRefused(_)),
        ) => {
            let unavailable = matches!(&e, GatewayError::Uplink(u)
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
