//! Virtual-host-style addressing: `bucket.DOMAIN[:port]` names the bucket;
//! any other host (an IP, `DOMAIN` itself, an unknown name) is path-style.

use s3s::S3Result;
use s3s::host::{S3Host, VirtualHost};

/// The base domains of virtual-host-style requests.
pub struct Domains(pub Vec<String>);

/// The bucket a Host header names under one of `domains`, if any.
pub fn bucket_of<'a>(domains: &[String], host: &'a str) -> Option<&'a str> {
    let name = match host.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    domains.iter().find_map(|d| {
        name.strip_suffix(d.as_str())
            .and_then(|b| b.strip_suffix('.'))
            .filter(|b| !b.is_empty())
    })
}

impl S3Host for Domains {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match bucket_of(&self.0, host) {
            Some(bucket) => VirtualHost::new(host).with_bucket(bucket),
            None => VirtualHost::new(host),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_come_from_subdomains_with_or_without_port() {
        let d = vec!["localhost".to_string(), "s3.example.com".to_string()];
        assert_eq!(bucket_of(&d, "photos.localhost:7070"), Some("photos"));
        assert_eq!(bucket_of(&d, "photos.localhost"), Some("photos"));
        assert_eq!(
            bucket_of(&d, "my.dotted.bucket.s3.example.com"),
            Some("my.dotted.bucket")
        );
        assert_eq!(bucket_of(&d, "localhost:7070"), None);
        assert_eq!(bucket_of(&d, "127.0.0.1:7070"), None);
        assert_eq!(bucket_of(&d, "elsewhere.test"), None);
        assert_eq!(bucket_of(&d, "xlocalhost"), None);
    }

    #[test]
    fn odd_hosts_are_path_style_or_a_bucket_never_a_panic() {
        let d = vec!["localhost".to_string(), String::new()];
        for host in [
            "",
            ":",
            "::",
            "[::1]:",
            "[::1]:7070",
            ".localhost",
            "..localhost",
            "localhost.",
            "\u{e9}.localhost:1",
            "a.localhost:\u{e9}",
            ":7070",
            "a:b:c",
            "%41.localhost",
        ] {
            let _ = bucket_of(&d, host);
            let _ = Domains(d.clone()).parse_host_header(host);
        }
        // An empty base domain never makes every host a bucket.
        assert_eq!(bucket_of(&d, "photos"), None);
        assert_eq!(bucket_of(&d, ".localhost"), None);
    }
}
