//! S3 gateway behaviour beyond single requests, over a real localnet:
//! grants between registered users, several gateways on one database,
//! virtual-host addressing, credentials surviving a restart, metrics.

use std::time::SystemTime;

use bytes::Bytes;
use gateway::{GatewayConfig, GatewayHandle, GatewayListeners};
use http::{Method, Request, StatusCode};
use localnet::{Localnet, LocalnetConfig};
use satstore_tests::TestNet;
use satstore_tests::s3::body::empty_body;
use satstore_tests::s3::sigv4::UNSIGNED_PAYLOAD;
use satstore_tests::s3::{Credentials, S3Client};
use tokio::net::TcpListener;

use crate::s3_errors::assert_s3_error;

fn clients(net: &TestNet) -> (S3Client, S3Client) {
    let a = net.net().s3();
    let b = net.net().s3_second();
    let one = S3Client::new(&a.endpoint, &a.access_key, &a.secret_key).expect("client 1");
    let two = one.with_credentials(Credentials::new(&b.access_key, &b.secret_key));
    (one, two)
}

/// The config of another gateway on the localnet gateway's database and
/// share key, trusting the localnet satellite.
pub(crate) fn extra_gateway_config(net: &TestNet) -> GatewayConfig {
    let dir = net.net().dir().join("gateway");
    GatewayConfig {
        data_dir: dir.clone(),
        database_url: Some(format!("sqlite://{}/gateway.db?mode=rwc", dir.display())),
        share_key_file: Some(dir.join("share.key")),
        trusted_satellites: vec![net.net().satellite().url().to_string()],
        ..GatewayConfig::default()
    }
}

/// Starts a gateway with `config` and `uplink_config` on fresh ports.
pub(crate) async fn start_gateway(
    config: GatewayConfig,
    uplink_config: uplink::UplinkConfig,
) -> GatewayHandle {
    let listeners = GatewayListeners {
        s3: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        metrics: TcpListener::bind("127.0.0.1:0").await.unwrap(),
    };
    gateway::start(config, listeners, uplink_config)
        .await
        .expect("start gateway")
}

/// Another gateway on the localnet gateway's state that serves HTTP
/// registration.
pub(crate) async fn registering_gateway(net: &TestNet) -> GatewayHandle {
    let config = GatewayConfig {
        allow_registration: true,
        ..extra_gateway_config(net)
    };
    start_gateway(config, uplink::UplinkConfig::default()).await
}

