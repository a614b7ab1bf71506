//! CORS on the HTTP layer: OPTIONS preflights answered from a bucket's
//! rules, and the CORS headers added to actual responses.

use http::{HeaderMap, HeaderValue, Method, Response, header};

use crate::cors::CorsRules;
use crate::s3error::{ErrorDocument, ExtraCode};

/// Answers an OPTIONS preflight from the bucket's CORS `rules` (none: the
/// bucket has none, or there is no bucket).
pub fn preflight(headers: &HeaderMap, rules: Option<&CorsRules>, id: &str) -> Response<s3s::Body> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let method = headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|v| v.to_str().ok());
    let (Some(origin), Some(method)) = (origin, method) else {
        return ErrorDocument::new(
            ExtraCode::BadRequest.code(),
            "Insufficient information. Origin request header needed.",
        )
        .with_request_id(id)
        .into_response();
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
    let Some(rule) = rules.and_then(|r| r.find(origin, method, &requested)) else {
        return ErrorDocument::new(
                ExtraCode::AccessForbidden.code(),
                "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
            )
            .with_request_id(id)
            .into_response();
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

/// Adds the headers of the rule of `rules` that allows `origin` and
/// `method` to an actual (non-preflight) response.
pub fn add_cors(
    resp: &mut Response<s3s::Body>,
    origin: &str,
    method: &Method,
    rules: Option<&CorsRules>,
) {
    let Some(rules) = rules else {
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

#[cfg(test)]
mod tests {
    use http::StatusCode;
    use http_body_util::BodyExt;

    use super::*;
    use crate::cors::Rule;

    fn rules() -> CorsRules {
        CorsRules {
            rules: vec![
                Rule {
                    origins: vec!["https://app.example.com".into()],
                    methods: vec!["GET".into(), "PUT".into()],
                    headers: vec!["x-amz-*".into()],
                    expose: vec!["ETag".into()],
                    max_age: Some(600),
                    ..Default::default()
                },
                Rule {
                    origins: vec!["*".into()],
                    methods: vec!["GET".into()],
                    ..Default::default()
                },
            ],
        }
    }

    fn request(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    async fn code_of(resp: Response<s3s::Body>) -> (StatusCode, String, String) {
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let doc = ErrorDocument::parse(&body).unwrap();
        (
            status,
            doc.code.as_str().to_string(),
            doc.request_id.unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn a_preflight_without_origin_or_method_is_400_bad_request() {
        let h = request(&[(header::ORIGIN, "https://app.example.com")]);
        let (status, code, id) = code_of(preflight(&h, Some(&rules()), "RID")).await;
        assert_eq!(
            (status, code.as_str(), id.as_str()),
            (StatusCode::BAD_REQUEST, "BadRequest", "RID")
        );
    }

    #[tokio::test]
    async fn a_preflight_no_rule_allows_is_403_access_forbidden() {
        let h = request(&[
            (header::ORIGIN, "https://evil.test"),
            (header::ACCESS_CONTROL_REQUEST_METHOD, "PUT"),
        ]);
        let (status, code, _) = code_of(preflight(&h, Some(&rules()), "R")).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "AccessForbidden")
        );
        // A bucket without rules allows nothing.
        let h = request(&[
            (header::ORIGIN, "https://app.example.com"),
            (header::ACCESS_CONTROL_REQUEST_METHOD, "GET"),
        ]);
        let (status, _, _) = code_of(preflight(&h, None, "R")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    #[test]
    fn an_allowed_preflight_answers_the_rules_headers() {
        let h = request(&[
            (header::ORIGIN, "https://app.example.com"),
            (header::ACCESS_CONTROL_REQUEST_METHOD, "PUT"),
            (
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "X-Amz-Date, x-amz-meta-a",
            ),
        ]);
        let resp = preflight(&h, Some(&rules()), "R");
        assert_eq!(resp.status(), StatusCode::OK);
        let g = |n: header::HeaderName| {
            resp.headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(
            g(header::ACCESS_CONTROL_ALLOW_ORIGIN).as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            g(header::ACCESS_CONTROL_ALLOW_METHODS).as_deref(),
            Some("GET, PUT")
        );
        assert_eq!(
            g(header::ACCESS_CONTROL_ALLOW_HEADERS).as_deref(),
            Some("x-amz-date, x-amz-meta-a")
        );
        assert_eq!(
            g(header::ACCESS_CONTROL_EXPOSE_HEADERS).as_deref(),
            Some("ETag")
        );
        assert_eq!(g(header::ACCESS_CONTROL_MAX_AGE).as_deref(), Some("600"));
        assert_eq!(
            g(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).as_deref(),
            Some("true")
        );
    }

    #[test]
    fn actual_responses_get_the_matching_rules_headers() {
        let mut resp = Response::new(s3s::Body::empty());
        add_cors(
            &mut resp,
            "https://other.test",
            &Method::GET,
            Some(&rules()),
        );
        let h = resp.headers();
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
        assert_eq!(h[header::VARY], "Origin");
        // No rule for PUT from there, or no rules at all: nothing added.
        let mut resp = Response::new(s3s::Body::empty());
        add_cors(
            &mut resp,
            "https://other.test",
            &Method::PUT,
            Some(&rules()),
        );
        add_cors(&mut resp, "https://app.example.com", &Method::PUT, None);
        assert!(resp.headers().is_empty());
    }
}
