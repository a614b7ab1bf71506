//! S3 gateway authentication over a real localnet: correctly signed SigV4
//! (header, presigned, aws-chunked) and SigV2 (header, query) requests
//! succeed; wrong signatures, unknown keys, skewed clocks, expired or
//! tampered presigned URLs and bad chunk signatures get the S3 error
//! codes AWS returns, and a refused chunked upload creates nothing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::stream;
use http::{Method, Request, StatusCode};
use satstore_tests::TestNet;
use satstore_tests::s3::sigv4::{self, ChunkSigner, EMPTY_SHA256, STREAMING_PAYLOAD};
use satstore_tests::s3::{
    Credentials, PayloadSigning, S3Client, S3Response, empty_body, full_body, sigv2, stream_body,
};

use crate::s3_errors::assert_s3_error;

/// A network with its gateway and a client signed with its credentials.
pub(crate) async fn s3_net() -> (TestNet, S3Client) {
    let net = TestNet::start().await.expect("start network");
    let creds = net.net().s3();
    let client = S3Client::new(&creds.endpoint, &creds.access_key, &creds.secret_key)
        .expect("S3 client for the localnet gateway");
    (net, client)
}

/// Deterministic test bytes.
fn data(seed: u8, len: usize) -> Bytes {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect::<Vec<u8>>()
        .into()
}

/// Sends a GET to a presigned URL, no other authentication.
async fn get_url(client: &S3Client, url: &str) -> S3Response {
    let req = Request::get(url).body(empty_body()).expect("request");
    client.send(req).await.expect("send")
}

