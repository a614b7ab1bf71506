//! CORS rules of a bucket: their stored form, and matching a request's
//! origin, method and headers against them.

use s3s::dto::{CORSRule, CORSRules};

/// One rule, as S3 defines it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    /// Optional id.
    pub id: Option<String>,
    /// Allowed origins (may contain one `*`).
    pub origins: Vec<String>,
    /// Allowed methods (GET, PUT, POST, DELETE, HEAD).
    pub methods: Vec<String>,
    /// Allowed request headers (may contain `*`).
    pub headers: Vec<String>,
    /// Response headers the browser may read.
    pub expose: Vec<String>,
    /// Preflight cache time.
    pub max_age: Option<i32>,
}

/// A bucket's rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorsRules {
    /// Rules, in order (the first match wins).
    pub rules: Vec<Rule>,
}

const SEP: char = '\u{1f}';

fn join(v: &[String]) -> String {
    v.join(&SEP.to_string())
}

fn split(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(SEP).map(str::to_string).collect()
    }
}

/// Whether `pattern` (with at most one `*`) matches `value`.
fn wildcard(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.eq_ignore_ascii_case(value),
        Some((pre, post)) => {
            value.len() >= pre.len() + post.len()
                && value[..pre.len()].eq_ignore_ascii_case(pre)
                && value[value.len() - post.len()..].eq_ignore_ascii_case(post)
        }
    }
}

impl CorsRules {
    /// The rules of a PutBucketCors body; an error text when invalid.
    pub fn from_dto(rules: CORSRules) -> Result<CorsRules, String> {
        if rules.is_empty() {
            return Err("a CORS configuration needs at least one rule".into());
        }
        if rules.len() > 100 {
            return Err("at most 100 CORS rules".into());
        }
        let mut out = Vec::new();
        for r in rules {
            let methods: Vec<String> = r
                .allowed_methods
                .iter()
                .map(|m| m.as_str().to_string())
                .collect();
            for m in &methods {
                if !["GET", "PUT", "POST", "DELETE", "HEAD"].contains(&m.as_str()) {
                    return Err(format!(
                        "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
                    ));
                }
            }
            if r.allowed_origins.is_empty() || methods.is_empty() {
                return Err("every CORS rule needs an AllowedOrigin and an AllowedMethod".into());
            }
            for o in &r.allowed_origins {
                if o.matches('*').count() > 1 {
                    return Err(format!(
                        "AllowedOrigin {o:?} can not have more than one wildcard."
                    ));
                }
            }
            out.push(Rule {
                id: r.id,
                origins: r.allowed_origins,
                methods,
                headers: r.allowed_headers.unwrap_or_default(),
                expose: r.expose_headers.unwrap_or_default(),
                max_age: r.max_age_seconds,
            });
        }
        Ok(CorsRules { rules: out })
    }

    /// The rules for a GetBucketCors answer.
    pub fn to_dto(&self) -> CORSRules {
        self.rules
            .iter()
            .map(|r| CORSRule {
                allowed_headers: (!r.headers.is_empty()).then(|| r.headers.clone()),
                allowed_methods: r.methods.clone(),
                allowed_origins: r.origins.clone(),
                expose_headers: (!r.expose.is_empty()).then(|| r.expose.clone()),
                id: r.id.clone(),
                max_age_seconds: r.max_age,
            })
            .collect()
    }

    /// Stored text: one line per rule, fields separated by tabs, list
    /// items by the unit separator.
    pub fn to_text(&self) -> String {
        self.rules
            .iter()
            .map(|r| {
                format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\n",
                    r.id.clone().unwrap_or_default(),
                    join(&r.origins),
                    join(&r.methods),
                    join(&r.headers),
                    join(&r.expose),
                    r.max_age.map(|a| a.to_string()).unwrap_or_default()
                )
            })
            .collect()
    }

    /// Parses [`CorsRules::to_text`].
    pub fn from_text(text: &str) -> Option<CorsRules> {
        let mut rules = Vec::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != 6 {
                return None;
            }
            rules.push(Rule {
                id: (!f[0].is_empty()).then(|| f[0].to_string()),
                origins: split(f[1]),
                methods: split(f[2]),
                headers: split(f[3]),
                expose: split(f[4]),
                max_age: if f[5].is_empty() {
                    None
                } else {
                    Some(f[5].parse().ok()?)
                },
            });
        }
        Some(CorsRules { rules })
    }

    /// The first rule allowing `origin` to use `method` with
    /// `request_headers`.
    pub fn find(&self, origin: &str, method: &str, request_headers: &[String]) -> Option<&Rule> {
        self.rules.iter().find(|r| {
            r.origins.iter().any(|o| wildcard(o, origin))
                && r.methods.iter().any(|m| m.eq_ignore_ascii_case(method))
                && request_headers
                    .iter()
                    .all(|h| r.headers.iter().any(|a| wildcard(a, h.trim())))
        })
    }
}

impl Rule {
    /// The Access-Control-Allow-Origin value for `origin`.
    pub fn allow_origin(&self, origin: &str) -> String {
        if self.origins.iter().any(|o| o == "*") {
            "*".to_string()
        } else {
            origin.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> CorsRules {
        CorsRules {
            rules: vec![
                Rule {
                    id: Some("one".into()),
                    origins: vec!["https://*.example.com".into()],
                    methods: vec!["GET".into(), "PUT".into()],
                    headers: vec!["x-amz-*".into(), "content-type".into()],
                    expose: vec!["ETag".into()],
                    max_age: Some(3000),
                },
                Rule {
                    origins: vec!["*".into()],
                    methods: vec!["GET".into()],
                    ..Default::default()
                },
            ],
        }
    }

    #[test]
    fn matching_follows_origin_method_and_header_rules() {
        let r = rules();
        let hit = r.find(
            "https://app.example.com",
            "PUT",
            &["X-Amz-Date".into(), "Content-Type".into()],
        );
        assert_eq!(hit.and_then(|h| h.id.as_deref()), Some("one"));
        assert_eq!(
            hit.unwrap().allow_origin("https://app.example.com"),
            "https://app.example.com"
        );
        // PUT from elsewhere: no rule.
        assert!(r.find("https://evil.test", "PUT", &[]).is_none());
        // A header no rule allows.
        assert!(
            r.find("https://app.example.com", "PUT", &["authorization".into()])
                .is_none()
        );
        // GET from anywhere: the wildcard rule, answered with '*'.
        let any = r.find("https://evil.test", "GET", &[]).unwrap();
        assert_eq!(any.allow_origin("https://evil.test"), "*");
    }

    #[test]
    fn text_form_round_trips() {
        let r = rules();
        assert_eq!(CorsRules::from_text(&r.to_text()), Some(r));
        assert_eq!(CorsRules::from_text("a\tb"), None);
    }
}
