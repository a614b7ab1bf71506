//! S3 gateway error responses over a real localnet: malformed XML bodies,
//! invalid bucket names, unsatisfiable ranges and missing buckets or keys
//! get AWS's status and code, and every error is an S3 error document
//! (`Code`, `Message`, `RequestId`) with the `x-amz-request-id` header.

use bytes::Bytes;
use http::{Method, StatusCode};
use satstore_tests::s3::S3Response;
use satstore_tests::s3::crypto::md5_base64;

use crate::s3_auth::s3_net;

/// Asserts `r` is the S3 error `code` with `status`: an XML error document
/// with Code, Message and RequestId, and the same id in `x-amz-request-id`.
pub(crate) fn assert_s3_error(r: &S3Response, status: StatusCode, code: &str) {
    let text = r.text();
    assert_eq!(r.status, status, "want {status} {code}, got body {text}");
    assert_eq!(
        r.error_code().as_deref(),
        Some(code),
        "error code in {text}"
    );
    assert!(text.contains("<Error>"), "not an S3 error document: {text}");
    assert!(r.xml_field("Message").is_some(), "no <Message> in {text}");
    let id = r
        .xml_field("RequestId")
        .unwrap_or_else(|| panic!("no <RequestId> in {text}"));
    assert!(!id.is_empty(), "empty RequestId in {text}");
    assert_eq!(
        r.header("x-amz-request-id"),
        Some(id.as_str()),
        "x-amz-request-id header"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_and_missing_things_get_s3_errors() {
    let (net, client) = s3_net().await;
    let b = "errors";
    let r = client.create_bucket(b).await.expect("create bucket");
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = client
        .put_object(b, "small", Bytes::from(vec![7u8; 100]))
        .await
        .expect("put");
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // Malformed XML bodies.
    let body = Bytes::from_static(b"<CompleteMultipartUpload><Part><PartNumber>1</Part");
    let r = client
        .signed(
            Method::POST,
            b,
            Some("small"),
            "uploadId=not-a-real-upload",
            &[],
            body,
        )
        .await
        .expect("complete");
    assert_s3_error(&r, StatusCode::BAD_REQUEST, "MalformedXML");

    let body = Bytes::from_static(b"<Delete><Object><Key>small</Key></Object");
    let md5 = md5_base64(&body);
    let r = client
        .signed(
            Method::POST,
            b,
            None,
            "delete",
            &[("content-md5", &md5)],
            body,
        )
        .await
        .expect("delete objects");
    assert_s3_error(&r, StatusCode::BAD_REQUEST, "MalformedXML");

    let body = Bytes::from_static(b"this is not xml at all");
    let md5 = md5_base64(&body);
    let r = client
        .signed(Method::PUT, b, None, "cors", &[("content-md5", &md5)], body)
        .await
        .expect("put cors");
    assert_s3_error(&r, StatusCode::BAD_REQUEST, "MalformedXML");
    // Nothing was deleted by the refused DeleteObjects.
    assert_eq!(
        client.head_object(b, "small").await.expect("head").status,
        StatusCode::OK
    );

    // Invalid bucket names.
    let long = "a".repeat(64);
    for name in [
        "Invalid_Bucket",
        "ab",
        "-abc",
        "abc-",
        "a..b",
        "192.168.1.1",
        long.as_str(),
    ] {
        let r = client.create_bucket(name).await.expect("create");
        assert_s3_error(&r, StatusCode::BAD_REQUEST, "InvalidBucketName");
    }
    let r = client
        .get_object("Invalid_Bucket", "k", None)
        .await
        .expect("get");
    assert_s3_error(&r, StatusCode::BAD_REQUEST, "InvalidBucketName");

    // Ranges beyond the object.
    for range in ["bytes=100-200", "bytes=500-"] {
        let r = client
            .get_object(b, "small", Some(range))
            .await
            .expect("get");
        assert_s3_error(&r, StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange");
    }
    let r = client
        .get_object(b, "small", Some("bytes=90-200"))
        .await
        .expect("get");
    assert_eq!(
        r.status,
        StatusCode::PARTIAL_CONTENT,
        "a range overlapping the end is served"
    );
    assert_eq!(r.body.len(), 10);

    // Missing buckets and keys.
    let r = client
        .get_object("no-such-bucket", "k", None)
        .await
        .expect("get");
    assert_s3_error(&r, StatusCode::NOT_FOUND, "NoSuchBucket");
    let r = client
        .signed(Method::GET, "no-such-bucket", None, "", &[], Bytes::new())
        .await
        .expect("list");
    assert_s3_error(&r, StatusCode::NOT_FOUND, "NoSuchBucket");
    let r = client
        .put_object("no-such-bucket", "k", Bytes::from_static(b"x"))
        .await
        .expect("put");
    assert_s3_error(&r, StatusCode::NOT_FOUND, "NoSuchBucket");
    let r = client
        .get_object(b, "no/such key", None)
        .await
        .expect("get");
    assert_s3_error(&r, StatusCode::NOT_FOUND, "NoSuchKey");
    // HEAD has no body, but still the status and a request id.
    let r = client.head_object(b, "no-such-key").await.expect("head");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.header("x-amz-request-id").is_some_and(|v| !v.is_empty()));

    net.shutdown().await;
}
