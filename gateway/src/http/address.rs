//! What a request addresses: the bucket (virtual host or first path
//! segment) and the object key (percent-decoded).

use http::{HeaderMap, header};

use crate::host;

/// The bucket a request addresses (virtual host under one of `domains`,
/// or the first path segment).
pub fn bucket_of(domains: &[String], headers: &HeaderMap, path: &str) -> Option<String> {
    if let Some(h) = headers.get(header::HOST).and_then(|h| h.to_str().ok())
        && let Some(b) = host::bucket_of(domains, h)
    {
        return Some(b.to_string());
    }
    let first = path.trim_start_matches('/').split('/').next()?;
    (!first.is_empty()).then(|| first.to_string())
}

/// The object key a request addresses, if any (percent-decoded).
pub fn key_of(domains: &[String], headers: &HeaderMap, path: &str) -> Option<String> {
    let path = path.trim_start_matches('/');
    let virtual_host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| host::bucket_of(domains, h).is_some());
    let raw = if virtual_host {
        path
    } else {
        path.split_once('/')?.1
    };
    (!raw.is_empty()).then(|| percent_decode(raw))
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

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn host(h: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(header::HOST, HeaderValue::from_str(h).unwrap());
        m
    }

    #[test]
    fn buckets_and_keys_come_from_the_virtual_host_or_the_path() {
        let domains = vec!["s3.example.com".to_string()];
        let vh = host("photos.s3.example.com");
        assert_eq!(
            bucket_of(&domains, &vh, "/a%20b/c").as_deref(),
            Some("photos")
        );
        assert_eq!(key_of(&domains, &vh, "/a%20b/c").as_deref(), Some("a b/c"));
        assert_eq!(key_of(&domains, &vh, "/"), None);
        let path = host("s3.example.com");
        assert_eq!(
            bucket_of(&domains, &path, "/photos/a%2Fb").as_deref(),
            Some("photos")
        );
        assert_eq!(
            key_of(&domains, &path, "/photos/a%2Fb").as_deref(),
            Some("a/b")
        );
        assert_eq!(key_of(&domains, &path, "/photos"), None);
        assert_eq!(key_of(&domains, &path, "/photos/"), None);
        assert_eq!(bucket_of(&domains, &path, "/"), None);
        assert_eq!(
            bucket_of(&domains, &HeaderMap::new(), "/b/k").as_deref(),
            Some("b")
        );
    }

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
