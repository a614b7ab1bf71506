//! The client against a recording HTTP server on loopback: connections are
//! pooled, bodies and signing headers arrive as declared, errors surface.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use futures::stream;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::sigv4::{ChunkSigner, STREAMING_PAYLOAD, UNSIGNED_PAYLOAD, encode_frame};
use super::{PayloadSigning, S3Client, S3ClientError};

/// What the server saw.
#[derive(Default)]
struct Seen {
    connections: usize,
    requests: Vec<(http::request::Parts, Bytes)>,
}

/// Starts a server answering 200 "ok", or a 404 S3 error for `/missing`.
async fn server() -> (String, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            s.lock().expect("lock").connections += 1;
            let s = s.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let s = s.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let missing = parts.uri.path() == "/missing";
                        s.lock().expect("lock").requests.push((parts, body));
                        let resp = if missing {
                            Response::builder()
                                .status(StatusCode::NOT_FOUND)
                                .header("x-amz-request-id", "rid1")
                                .body(Full::new(Bytes::from_static(
                                    b"<Error><Code>NoSuchBucket</Code><Message>m</Message><RequestId>rid1</RequestId></Error>",
                                )))
                        } else {
                            Response::builder().body(Full::new(Bytes::from_static(b"ok")))
                        };
                        Ok::<_, Infallible>(resp.expect("response"))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(sock), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn header(parts: &http::request::Parts, name: &str) -> String {
    parts.headers[name].to_str().expect("ascii").to_owned()
}

#[tokio::test]
async fn requests_share_one_kept_alive_connection() {
    let (endpoint, seen) = server().await;
    let c = S3Client::new(&endpoint, "AK", "SK").expect("client");
    for i in 0..5 {
        let r = c
            .put_object("b", &format!("k{i}"), Bytes::from_static(b"hello"))
            .await
            .expect("put");
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(&r.body[..], b"ok");
    }
    let r = c
        .get_object("b", "a b/c", Some("bytes=0-1"))
        .await
        .expect("get");
    assert_eq!(r.status, StatusCode::OK);
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.connections, 1, "the pool reuses the connection");
    let (parts, body) = &seen.requests[0];
    assert_eq!(&body[..], b"hello");
    assert_eq!(header(parts, "content-length"), "5");
    assert_eq!(
        header(parts, "x-amz-content-sha256"),
        super::crypto::sha256_hex(b"hello")
    );
    assert!(header(parts, "authorization").starts_with("AWS4-HMAC-SHA256 Credential=AK/"));
    let (parts, _) = &seen.requests[5];
    assert_eq!(parts.uri.path(), "/b/a%20b/c");
    assert_eq!(header(parts, "range"), "bytes=0-1");
}

#[tokio::test]
async fn streamed_puts_send_what_they_declare() {
    let (endpoint, seen) = server().await;
    let c = S3Client::new(&endpoint, "AK", "SK").expect("client");
    let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    let pieces = || {
        stream::iter(
            data.chunks(3000)
                .map(Bytes::copy_from_slice)
                .collect::<Vec<_>>(),
        )
    };
    let r = c
        .put_object_stream(
            "b",
            "u",
            data.len() as u64,
            pieces(),
            PayloadSigning::Unsigned,
        )
        .await
        .expect("put");
    assert_eq!(r.status, StatusCode::OK);
    let r = c
        .put_object_stream(
            "b",
            "c",
            data.len() as u64,
            pieces(),
            PayloadSigning::Chunked { chunk_size: 65_536 },
        )
        .await
        .expect("put");
    assert_eq!(r.status, StatusCode::OK);

    let seen = seen.lock().expect("lock");
    let (parts, body) = &seen.requests[0];
    assert_eq!(header(parts, "x-amz-content-sha256"), UNSIGNED_PAYLOAD);
    assert_eq!(header(parts, "content-length"), "200000");
    assert!(body[..] == data[..]);

    // The chunked body re-verifies with the seed signature of its header.
    let (parts, body) = &seen.requests[1];
    assert_eq!(header(parts, "x-amz-content-sha256"), STREAMING_PAYLOAD);
    assert_eq!(header(parts, "x-amz-decoded-content-length"), "200000");
    assert_eq!(header(parts, "content-length"), body.len().to_string());
    let auth = header(parts, "authorization");
    let seed = auth.rsplit("Signature=").next().expect("signature");
    let amz = header(parts, "x-amz-date");
    let at = parse_amz(&amz);
    let mut signer = ChunkSigner::new(c.credentials(), at, seed);
    let mut want = Vec::new();
    for chunk in data.chunks(65_536).chain([&[][..]]) {
        want.extend_from_slice(&signer.frame(chunk));
    }
    assert!(body[..] == want[..], "chunk frames and signatures");
    // A frame with another signature would differ.
    assert_ne!(
        encode_frame(b"x", &"0".repeat(64)),
        encode_frame(b"x", &"1".repeat(64))
    );
}

/// `YYYYMMDDTHHMMSSZ` back to a time (same day arithmetic as the signer).
fn parse_amz(s: &str) -> SystemTime {
    let now = SystemTime::now();
    // The request was signed within the last minute: find that second.
    (0..120)
        .map(|back| now - std::time::Duration::from_secs(back))
        .find(|t| super::time::UtcTime::from_system(*t).amz_date() == s)
        .expect("x-amz-date within the last two minutes")
}

#[tokio::test]
async fn errors_are_reported() {
    let (endpoint, _seen) = server().await;
    let c = S3Client::new(&endpoint, "AK", "SK").expect("client");
    let r = c
        .signed(http::Method::GET, "missing", None, "", &[], Bytes::new())
        .await
        .expect("get");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error_code().as_deref(), Some("NoSuchBucket"));
    assert_eq!(r.xml_field("RequestId").as_deref(), Some("rid1"));
    assert_eq!(r.header("x-amz-request-id"), Some("rid1"));
    assert_eq!(r.xml_field("Nope"), None);

    assert!(matches!(
        S3Client::new("ftp://x", "a", "b"),
        Err(S3ClientError::BadEndpoint(_))
    ));
    assert!(matches!(
        S3Client::new("not a url", "a", "b"),
        Err(S3ClientError::BadEndpoint(_))
    ));
    // Nothing listens on a port we just released.
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let dead = format!("http://{}", l.local_addr().expect("addr"));
    drop(l);
    let c = S3Client::new(&dead, "a", "b").expect("client");
    assert!(matches!(
        c.head_object("b", "k").await,
        Err(S3ClientError::Http(_))
    ));
}
