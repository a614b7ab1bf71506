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

use std::sync::Mutex;
use std::time::SystemTime;

use bytes::Bytes;
use http::{Method, Request};

use crate::TestNet;
use crate::s3::{S3Client, empty_body, full_body};

/// The network behind [`http_requests`]: a localnet with its gateway, a
/// bucket, an object and a multipart upload to aim requests at.
struct HttpContext {
    runtime: tokio::runtime::Runtime,
    client: S3Client,
    upload_id: String,
    net: Mutex<Option<TestNet>>,
}

impl Drop for HttpContext {
    fn drop(&mut self) {
        let net = self.net.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(net) = net {
            self.runtime.block_on(net.shutdown());
        }
    }
}

const SEED_ACL: &str = r#"<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>"#;
const SEED_CORS: &str = r#"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule></CORSConfiguration>"#;
const SEED_DELETE: &str = r#"<Delete><Quiet>false</Quiet><Object><Key>obj</Key></Object><Object><Key>b/c</Key></Object></Delete>"#;
const SEED_COMPLETE: &str = r#"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag></Part></CompleteMultipartUpload>"#;
const SEED_LOCATION: &str = r#"<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>"#;
const SEED_RAW: &str = "GET /fuzz/obj?versionId=1&response-content-type=a%2Fb\nRange: bytes=0-10\nAuthorization: AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";
const SEED_QUERY: &str = "list-type=2&prefix=a%2F&delimiter=%2F&max-keys=3&continuation-token=x";

/// One operation per first byte; the rest is its body, query or request.
fn seed(op: u8, rest: &str) -> Vec<u8> {
    let mut v = vec![op];
    v.extend_from_slice(rest.as_bytes());
    v
}

/// Sends one fuzzed request; `Err` if the gateway failed (5xx other than
/// 501/503, or no answer at all).
async fn http_one(ctx: &HttpContext, input: &[u8]) -> Result<(), String> {
    let Some((&op, rest)) = input.split_first() else {
        return Ok(());
    };
    let body = Bytes::copy_from_slice(rest);
    let c = &ctx.client;
    let resp = match op % 8 {
        0 => c.signed(Method::PUT, "fuzz", None, "acl", &[], body).await,
        1 => c.signed(Method::PUT, "fuzz", None, "cors", &[], body).await,
        2 => {
            c.signed(Method::POST, "fuzz", None, "delete", &[], body)
                .await
        }
        3 => {
            let q = format!("uploadId={}", ctx.upload_id);
            c.signed(Method::POST, "fuzz", Some("mp"), &q, &[], body)
                .await
        }
        4 => c.signed(Method::PUT, "fuzz", None, "", &[], body).await,
        5 => {
            // A raw request: "METHOD PATH\nHeader: value\n..." as sent.
            let text = String::from_utf8_lossy(rest);
            let mut lines = text.lines();
            let Some((method, path)) = lines.next().and_then(|l| l.split_once(' ')) else {
                return Ok(());
            };
            // Always a path on our endpoint (never another authority).
            let path = format!("/{}", path.trim_start_matches('/'));
            let mut b = Request::builder()
                .method(method)
                .uri(format!("{}{}", c.endpoint(), path));
            for l in lines {
                if let Some((k, v)) = l.split_once(':') {
                    b = b.header(k.trim(), v.trim());
                }
            }
            let Ok(req) = b.body(empty_body()) else {
                return Ok(());
            };
            c.send(req).await
        }
        6 => {
            // SigV4 over an arbitrary query string (canonicalization).
            let query = String::from_utf8_lossy(rest);
            let Ok(uri) = format!("{}/fuzz?{query}", c.endpoint()).parse::<http::Uri>() else {
                return Ok(());
            };
            let Ok(mut parts) = c.parts(Method::GET, uri, &[]) else {
                return Ok(());
            };
            if c.sign_v4(
                &mut parts,
                crate::s3::sigv4::EMPTY_SHA256,
                SystemTime::now(),
            )
            .is_err()
            {
                return Ok(());
            }
            c.send(Request::from_parts(parts, empty_body())).await
        }
        _ => {
            // SigV2 over an arbitrary resource and amz headers.
            let text = String::from_utf8_lossy(rest);
            let (path, header) = text.split_once('\n').unwrap_or((&text, ""));
            let Ok(uri) = format!("{}/fuzz/{path}", c.endpoint()).parse::<http::Uri>() else {
                return Ok(());
            };
            let headers: Vec<(&str, &str)> = header
                .split_once(':')
                .map(|(k, v)| vec![(k.trim(), v.trim())])
                .unwrap_or_default();
            let Ok(mut parts) = c.parts(Method::PUT, uri, &headers) else {
                return Ok(());
            };
            if crate::s3::sigv2::sign_parts(c.credentials(), &mut parts, SystemTime::now()).is_err()
            {
                return Ok(());
            }
            c.send(Request::from_parts(parts, full_body(body))).await
        }
    };
    match resp {
        Ok(r) if r.status.is_server_error() && r.status != 501 && r.status != 503 => Err(format!(
            "op {op}: {} {}",
            r.status,
            r.error_code().unwrap_or_default()
        )),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("op {op}: no answer: {e}")),
    }
}

/// Requests to a live gateway: XML bodies of every operation that takes one
/// (ACL, CORS, multi-delete, complete-multipart, location constraint),
/// SigV4 and SigV2 canonicalization of odd queries, resources and headers,
/// and raw requests. A gateway answering a client's mistake with a 5xx (or
/// not at all) is a failure. Starts a localnet: only for the fuzz binary.
pub fn http_requests() -> anyhow::Result<Target> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (net, client, upload_id) = runtime.block_on(async {
        let net = TestNet::builder().nodes(4).start().await?;
        let user = net.net().s3();
        let client = S3Client::new(&user.endpoint, &user.access_key, &user.secret_key)?;
        client.create_bucket("fuzz").await?;
        client
            .signed(
                Method::PUT,
                "fuzz",
                Some("obj"),
                "",
                &[],
                Bytes::from_static(b"hello"),
            )
            .await?;
        let begun = client
            .signed(
                Method::POST,
                "fuzz",
                Some("mp"),
                "uploads",
                &[],
                Bytes::new(),
            )
            .await?;
        let upload_id = begun
            .xml_field("UploadId")
            .ok_or_else(|| anyhow::anyhow!("no UploadId in {}", begun.text()))?;
        anyhow::Ok((net, client, upload_id))
    })?;
    let ctx = std::sync::Arc::new(HttpContext {
        runtime,
        client,
        upload_id,
        net: Mutex::new(Some(net)),
    });
    Ok(Target {
        name: "gateway-http",
        seeds: vec![
            seed(0, SEED_ACL),
            seed(1, SEED_CORS),
            seed(2, SEED_DELETE),
            seed(3, SEED_COMPLETE),
            seed(4, SEED_LOCATION),
            seed(5, SEED_RAW),
            seed(6, SEED_QUERY),
            seed(7, "obj?acl\nx-amz-meta-a: b"),
        ],
        run: Box::new(move |input| {
            if let Err(e) = ctx.runtime.block_on(http_one(&ctx, input)) {
                panic!("gateway failed: {e}");
            }
        }),
    })
}
