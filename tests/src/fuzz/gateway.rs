//! Fuzz targets of the S3 gateway's own parsers (host, path).

use super::Target;

/// The gateway's host and path parsers (virtual-host buckets, percent
/// decoding): any bytes a client puts in a Host header or a request path.
pub fn parsers() -> Target {
    let domains = vec!["localhost".to_string(), "s3.example.com".to_string()];
    Target {
        name: "gateway-parsers",
        seeds: vec![
            b"bucket.localhost:9000".to_vec(),
            b"/bkt/dir/a%20b.txt".to_vec(),
            b"/%E2%82%AC/%ff%fe/".to_vec(),
            "b\u{e9}.s3.example.com".as_bytes().to_vec(),
        ],
        run: Box::new(move |b| {
            let s = String::from_utf8_lossy(b);
            let _ = gateway::host::bucket_of(&domains, &s);
            let _ = gateway::http::percent_decode(&s);
        }),
    }
}