/// GETs an object and asserts it is exactly `want`.
async fn assert_object(client: &S3Client, bucket: &str, key: &str, want: &[u8]) {
    let got = client.get_object(bucket, key, None).await.expect("get");
    assert_eq!(got.status, StatusCode::OK, "GET {key}: {}", got.text());
    assert!(got.body == want, "content of {key} differs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn correctly_signed_requests_succeed() {
    let (net, client) = s3_net().await;
    let b = "auth-ok";
    let r = client.create_bucket(b).await.expect("create bucket");
    assert_eq!(r.status, StatusCode::OK, "create bucket: {}", r.text());

    // V4 header auth, payload hash signed.
    let small = data(1, 10_000);
    let r = client
        .put_object(b, "v4-signed", small.clone())
        .await
        .expect("put");
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_object(&client, b, "v4-signed", &small).await;
    let r = client
        .get_object(b, "v4-signed", Some("bytes=10-19"))
        .await
        .expect("range");
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.body[..], &small[10..20]);

    // V4 header auth, UNSIGNED-PAYLOAD, streamed.
    let big = data(2, 300_000);
    let pieces: Vec<Bytes> = big.chunks(7_000).map(Bytes::copy_from_slice).collect();
    let r = client
        .put_object_stream(
            b,
            "v4-unsigned",
            big.len() as u64,
            stream::iter(pieces),
            PayloadSigning::Unsigned,
        )
        .await
        .expect("put unsigned");
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_object(&client, b, "v4-unsigned", &big).await;

    // V4 aws-chunked with chunk signatures (4 full chunks and a partial one).
    let pieces: Vec<Bytes> = big.chunks(10_000).map(Bytes::copy_from_slice).collect();
    let r = client
        .put_object_stream(
            b,
            "v4 chunked/ключ",
            big.len() as u64,
            stream::iter(pieces),
            PayloadSigning::Chunked { chunk_size: 65_536 },
        )
        .await
        .expect("put chunked");
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_object(&client, b, "v4 chunked/ключ", &big).await;
    let r = client
        .head_object(b, "v4 chunked/ключ")
        .await
        .expect("head");
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-length"), Some("300000"));

    // V4 presigned GET and PUT.
    let creds = client.credentials().clone();
    let uri = client.uri(b, Some("v4-signed"), "").expect("uri");
    let url =
        sigv4::presign_url(&creds, &Method::GET, &uri, 300, SystemTime::now()).expect("presign");
    let r = get_url(&client, &url.authorization).await;
    assert_eq!(r.status, StatusCode::OK, "presigned GET: {}", r.text());
    assert!(r.body == small);
    let put_uri = client.uri(b, Some("presigned-put"), "").expect("uri");
    let url = sigv4::presign_url(&creds, &Method::PUT, &put_uri, 300, SystemTime::now())
        .expect("presign");
    let req = Request::put(&url.authorization)
        .header("content-length", small.len())
        .body(full_body(small.clone()))
        .expect("request");
    let r = client.send(req).await.expect("send");
    assert_eq!(r.status, StatusCode::OK, "presigned PUT: {}", r.text());
    assert_object(&client, b, "presigned-put", &small).await;

    // V2 header auth: PUT then GET.
    let v2 = data(3, 5_000);
    let mut parts = client
        .parts(
            Method::PUT,
            client.uri(b, Some("v2-header"), "").expect("uri"),
            &[
                ("content-type", "application/octet-stream"),
                ("content-length", "5000"),
            ],
        )
        .expect("parts");
    sigv2::sign_parts(&creds, &mut parts, SystemTime::now()).expect("sign v2");
    let r = client
        .send(Request::from_parts(parts, full_body(v2.clone())))
        .await
        .expect("send");
    assert_eq!(r.status, StatusCode::OK, "V2 PUT: {}", r.text());
    let mut parts = client
        .parts(
            Method::GET,
            client.uri(b, Some("v2-header"), "").expect("uri"),
            &[],
        )
        .expect("parts");
    sigv2::sign_parts(&creds, &mut parts, SystemTime::now()).expect("sign v2");
    let r = client
        .send(Request::from_parts(parts, empty_body()))
        .await
        .expect("send");
    assert_eq!(r.status, StatusCode::OK, "V2 GET: {}", r.text());
    assert!(r.body == v2);

    // V2 query auth (boto 2 generate_url).
    let expires = unix_now() + 300;
    let uri = client.uri(b, Some("v2-header"), "").expect("uri");
    let url = sigv2::presign_url(&creds, &Method::GET, &uri, expires).expect("presign v2");
    let r = get_url(&client, &url.authorization).await;
    assert_eq!(r.status, StatusCode::OK, "V2 query GET: {}", r.text());
    assert!(r.body == v2);

    net.shutdown().await;
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// A signed GET of `key` made by `client` as if at time `at`.
async fn get_signed_at(client: &S3Client, bucket: &str, key: &str, at: SystemTime) -> S3Response {
    let mut parts = client
        .parts(
            Method::GET,
            client.uri(bucket, Some(key), "").expect("uri"),
            &[],
        )
        .expect("parts");
    client.sign_v4(&mut parts, EMPTY_SHA256, at).expect("sign");
    client
        .send(Request::from_parts(parts, empty_body()))
        .await
        .expect("send")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_signatures_are_refused() {
    let (net, client) = s3_net().await;
    let b = "auth-bad";
    let r = client.create_bucket(b).await.expect("create bucket");
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = client.put_object(b, "k", data(1, 1000)).await.expect("put");
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let creds = client.credentials().clone();
    let now = SystemTime::now();

    // Wrong secret, V4 and V2.
    let mut wrong = creds.clone();
    wrong.secret_key.push('x');
    let bad = client.with_credentials(wrong.clone());
    let r = bad.get_object(b, "k", None).await.expect("get");
    assert_s3_error(&r, StatusCode::FORBIDDEN, "SignatureDoesNotMatch");
    let mut parts = client
        .parts(Method::GET, client.uri(b, Some("k"), "").expect("uri"), &[])
        .expect("parts");
    sigv2::sign_parts(&wrong, &mut parts, now).expect("sign v2");
    let r = client
        .send(Request::from_parts(parts, empty_body()))
        .await
        .expect("send");
    assert_s3_error(&r, StatusCode::FORBIDDEN, "SignatureDoesNotMatch");

    // Unknown access key.
    let stranger = client.with_credentials(Credentials::new("AKIDNOSUCHKEY0000000", "secret"));
    let r = stranger.get_object(b, "k", None).await.expect("get");
    assert_s3_error(&r, StatusCode::FORBIDDEN, "InvalidAccessKeyId");

    // A signature made 20 minutes off, either way.
    for at in [
        now - Duration::from_secs(20 * 60),
        now + Duration::from_secs(20 * 60),
    ] {
        let r = get_signed_at(&client, b, "k", at).await;
        assert_s3_error(&r, StatusCode::FORBIDDEN, "RequestTimeTooSkewed");
    }
    // A signed body that does not match its hash is refused too.
    let mut parts = client
        .parts(
            Method::PUT,
            client.uri(b, Some("k2"), "").expect("uri"),
            &[("content-length", "4")],
        )
        .expect("parts");
    client
        .sign_v4(
            &mut parts,
            &satstore_tests::s3::crypto::sha256_hex(b"abcd"),
            now,
        )
        .expect("sign");
    let r = client
        .send(Request::from_parts(parts, full_body(&b"abce"[..])))
        .await
        .expect("send");
    assert!(
        r.status.is_client_error(),
        "tampered body accepted: {}",
        r.status
    );
    assert_eq!(
        client.head_object(b, "k2").await.expect("head").status,
        StatusCode::NOT_FOUND
    );

    // Expired presigned URLs: V4 signed 2 hours ago for 60 s, V2 expired a minute ago.
    let uri = client.uri(b, Some("k"), "").expect("uri");
    let old = now - Duration::from_secs(2 * 3600);
    let url = sigv4::presign_url(&creds, &Method::GET, &uri, 60, old).expect("presign");
    let r = get_url(&client, &url.authorization).await;
    assert_s3_error(&r, StatusCode::FORBIDDEN, "AccessDenied");
    let url = sigv2::presign_url(&creds, &Method::GET, &uri, unix_now() - 60).expect("presign v2");
    let r = get_url(&client, &url.authorization).await;
    assert_s3_error(&r, StatusCode::FORBIDDEN, "AccessDenied");

    // Tampered presigned URLs: another key, a longer expiry, a V2 expiry.
    let url = sigv4::presign_url(&creds, &Method::GET, &uri, 300, now).expect("presign");
    let other_key = url.authorization.replace("/auth-bad/k?", "/auth-bad/k2?");
    let r = get_url(&client, &other_key).await;
    assert_s3_error(&r, StatusCode::FORBIDDEN, "SignatureDoesNotMatch");
    let longer = url
        .authorization
        .replace("X-Amz-Expires=300", "X-Amz-Expires=3000");
    let r = get_url(&client, &longer).await;
    assert_s3_error(&r, StatusCode::FORBIDDEN, "SignatureDoesNotMatch");
    let expires = unix_now() + 300;
    let url = sigv2::presign_url(&creds, &Method::GET, &uri, expires).expect("presign v2");
    let later = url.authorization.replace(
        &format!("Expires={expires}"),
        &format!("Expires={}", expires + 1000),
    );
    let r = get_url(&client, &later).await;
    assert_s3_error(&r, StatusCode::FORBIDDEN, "SignatureDoesNotMatch");

    // The good ones still work.
    let url = sigv4::presign_url(&creds, &Method::GET, &uri, 300, now).expect("presign");
    assert_eq!(
        get_url(&client, &url.authorization).await.status,
        StatusCode::OK
    );
    net.shutdown().await;
}

/// Sends an aws-chunked PUT of `body` in 64 KiB chunks where chunk number
/// `bad` (0-based; `chunks` = the final empty one) carries a wrong signature.
async fn chunked_put_with_bad_chunk(
    client: &S3Client,
    bucket: &str,
    key: &str,
    body: &[u8],
    bad: usize,
) -> S3Response {
    const CHUNK: usize = 65_536;
    let at = SystemTime::now();
    let encoded = sigv4::chunked_encoded_length(body.len() as u64, CHUNK as u64).to_string();
    let decoded = body.len().to_string();
    let mut parts = client
        .parts(
            Method::PUT,
            client.uri(bucket, Some(key), "").expect("uri"),
            &[
                ("content-encoding", "aws-chunked"),
                ("content-length", &encoded),
                ("x-amz-decoded-content-length", &decoded),
            ],
        )
        .expect("parts");
    let seed = client
        .sign_v4(&mut parts, STREAMING_PAYLOAD, at)
        .expect("sign");
    let mut signer = ChunkSigner::new(client.credentials(), at, &seed.signature);
    let mut frames = Vec::new();
    let chunks: Vec<&[u8]> = body.chunks(CHUNK).chain([&[][..]]).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        if i == bad {
            let mut sig = signer.sign(chunk).into_bytes();
            sig[0] = if sig[0] == b'0' { b'1' } else { b'0' };
            let sig = String::from_utf8(sig).expect("hex");
            frames.push(sigv4::encode_frame(chunk, &sig));
        } else {
            frames.push(signer.frame(chunk));
        }
    }
    let total: usize = frames.iter().map(Bytes::len).sum();
    assert_eq!(
        total.to_string(),
        encoded,
        "frames match the declared length"
    );
    client
        .send(Request::from_parts(
            parts,
            stream_body(stream::iter(frames)),
        ))
        .await
        .expect("send")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chunked_upload_with_a_bad_chunk_signature_creates_nothing() {
    let (net, client) = s3_net().await;
    let b = "auth-chunks";
    let r = client.create_bucket(b).await.expect("create bucket");
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = data(9, 4 * 65_536 + 1000);
    // First chunk, a later one after 192 KiB went through, the final 0-chunk.
    for (bad, key) in [(0, "bad-first"), (3, "bad-fourth"), (5, "bad-final")] {
        let r = chunked_put_with_bad_chunk(&client, b, key, &body, bad).await;
        assert_s3_error(&r, StatusCode::FORBIDDEN, "SignatureDoesNotMatch");
        let h = client.head_object(b, key).await.expect("head");
        assert_eq!(
            h.status,
            StatusCode::NOT_FOUND,
            "{key} must not exist after a refused upload"
        );
    }
    // The same upload, correctly signed, goes through.
    let r = chunked_put_with_bad_chunk(&client, b, "good", &body, usize::MAX).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_object(&client, b, "good", &body).await;
    net.shutdown().await;
}
