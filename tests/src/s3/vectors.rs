//! The signers against AWS's published examples: the SigV4 test suite
//! (AKIDEXAMPLE, 20150830T123600Z, us-east-1, service), the S3 SigV4
//! documentation examples (examplebucket, 20130524T000000Z) including the
//! chunked upload, and the S3 SigV2 examples (johnsmith, puppy.jpg).

use bytes::{Bytes, BytesMut};
use futures::stream;
use http::{Method, Request};
use http_body_util::BodyExt;

use super::sigv4::{self, ChunkSigner, EMPTY_SHA256, STREAMING_PAYLOAD, UNSIGNED_PAYLOAD};
use super::time::unix;
use super::{Credentials, aws_chunked_body, crypto::sha256_hex, sigv2};

/// 2015-08-30T12:36:00Z, the test suite's time.
const SUITE_TIME: u64 = 1_440_938_160;
/// 2013-05-24T00:00:00Z, the S3 examples' time.
const S3_TIME: u64 = 1_369_353_600;

fn suite_creds() -> Credentials {
    Credentials {
        access_key: "AKIDEXAMPLE".into(),
        secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        region: "us-east-1".into(),
        service: "service".into(),
    }
}

fn s3_creds() -> Credentials {
    Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
}

fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).expect("valid test request").into_parts().0
}

fn suite_sign(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    payload: &str,
) -> sigv4::V4Signature {
    let mut p = parts(method, uri, headers);
    sigv4::sign_parts(&suite_creds(), &mut p, payload, unix(SUITE_TIME)).expect("sign")
}

fn suite_authz(signed: &str, sig: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={signed}, Signature={sig}"
    )
}