async fn anonymous_get(
    client: &S3Client,
    bucket: &str,
    key: &str,
) -> satstore_tests::s3::S3Response {
    let req = Request::get(client.uri(bucket, Some(key), "").expect("uri"))
        .body(empty_body())
        .expect("request");
    client.send(req).await.expect("send")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn grants_to_another_user_allow_only_what_they_say() {
    let net = TestNet::start().await.expect("start network");
    let (one, two) = clients(&net);
    let second_id = net.net().s3_second().canonical_id.clone();
    let b = "granted";
    assert_eq!(one.create_bucket(b).await.unwrap().status, StatusCode::OK);
    let put = one
        .put_object(b, "doc.txt", Bytes::from_static(b"for two"))
        .await
        .unwrap();
    assert_eq!(put.status, StatusCode::OK);

    // Private: neither the other user nor anonymous may read; the other
    // user cannot claim the bucket name either.
    assert_s3_error(
        &two.get_object(b, "doc.txt", None).await.unwrap(),
        StatusCode::FORBIDDEN,
        "AccessDenied",
    );
    assert_s3_error(
        &anonymous_get(&one, b, "doc.txt").await,
        StatusCode::FORBIDDEN,
        "AccessDenied",
    );
    assert_s3_error(
        &two.create_bucket(b).await.unwrap(),
        StatusCode::CONFLICT,
        "BucketAlreadyExists",
    );
    assert_s3_error(
        &one.create_bucket(b).await.unwrap(),
        StatusCode::CONFLICT,
        "BucketAlreadyOwnedByYou",
    );

    // Grant READ on the object to user two by canonical id.
    let grant = format!("id=\"{second_id}\"");
    let r = one
        .signed(
            Method::PUT,
            b,
            Some("doc.txt"),
            "acl=",
            &[("x-amz-grant-read", &grant)],
            Bytes::new(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let got = two.get_object(b, "doc.txt", None).await.unwrap();
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_eq!(&got.body[..], b"for two");
    // The ACL names user two; reading it needs READ_ACP, which two lacks.
    let acl = one
        .signed(Method::GET, b, Some("doc.txt"), "acl=", &[], Bytes::new())
        .await
        .unwrap();
    assert!(acl.text().contains(&second_id), "{}", acl.text());
    // READ is not WRITE: two can neither overwrite nor delete, nor change the ACL.
    assert_s3_error(
        &two.put_object(b, "doc.txt", Bytes::from_static(b"mine now"))
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "AccessDenied",
    );
    assert_s3_error(
        &two.delete_object(b, "doc.txt").await.unwrap(),
        StatusCode::FORBIDDEN,
        "AccessDenied",
    );
    assert_s3_error(
        &two.signed(
            Method::PUT,
            b,
            Some("doc.txt"),
            "acl=",
            &[("x-amz-acl", "public-read")],
            Bytes::new(),
        )
        .await
        .unwrap(),
        StatusCode::FORBIDDEN,
        "AccessDenied",
    );
    // The grant covers that object only.
    one.put_object(b, "other.txt", Bytes::from_static(b"not for two"))
        .await
        .unwrap();
    assert_s3_error(
        &two.get_object(b, "other.txt", None).await.unwrap(),
        StatusCode::FORBIDDEN,
        "AccessDenied",
    );
    // Anonymous is still refused; the content is unchanged.
    assert_s3_error(
        &anonymous_get(&one, b, "doc.txt").await,
        StatusCode::FORBIDDEN,
        "AccessDenied",
    );
    assert_eq!(
        &one.get_object(b, "doc.txt", None).await.unwrap().body[..],
        b"for two"
    );

    // Taking the grant back (private) ends two's access at once.
    let r = one
        .signed(
            Method::PUT,
            b,
            Some("doc.txt"),
            "acl=",
            &[("x-amz-acl", "private")],
            Bytes::new(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK);
    assert_s3_error(
        &two.get_object(b, "doc.txt", None).await.unwrap(),
        StatusCode::FORBIDDEN,
        "AccessDenied",
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_gateways_on_one_database_serve_the_same_users_and_acls() {
    let net = TestNet::start().await.expect("start network");
    let (one, _) = clients(&net);
    let b = "shared-state";
    one.create_bucket(b).await.unwrap();
    let r = one
        .signed(
            Method::PUT,
            b,
            Some("pub.txt"),
            "",
            &[("x-amz-acl", "public-read")],
            Bytes::from_static(b"hello"),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let second = start_gateway(extra_gateway_config(&net), uplink::UplinkConfig::default()).await;
    let via_second = S3Client::new(
        &second.endpoint(),
        &one.credentials().access_key,
        &one.credentials().secret_key,
    )
    .unwrap();
    // Same credentials, same object, same ACL (anonymous read), same CORS store.
    let got = via_second.get_object(b, "pub.txt", None).await.unwrap();
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_eq!(&got.body[..], b"hello");
    assert_eq!(
        &anonymous_get(&via_second, b, "pub.txt").await.body[..],
        b"hello"
    );
    // A bucket created through one gateway is taken in the other's namespace.
    let (_, two) = clients(&net);
    let two_second = via_second.with_credentials(two.credentials().clone());
    assert_s3_error(
        &two_second.create_bucket(b).await.unwrap(),
        StatusCode::CONFLICT,
        "BucketAlreadyExists",
    );
    second.shutdown().await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn virtual_host_addressing_metrics_and_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = LocalnetConfig::new(dir.path());
    let net = Localnet::start(config.clone()).await.expect("first start");
    let creds = net.s3().clone();
    let one = S3Client::new(&creds.endpoint, &creds.access_key, &creds.secret_key).unwrap();
    let b = "vhost";
    one.create_bucket(b).await.unwrap();
    one.put_object(b, "dir/a b.txt", Bytes::from_static(b"virtual"))
        .await
        .unwrap();

    // bucket.localhost:port addressing, signed over that host.
    let addr = net.gateway().addr();
    let uri: http::Uri = format!("http://{addr}/dir/a%20b.txt").parse().unwrap();
    let host = format!("{b}.localhost:{}", addr.port());
    let mut parts = one
        .parts(Method::GET, uri, &[("host", host.as_str())])
        .unwrap();
    one.sign_v4(&mut parts, UNSIGNED_PAYLOAD, SystemTime::now())
        .unwrap();
    let got = one
        .send(Request::from_parts(parts, empty_body()))
        .await
        .unwrap();
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    assert_eq!(&got.body[..], b"virtual");

    // Metrics count requests by operation and status, latency and bytes.
    let req = Request::get(format!("http://{}/metrics", net.gateway().metrics_addr()))
        .body(empty_body())
        .unwrap();
    let text = one.send(req).await.unwrap().text();
    assert!(
        text.contains("gateway_s3_requests_total{operation=\"PutObject\",status=\"200\"}"),
        "{text}"
    );
    assert!(
        text.contains("gateway_s3_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("gateway_s3_sent_bytes_total"), "{text}");

    // DIR/env tells S3 clients where to go and who they are.
    net.write_env().expect("env");
    let env = std::fs::read_to_string(dir.path().join("env")).expect("env file");
    for line in [
        format!("export S3_ENDPOINT={}", creds.endpoint),
        format!("export S3_ACCESS_KEY={}", creds.access_key),
        format!("export S3_SECRET_KEY={}", creds.secret_key),
        format!("export S3_ACCESS_KEY_2={}", net.s3_second().access_key),
    ] {
        assert!(env.lines().any(|l| l == line), "{line} not in {env}");
    }
    net.shutdown().await;

    // Credentials, the endpoint, bucket ownership and objects survive a restart.
    let net = Localnet::start(config).await.expect("second start");
    assert_eq!(net.s3(), &creds);
    let got = one.get_object(b, "dir/a b.txt", None).await.unwrap();
    assert_eq!(&got.body[..], b"virtual", "{}", got.text());
    assert_s3_error(
        &one.create_bucket(b).await.unwrap(),
        StatusCode::CONFLICT,
        "BucketAlreadyOwnedByYou",
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn http_registration_makes_working_credentials_and_refuses_bad_input() {
    let net = TestNet::start().await.expect("start network");
    // The localnet gateway keeps HTTP registration off.
    let grant = net.net().access().serialize();
    match gateway::register_http(&net.net().gateway().endpoint(), &grant, None, None).await {
        Err(gateway::GatewayError::InvalidArgument(m)) => assert!(m.contains("403"), "{m}"),
        other => panic!("want 403, got {other:?}"),
    }
    let gw = registering_gateway(&net).await;
    let endpoint = gw.endpoint();
    let c = gateway::register_http(&endpoint, &grant, Some("third@example.com"), Some("Third"))
        .await
        .expect("register");
    assert_eq!(c.display_name, "Third");
    let client = S3Client::new(&endpoint, &c.access_key, &c.secret_key).unwrap();
    assert_eq!(
        client.create_bucket("third").await.unwrap().status,
        StatusCode::OK
    );
    // A self-registered email is kept but not confirmed: a second user may
    // give it too, and grants by email do not reach either.
    let again = gateway::register_http(&endpoint, &grant, Some("THIRD@example.com"), None)
        .await
        .expect("same email again");
    let store = gw.gateway().store();
    for id in [&c.canonical_id, &again.canonical_id] {
        let user = store.user_by_id(id).await.unwrap().unwrap();
        assert_eq!(user.confirmed_email, None);
    }
    // An operator's confirmation makes it count, for one user only.
    store
        .confirm_email(&c.canonical_id, "third@example.com")
        .await
        .unwrap();
    match store
        .confirm_email(&again.canonical_id, "Third@Example.com")
        .await
    {
        Err(gateway::GatewayError::Conflict(m)) => assert!(m.contains("third@example.com"), "{m}"),
        other => panic!("want a conflict, got {other:?}"),
    }
    // A bad grant and a bad email are refused with reasons.
    match gateway::register_http(&endpoint, "not-a-grant", None, None).await {
        Err(gateway::GatewayError::InvalidArgument(m)) => assert!(m.contains("400"), "{m}"),
        other => panic!("want 400, got {other:?}"),
    }
    assert!(
        gateway::register_http(&endpoint, &grant, Some("nope"), None)
            .await
            .is_err()
    );
    // Only POST; the path is not a bucket.
    let req = Request::get(format!("{endpoint}/_satstore/register"))
        .body(empty_body())
        .unwrap();
    assert_eq!(
        client.send(req).await.unwrap().status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    gw.shutdown().await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gateways_keep_their_state_in_postgres() {
    let net = TestNet::start().await.expect("start network");
    let pg = satstore_tests::TempPostgres::start().expect("postgres");
    let mut gateways = Vec::new();
    let key_dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let config = GatewayConfig {
            database_url: Some(pg.url()),
            data_dir: key_dir.path().to_path_buf(),
            allow_registration: true,
            trusted_satellites: vec![net.net().satellite().url().to_string()],
            ..GatewayConfig::default()
        };
        gateways.push(start_gateway(config, uplink::UplinkConfig::default()).await);
    }
    // A gateway with another share key is refused on that database.
    let other = tempfile::tempdir().unwrap();
    let listeners = GatewayListeners {
        s3: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        metrics: TcpListener::bind("127.0.0.1:0").await.unwrap(),
    };
    let refused = gateway::start(
        GatewayConfig {
            database_url: Some(pg.url()),
            data_dir: other.path().to_path_buf(),
            ..GatewayConfig::default()
        },
        listeners,
        uplink::UplinkConfig::default(),
    )
    .await;
    match refused {
        Err(e) => assert!(e.to_string().contains("share key"), "{e}"),
        Ok(_) => panic!("a gateway with another share key started on the database"),
    }
    let (first, second) = (gateways[0].endpoint(), gateways[1].endpoint());
    let grant = net.net().access().serialize();
    let c = gateway::register_http(&first, &grant, Some("pg@example.com"), None)
        .await
        .expect("register");
    let one = S3Client::new(&first, &c.access_key, &c.secret_key).unwrap();
    let two = S3Client::new(&second, &c.access_key, &c.secret_key).unwrap();
    let b = "on-postgres";
    assert_eq!(one.create_bucket(b).await.unwrap().status, StatusCode::OK);
    let r = one
        .signed(
            Method::PUT,
            b,
            Some("pub.txt"),
            "",
            &[("x-amz-acl", "public-read"), ("x-amz-meta-k", "v")],
            Bytes::from_static(b"kept in postgres"),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The other gateway knows the user, the ACL (anonymous read) and the name.
    assert_eq!(
        &anonymous_get(&two, b, "pub.txt").await.body[..],
        b"kept in postgres"
    );
    let head = two.head_object(b, "pub.txt").await.unwrap();
    assert_eq!(head.header("x-amz-meta-k"), Some("v"));
    assert_s3_error(
        &two.create_bucket(b).await.unwrap(),
        StatusCode::CONFLICT,
        "BucketAlreadyOwnedByYou",
    );
    // CORS rules and a multipart upload begun on one, finished on the other.
    let cors = "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";
    let md5 = satstore_tests::s3::crypto::md5_base64(cors.as_bytes());
    let r = one
        .signed(
            Method::PUT,
            b,
            None,
            "cors=",
            &[("content-md5", md5.as_str())],
            Bytes::from(cors),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let got = two
        .signed(Method::GET, b, None, "cors=", &[], Bytes::new())
        .await
        .unwrap();
    assert!(
        got.text().contains("<AllowedOrigin>*</AllowedOrigin>"),
        "{}",
        got.text()
    );
    let created = one
        .signed(Method::POST, b, Some("mp"), "uploads=", &[], Bytes::new())
        .await
        .unwrap();
    let upload_id = created.xml_field("UploadId").expect("upload id");
    let part = two
        .signed(
            Method::PUT,
            b,
            Some("mp"),
            &format!("partNumber=1&uploadId={upload_id}"),
            &[],
            Bytes::from_static(b"one part"),
        )
        .await
        .unwrap();
    let etag = part.header("etag").expect("part etag").to_string();
    let complete = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    );
    let done = one
        .signed(
            Method::POST,
            b,
            Some("mp"),
            &format!("uploadId={upload_id}"),
            &[],
            Bytes::from(complete),
        )
        .await
        .unwrap();
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert_eq!(
        &two.get_object(b, "mp", None).await.unwrap().body[..],
        b"one part"
    );
    for g in gateways {
        g.shutdown().await;
    }
    net.shutdown().await;
}