#[test]
fn suite_get_vanilla() {
    let s = suite_sign("GET", "https://example.amazonaws.com/", &[], EMPTY_SHA256);
    assert_eq!(
        s.canonical_request,
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        s.string_to_sign,
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
         bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    );
    assert_eq!(
        s.authorization,
        suite_authz(
            "host;x-amz-date",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
    );
}

#[test]
fn suite_get_vanilla_query_order_key_case() {
    let s = suite_sign(
        "GET",
        "https://example.amazonaws.com/?Param2=value2&Param1=value1",
        &[],
        EMPTY_SHA256,
    );
    assert!(
        s.canonical_request
            .starts_with("GET\n/\nParam1=value1&Param2=value2\n")
    );
    assert_eq!(
        s.signature,
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    );
}

#[test]
fn suite_get_vanilla_query_order_key() {
    let s = suite_sign(
        "GET",
        "https://example.amazonaws.com/?Param1=value2&Param1=Value1",
        &[],
        EMPTY_SHA256,
    );
    assert_eq!(
        s.canonical_request,
        "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
         host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        s.string_to_sign,
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
         704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89"
    );
    assert_eq!(
        s.signature,
        "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"
    );
    let s = suite_sign(
        "GET",
        "https://example.amazonaws.com/?Param1=value2&Param1=value1",
        &[],
        EMPTY_SHA256,
    );
    assert_eq!(
        s.signature,
        "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"
    );
}

#[test]
fn suite_post_vanilla_and_form_urlencoded() {
    let s = suite_sign("POST", "https://example.amazonaws.com/", &[], EMPTY_SHA256);
    assert_eq!(
        s.signature,
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
    );

    let body_hash = sha256_hex(b"Param1=value1");
    assert_eq!(
        body_hash,
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
    );
    let s = suite_sign(
        "POST",
        "https://example.amazonaws.com/",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &body_hash,
    );
    assert_eq!(
        s.canonical_request,
        "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n\
         x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n\
         9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
    );
    assert_eq!(
        s.string_to_sign,
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
         42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"
    );
    assert_eq!(
        s.authorization,
        suite_authz(
            "content-type;host;x-amz-date",
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        )
    );
}

#[test]
fn suite_header_values_are_trimmed_and_user_agent_unsigned() {
    let a = suite_sign(
        "GET",
        "https://example.amazonaws.com/",
        &[("My-Header1", "  a   b  "), ("User-Agent", "x")],
        EMPTY_SHA256,
    );
    assert!(a.canonical_request.contains("\nmy-header1:a b\n"));
    assert_eq!(a.signed_headers, "host;my-header1;x-amz-date");
}

#[test]
fn s3_get_object_with_range() {
    let mut p = parts(
        "GET",
        "http://examplebucket.s3.amazonaws.com/test.txt",
        &[("Range", "bytes=0-9")],
    );
    let s = sigv4::sign_parts(&s3_creds(), &mut p, EMPTY_SHA256, unix(S3_TIME)).expect("sign");
    assert_eq!(
        s.canonical_request,
        "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n\
         x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        s.string_to_sign,
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
         7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
    );
    assert_eq!(
        s.authorization,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
         Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
    assert_eq!(p.headers["x-amz-date"], "20130524T000000Z");
    assert_eq!(p.headers["x-amz-content-sha256"], EMPTY_SHA256);
    assert_eq!(p.headers["authorization"], s.authorization.as_str());
}

#[test]
fn s3_presigned_url() {
    let uri = "https://examplebucket.s3.amazonaws.com/test.txt"
        .parse()
        .expect("uri");
    let s = sigv4::presign_url(&s3_creds(), &Method::GET, &uri, 86_400, unix(S3_TIME))
        .expect("presign");
    assert_eq!(
        s.canonical_request,
        "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n\
         host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD"
    );
    assert_eq!(
        s.string_to_sign,
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
         3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"
    );
    assert_eq!(
        s.authorization,
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    );
    assert_eq!(UNSIGNED_PAYLOAD, "UNSIGNED-PAYLOAD");
}

#[test]
fn presigned_url_keeps_and_signs_its_own_query() {
    let creds = s3_creds();
    let plain = "http://h:1/b/k".parse().expect("uri");
    let with_q = "http://h:1/b/k?versionId=a%2Fb".parse().expect("uri");
    let a = sigv4::presign_url(&creds, &Method::GET, &plain, 60, unix(S3_TIME)).expect("presign");
    let b = sigv4::presign_url(&creds, &Method::GET, &with_q, 60, unix(S3_TIME)).expect("presign");
    assert_ne!(a.signature, b.signature);
    assert!(
        b.authorization
            .contains("&versionId=a%2Fb&X-Amz-Signature=")
    );
}

/// The seed request of the S3 chunked upload example.
fn chunked_example() -> (http::request::Parts, sigv4::V4Signature) {
    let mut p = parts(
        "PUT",
        "http://s3.amazonaws.com/examplebucket/chunkObject.txt",
        &[
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("Content-Length", "66824"),
        ],
    );
    let s = sigv4::sign_parts(&s3_creds(), &mut p, STREAMING_PAYLOAD, unix(S3_TIME)).expect("sign");
    (p, s)
}

const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const CHUNK1: &str = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
const CHUNK2: &str = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
const FINAL: &str = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

#[test]
fn s3_chunked_upload_seed_and_chunk_signatures() {
    let (_, s) = chunked_example();
    assert_eq!(
        s.canonical_request,
        "PUT\n/examplebucket/chunkObject.txt\n\ncontent-encoding:aws-chunked\ncontent-length:66824\n\
         host:s3.amazonaws.com\nx-amz-content-sha256:STREAMING-AWS4-HMAC-SHA256-PAYLOAD\n\
         x-amz-date:20130524T000000Z\nx-amz-decoded-content-length:66560\n\
         x-amz-storage-class:REDUCED_REDUNDANCY\n\ncontent-encoding;content-length;host;\
         x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class\n\
         STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    );
    assert_eq!(
        s.string_to_sign,
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
         cee3fed04b70f867d036f722359b0b1f2f0e5dc0efadbc082b76c4c60e316455"
    );
    assert_eq!(s.signature, SEED);

    let mut signer = ChunkSigner::new(&s3_creds(), unix(S3_TIME), &s.signature);
    let first = vec![b'a'; 65_536];
    assert_eq!(
        signer.string_to_sign(&first),
        format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n{SEED}\n\
             {EMPTY_SHA256}\nbf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a"
        )
    );
    assert_eq!(signer.sign(&first), CHUNK1);
    assert_eq!(signer.sign(&[b'a'; 1024]), CHUNK2);
    assert_eq!(signer.sign(&[]), FINAL);
    assert_eq!(sigv4::chunked_encoded_length(66_560, 65_536), 66_824);
    assert_eq!(sigv4::chunked_encoded_length(0, 65_536), 86);
}

#[tokio::test]
async fn s3_chunked_upload_body_is_byte_exact() {
    let (_, s) = chunked_example();
    let signer = ChunkSigner::new(&s3_creds(), unix(S3_TIME), &s.signature);
    // Input in odd pieces: the body re-chunks to exactly 64 KiB.
    let pieces: Vec<Bytes> = vec![b'a'; 66_560]
        .chunks(1000)
        .map(Bytes::copy_from_slice)
        .collect();
    let body = aws_chunked_body(stream::iter(pieces), signer, 65_536);
    let got = body.collect().await.expect("body").to_bytes();

    let mut want = BytesMut::new();
    want.extend_from_slice(format!("10000;chunk-signature={CHUNK1}\r\n").as_bytes());
    want.extend_from_slice(&[b'a'; 65_536]);
    want.extend_from_slice(format!("\r\n400;chunk-signature={CHUNK2}\r\n").as_bytes());
    want.extend_from_slice(&[b'a'; 1024]);
    want.extend_from_slice(format!("\r\n0;chunk-signature={FINAL}\r\n\r\n").as_bytes());
    assert_eq!(got.len(), 66_824);
    assert!(
        got == want.freeze(),
        "aws-chunked body differs from the AWS example"
    );
}

#[test]
fn sign_fails_without_a_host() {
    let mut p = parts("GET", "/relative", &[]);
    assert!(matches!(
        sigv4::sign_parts(&s3_creds(), &mut p, EMPTY_SHA256, unix(S3_TIME)),
        Err(super::SignError::NoHost)
    ));
    let uri = "/relative".parse().expect("uri");
    assert!(sigv2::presign_url(&s3_creds(), &Method::GET, &uri, 1).is_err());
}

fn v2_sign(method: &str, uri: &str, headers: &[(&str, &str)]) -> sigv2::V2Signature {
    let mut p = parts(method, uri, headers);
    // The time is ignored: the request carries its Date.
    let s = sigv2::sign_parts(&s3_creds(), &mut p, unix(0)).expect("sign");
    assert_eq!(p.headers["authorization"], s.authorization.as_str());
    s
}

#[test]
fn sigv2_object_get_and_put() {
    let s = v2_sign(
        "GET",
        "http://s3.amazonaws.com/johnsmith/photos/puppy.jpg",
        &[("Date", "Tue, 27 Mar 2007 19:36:42 +0000")],
    );
    assert_eq!(
        s.string_to_sign,
        "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg"
    );
    assert_eq!(
        s.authorization,
        "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU="
    );

    let s = v2_sign(
        "PUT",
        "http://s3.amazonaws.com/johnsmith/photos/puppy.jpg",
        &[
            ("Content-Type", "image/jpeg"),
            ("Content-Length", "94328"),
            ("Date", "Tue, 27 Mar 2007 21:15:45 +0000"),
        ],
    );
    assert_eq!(
        s.string_to_sign,
        "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg"
    );
    assert_eq!(s.signature, "MyyxeRY7whkBe+bq8fHCL/2kKUg=");
}

#[test]
fn sigv2_list_and_acl_sub_resource() {
    // Ordinary query parameters are not part of the resource...
    let s = v2_sign(
        "GET",
        "http://s3.amazonaws.com/johnsmith/?prefix=photos&max-keys=50&marker=puppy",
        &[
            ("User-Agent", "Mozilla/5.0"),
            ("Date", "Tue, 27 Mar 2007 19:42:41 +0000"),
        ],
    );
    assert_eq!(
        s.string_to_sign,
        "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/"
    );
    assert_eq!(s.signature, "htDYFYduRNen8P9ZfE/s9SuKy0U=");
    // ...sub-resources are.
    let s = v2_sign(
        "GET",
        "http://s3.amazonaws.com/johnsmith/?acl",
        &[("Date", "Tue, 27 Mar 2007 19:44:46 +0000")],
    );
    assert_eq!(
        s.string_to_sign,
        "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl"
    );
    assert_eq!(s.signature, "c2WLPFtWHVgbEmeEG93a4cG37dM=");
}

#[test]
fn sigv2_amz_headers_are_sorted_and_merged() {
    let sts = sigv2::string_to_sign(
        "PUT",
        "4gJE4saaMU4BqNR0kLY+lw==",
        "application/x-download",
        "Tue, 27 Mar 2007 21:06:08 +0000",
        &[
            ("x-amz-meta-reviewedby".into(), "joe@johnsmith.net".into()),
            ("x-amz-acl".into(), "public-read".into()),
            (
                "x-amz-meta-reviewedby".into(),
                " jane@johnsmith.net ".into(),
            ),
            ("x-amz-meta-filechecksum".into(), "0x02661779".into()),
            ("x-amz-meta-checksumalgorithm".into(), "crc32".into()),
        ],
        "/static.johnsmith.net/db-backup.dat.gz",
    );
    assert_eq!(
        sts,
        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n\
         x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n\
         x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz"
    );
}

#[test]
fn sigv2_query_string_authentication() {
    let uri = "http://s3.amazonaws.com/johnsmith/photos/puppy.jpg"
        .parse()
        .expect("uri");
    let s = sigv2::presign_url(&s3_creds(), &Method::GET, &uri, 1_175_139_620).expect("presign");
    assert_eq!(
        s.string_to_sign,
        "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg"
    );
    assert_eq!(s.signature, "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
    assert_eq!(
        s.authorization,
        "http://s3.amazonaws.com/johnsmith/photos/puppy.jpg?Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620&AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE"
    );
}

#[test]
fn sigv2_sets_a_date_when_missing() {
    let mut p = parts("GET", "http://h:1/b/k", &[]);
    let s = sigv2::sign_parts(&s3_creds(), &mut p, unix(1_175_024_202)).expect("sign");
    assert_eq!(p.headers["date"], "Tue, 27 Mar 2007 19:36:42 GMT");
    assert_eq!(
        s.string_to_sign,
        "GET\n\n\nTue, 27 Mar 2007 19:36:42 GMT\n/b/k"
    );
}
