//! Attacks on the S3 gateway, each reproduced over a real localnet: bucket
//! takeover through unclaimed names, open registration, unbounded listings
//! and bodies, shares wider or longer-lived than their ACL, database dumps,
//! deleting buckets that still hold uploads, and malformed paths.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use satstore_common::NodeId;
use satstore_common::macaroon::ApiKey;
use satstore_tests::TestNet;
use satstore_tests::s3::body::empty_body;
use satstore_tests::s3::sigv4::UNSIGNED_PAYLOAD;
use satstore_tests::s3::{Credentials, S3Client, S3Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uplink::encryption::{EncryptionStore, Key, PathCipher};
use uplink::{Access, DownloadOptions, ErrorKind, Project, UploadOptions};

use crate::s3_errors::assert_s3_error;
use crate::s3_gateway::{extra_gateway_config, registering_gateway, start_gateway};

/// The localnet's two S3 users.
fn clients(net: &TestNet) -> (S3Client, S3Client) {
    let a = net.net().s3();
    let b = net.net().s3_second();
    let one = S3Client::new(&a.endpoint, &a.access_key, &a.secret_key).expect("client 1");
    let two = one.with_credentials(Credentials::new(&b.access_key, &b.secret_key));
    (one, two)
}

/// An unsigned request.
async fn anonymous(
    client: &S3Client,
    method: Method,
    bucket: &str,
    key: Option<&str>,
) -> S3Response {
    let req = Request::builder()
        .method(method)
        .uri(client.uri(bucket, key, "").expect("uri"))
        .body(empty_body())
        .expect("request");
    client.send(req).await.expect("send")
}

/// PUT with an `x-amz-acl`.
async fn put_with_acl(client: &S3Client, bucket: &str, key: &str, acl: &str, data: &[u8]) {
    let r = client
        .signed(
            Method::PUT,
            bucket,
            Some(key),
            "",
            &[("x-amz-acl", acl)],
            Bytes::copy_from_slice(data),
        )
        .await
        .expect("put");
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// The whole object through `project`, or the uplink error kind.
async fn download(project: &Project, bucket: &str, key: &str) -> Result<Vec<u8>, ErrorKind> {
    let mut dl = project
        .download_object(
            bucket,
            key,
            &DownloadOptions {
                offset: 0,
                length: -1,
            },
        )
        .await
        .map_err(|e| e.kind())?;
    let mut out = Vec::new();
    while let Some(chunk) = dl.read_chunk().await.map_err(|e| e.kind())? {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Uploads `data` to `bucket`/`key` through `project`.
async fn upload(project: &Project, bucket: &str, key: &str, data: &[u8]) {
    let mut up = project
        .upload_object(bucket, key, &UploadOptions::default())
        .await
        .expect("begin upload");
    up.write_all(data).await.expect("write");
    up.commit().await.expect("commit");
}

/// The localnet gateway's SQLite database, opened directly (what an
/// attacker with a copy of the database file sees).
async fn gateway_db(net: &TestNet) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = format!(
        "sqlite://{}/gateway/gateway.db?mode=ro",
        net.net().dir().display()
    );
    sqlx::AnyPool::connect(&url).await.expect("open gateway db")
}

/// The sealed share kept for an object's `AllUsers` READ grant.
async fn sealed_public_share(net: &TestNet, bucket: &str, key: &str) -> String {
    use sqlx::Row;
    let db = gateway_db(net).await;
    let row = sqlx::query(
        "SELECT sealed_grant FROM shares WHERE bucket = $1 AND object_key = $2 AND grantee = 'AllUsers'",
    )
    .bind(bucket.to_string())
    .bind(key.to_string())
    .fetch_one(&db)
    .await
    .expect("share row");
    let sealed: String = row.try_get("sealed_grant").expect("sealed_grant");
    db.close().await;
    sealed
}

/// Opens a sealed share with the running gateway's share key (what the
/// gateway itself does) and returns its project.
async fn open_share(net: &TestNet, sealed: &str) -> Project {
    let grant = net
        .net()
        .gateway()
        .gateway()
        .open("share", sealed)
        .expect("open share with the gateway's key");
    let access = Access::parse(std::str::from_utf8(&grant).expect("utf-8")).expect("grant");
    access.open_project().await.expect("open share project")
}

/// A grant of a new project of the localnet's satellite.
async fn new_project_grant(net: &TestNet, name: &str) -> Access {
    let (_, key) = satellite::admin::create_project(net.net().satellite().store(), name)
        .await
        .expect("create project");
    uplink::request_access_with_passphrase(
        &net.net().satellite().url().to_string(),
        &key.serialize(),
        "attacker passphrase",
    )
    .await
    .expect("grant")
}

// ---------------------------------------------------------------------------
// 4. Bucket takeover through unclaimed names.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stranger_cannot_take_over_or_wipe_a_bucket_made_outside_the_gateway() {
    let net = TestNet::start().await.expect("start network");
    let (one, two) = clients(&net);
    let b = "made-outside";
    // User one's bucket, created with the uplink (no gateway record), with
    // a public object published through the gateway.
    let project = net.project().await.expect("project");
    project.create_bucket(b).await.expect("create bucket");
    put_with_acl(&one, b, "pub.txt", "public-read", b"public").await;
    let got = anonymous(&one, Method::GET, b, Some("pub.txt")).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());

    // A stranger deletes the name: refused, and one's ACL stays.
    let r = two
        .signed(Method::DELETE, b, None, "", &[], Bytes::new())
        .await
        .unwrap();
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text());
    let got = anonymous(&one, Method::GET, b, Some("pub.txt")).await;
    assert_eq!(
        got.status,
        StatusCode::OK,
        "a stranger's DeleteBucket wiped the owner's ACL: {}",
        got.text()
    );
    // The stranger cannot claim the name in the gateway's namespace either.
    assert_s3_error(
        &two.create_bucket(b).await.unwrap(),
        StatusCode::CONFLICT,
        "BucketAlreadyExists",
    );
    assert_eq!(
        &anonymous(&one, Method::GET, b, Some("pub.txt")).await.body[..],
        b"public"
    );
    net.shutdown().await;
}

// ---------------------------------------------------------------------------
// 5. Open registration.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn http_registration_is_off_by_default() {
    let net = TestNet::start().await.expect("start network");
    let dir = tempfile::tempdir().unwrap();
    let config = gateway::GatewayConfig {
        data_dir: dir.path().to_path_buf(),
        ..gateway::GatewayConfig::default()
    };
    let gw = gateway::start(
        config,
        gateway::GatewayListeners {
            s3: TcpListener::bind("127.0.0.1:0").await.unwrap(),
            metrics: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        },
        uplink::UplinkConfig::default(),
    )
    .await
    .expect("gateway");
    let grant = net.net().access().serialize();
    let r = gateway::register_http(&gw.endpoint(), &grant, None, None).await;
    assert!(r.is_err(), "a default gateway registered {r:?}");
    gw.shutdown().await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registration_refuses_a_grant_the_satellite_does_not_know() {
    let net = TestNet::start().await.expect("start network");
    let gw = registering_gateway(&net).await;
    let endpoint = gw.endpoint();
    // A genuine grant registers there...
    gateway::register_http(&endpoint, &net.net().access().serialize(), None, None)
        .await
        .expect("a genuine grant registers");
    // ...one well-formed, naming the real satellite, but with a key it
    // never issued does not.
    let forged = Access::new(
        net.net().satellite().url(),
        ApiKey::new(b"not the satellite's secret"),
        EncryptionStore::new(Key::from_bytes([9; 32]), PathCipher::AesGcm),
    );
    let r = gateway::register_http(&endpoint, &forged.serialize(), None, None).await;
    assert!(r.is_err(), "a forged grant was registered: {r:?}");
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("400") && msg.contains("satellite refused"),
        "{msg}"
    );
    gw.shutdown().await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn grants_naming_an_untrusted_satellite_are_refused_and_never_dialed() {
    let net = TestNet::start().await.expect("start network");
    let gw = registering_gateway(&net).await;
    let endpoint = gw.endpoint();
    // Something listening where the grant says its satellite is.
    let evil = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let evil_addr = evil.local_addr().unwrap();
    let dials = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = dials.clone();
    tokio::spawn(async move {
        while let Ok((_sock, _)) = evil.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let id = NodeId::from_public_key(&[3; 32]);
    let grant = Access::new(
        format!("{id}@{evil_addr}").parse().unwrap(),
        ApiKey::new(b"whatever"),
        EncryptionStore::new(Key::from_bytes([9; 32]), PathCipher::AesGcm),
    );
    let r = gateway::register_http(&endpoint, &grant.serialize(), None, None).await;
    if let Ok(c) = &r {
        // Registered: a request with these credentials makes the gateway dial.
        let client = S3Client::new(&endpoint, &c.access_key, &c.secret_key).unwrap();
        let _ = client
            .signed(Method::GET, "", None, "", &[], Bytes::new())
            .await;
    }
    assert!(
        r.is_err(),
        "a grant of an untrusted satellite was registered"
    );
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("does not trust the satellite"), "{msg}");
    // A user with such a grant already in the database (registered before
    // the allowlist changed): its requests are refused without a dial.
    let access_key = gateway::crypto::new_access_key_id();
    let secret_key = gateway::crypto::new_secret_key();
    let record = gateway::store::UserRecord {
        id: gateway::crypto::new_canonical_id(),
        display_name: "old".into(),
        email: None,
        confirmed_email: None,
        project_id: Some("elsewhere/p".into()),
        sealed_secret: gateway::crypto::seal(
            &gateway::crypto::secret_sealing_key(&access_key),
            "secret",
            secret_key.as_bytes(),
        ),
        sealed_grant: gateway::crypto::seal(
            &gateway::crypto::grant_sealing_key(&secret_key),
            "grant",
            grant.serialize().as_bytes(),
        ),
        created_at: 0,
    };
    gw.gateway()
        .store()
        .insert_user(&gateway::crypto::lookup(&access_key), &record)
        .await
        .unwrap();
    let client = S3Client::new(&endpoint, &access_key, &secret_key).unwrap();
    let list = client
        .signed(Method::GET, "", None, "", &[], Bytes::new())
        .await
        .unwrap();
    let put = client
        .put_object("bkt", "k", Bytes::from_static(b"x"))
        .await
        .unwrap();
    for r in [list, put] {
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
        assert!(
            r.text().contains("does not trust the satellite"),
            "{}",
            r.text()
        );
    }
    assert_eq!(dials.load(std::sync::atomic::Ordering::SeqCst), 0);
    gw.shutdown().await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_self_registered_email_does_not_receive_grants_by_email() {
    let net = TestNet::start().await.expect("start network");
    let (one, _) = clients(&net);
    let gw = registering_gateway(&net).await;
    let endpoint = gw.endpoint();
    // The attacker registers the victim's email for their own grant.
    let attacker_grant = new_project_grant(&net, "attacker").await;
    let victim = "victim@corp.example";
    let attacker =
        gateway::register_http(&endpoint, &attacker_grant.serialize(), Some(victim), None)
            .await
            .expect("attacker registration");
    let attacker =
        one.with_credentials(Credentials::new(&attacker.access_key, &attacker.secret_key));

    let b = "by-email";
    assert_eq!(one.create_bucket(b).await.unwrap().status, StatusCode::OK);
    one.put_object(b, "for-victim.txt", Bytes::from_static(b"for the victim"))
        .await
        .unwrap();
    let grant = format!("emailAddress=\"{victim}\"");
    let headers = [("x-amz-grant-read", grant.as_str())];
    let put_grant = || {
        one.signed(
            Method::PUT,
            b,
            Some("for-victim.txt"),
            "acl=",
            &headers,
            Bytes::new(),
        )
    };
    let r = put_grant().await.unwrap();
    // The grant must not reach the attacker: refused as unresolvable.
    let got = attacker
        .get_object(b, "for-victim.txt", None)
        .await
        .unwrap();
    assert_ne!(
        got.status,
        StatusCode::OK,
        "the attacker read the victim's object"
    );
    assert_s3_error(
        &r,
        StatusCode::BAD_REQUEST,
        "UnresolvableGrantByEmailAddress",
    );
    // The real victim, whose email an operator confirmed, gets the grant.
    let victim_grant = new_project_grant(&net, "victim").await;
    let v = gateway::register_http(&endpoint, &victim_grant.serialize(), Some(victim), None)
        .await
        .expect("victim registration");
    gw.gateway()
        .store()
        .confirm_email(&v.canonical_id, victim)
        .await
        .unwrap();
    let r = put_grant().await.unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let victim_client = one.with_credentials(Credentials::new(&v.access_key, &v.secret_key));
    let got = victim_client
        .get_object(b, "for-victim.txt", None)
        .await
        .unwrap();
    assert_eq!(&got.body[..], b"for the victim", "{}", got.text());
    let got = attacker
        .get_object(b, "for-victim.txt", None)
        .await
        .unwrap();
    assert_eq!(got.status, StatusCode::FORBIDDEN);
    gw.shutdown().await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registration_is_rate_limited() {
    let net = TestNet::start().await.expect("start network");
    let gw = registering_gateway(&net).await;
    let endpoint = gw.endpoint();
    let grant = net.net().access().serialize();
    let mut refused = 0;
    for _ in 0..30 {
        match gateway::register_http(&endpoint, &grant, None, None).await {
            Ok(_) => {}
            Err(e) => {
                assert!(e.to_string().contains("429"), "{e}");
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "30 registrations in a row were all accepted");
    // The default: 10 a minute from one client.
    assert_eq!(refused, 20);
    gw.shutdown().await;
    net.shutdown().await;
}

// ---------------------------------------------------------------------------
// 6. Unbounded listings and bodies.

/// Calls of `method` the satellite has answered so far.
async fn satellite_calls(net: &TestNet, client: &S3Client, method: &str) -> u64 {
    let req = Request::get(format!(
        "http://{}/metrics",
        net.net().satellite().metrics_addr()
    ))
    .body(empty_body())
    .unwrap();
    let text = client.send(req).await.unwrap().text();
    let needle = format!("method=\"{method}\"");
    text.lines()
        .filter(|l| l.starts_with("satellite_rpc_requests_total{") && l.contains(&needle))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delimiter_listing_page_makes_a_bounded_number_of_satellite_calls() {
    let net = TestNet::start().await.expect("start network");
    let (one, _) = clients(&net);
    let b = "many-rollups";
    assert_eq!(one.create_bucket(b).await.unwrap().status, StatusCode::OK);
    let project = net.project().await.unwrap();
    for i in 0..100 {
        upload(&project, b, &format!("a-{i:03}"), b"x").await;
    }
    upload(&project, b, "b-1", b"x").await;
    // A gateway whose uplink reads the satellite 10 items at a time.
    let uplink_config = uplink::UplinkConfig {
        list_page_size: 10,
        ..uplink::UplinkConfig::default()
    };
    let gw = start_gateway(extra_gateway_config(&net), uplink_config).await;
    let client = S3Client::new(
        &gw.endpoint(),
        &one.credentials().access_key,
        &one.credentials().secret_key,
    )
    .unwrap();
    let before = satellite_calls(&net, &client, "ListObjects").await;
    let page = client
        .signed(
            Method::GET,
            b,
            None,
            "delimiter=-&max-keys=1",
            &[],
            Bytes::new(),
        )
        .await
        .unwrap();
    let calls = satellite_calls(&net, &client, "ListObjects").await - before;
    assert!(calls > 0, "the satellite counts ListObjects calls");
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    // One listing of the 101 keys is 11 pages of 10: the page needs one.
    assert!(
        calls <= 11,
        "one ListObjects page (max-keys 1) made {calls} satellite calls"
    );
    // The page is still right: "a-" rolled up, then "b-" on the next page.
    assert!(
        page.text().contains("<Prefix>a-</Prefix>"),
        "{}",
        page.text()
    );
    assert_eq!(page.xml_field("IsTruncated").as_deref(), Some("true"));
    let marker = page.xml_field("NextMarker").expect("NextMarker");
    let next = client
        .signed(
            Method::GET,
            b,
            None,
            &format!("delimiter=-&max-keys=1&marker={marker}"),
            &[],
            Bytes::new(),
        )
        .await
        .unwrap();
    assert!(
        next.text().contains("<Prefix>b-</Prefix>"),
        "{}",
        next.text()
    );
    gw.shutdown().await;
    net.shutdown().await;
}

/// Sends a signed PUT head declaring `declared` body bytes, then only
/// `sent` of them, and keeps the connection open. Returns what the
/// gateway answered (possibly nothing) and when the connection ended.
async fn stalled_put(
    client: &S3Client,
    bucket: &str,
    key: &str,
    declared: usize,
    sent: usize,
    wait: Duration,
) -> Option<(String, Duration)> {
    let uri = client.uri(bucket, Some(key), "").unwrap();
    let authority = uri.authority().unwrap().to_string();
    let declared_text = declared.to_string();
    let mut parts = client
        .parts(
            Method::PUT,
            uri.clone(),
            &[("content-length", &declared_text)],
        )
        .unwrap();
    client
        .sign_v4(&mut parts, UNSIGNED_PAYLOAD, SystemTime::now())
        .unwrap();
    let mut head = format!("PUT {} HTTP/1.1\r\n", uri.path());
    if !parts.headers.contains_key("host") {
        head.push_str(&format!("host: {authority}\r\n"));
    }
    for (name, value) in &parts.headers {
        head.push_str(&format!("{}: {}\r\n", name, value.to_str().unwrap()));
    }
    head.push_str("\r\n");
    let mut sock = TcpStream::connect(&authority).await.unwrap();
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&vec![b'x'; sent]).await.unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(wait, async {
        loop {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|_| {
        (
            String::from_utf8_lossy(&answer).into_owned(),
            started.elapsed(),
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_that_stops_sending_mid_body_is_cut_off() {
    let net = TestNet::start().await.expect("start network");
    let (one, _) = clients(&net);
    let b = "stalled";
    assert_eq!(one.create_bucket(b).await.unwrap().status, StatusCode::OK);
    // The localnet gateway has the default (30 s); a gateway on the same
    // state with 2 s keeps the test short.
    let gw = start_gateway(
        gateway::GatewayConfig {
            body_idle_timeout: Duration::from_secs(2),
            ..extra_gateway_config(&net)
        },
        uplink::UplinkConfig::default(),
    )
    .await;
    let via = S3Client::new(
        &gw.endpoint(),
        &one.credentials().access_key,
        &one.credentials().secret_key,
    )
    .unwrap();
    let ended = stalled_put(&via, b, "k", 100_000, 10, Duration::from_secs(45)).await;
    let (answer, after) = ended.expect("the gateway kept a stalled body open for 45 s");
    assert!(answer.contains("RequestTimeout"), "{answer}");
    assert!(
        after < Duration::from_secs(15),
        "cut off only after {after:?}"
    );
    // Nothing was stored.
    assert_s3_error(
        &one.get_object(b, "k", None).await.unwrap(),
        StatusCode::NOT_FOUND,
        "NoSuchKey",
    );
    gw.shutdown().await;
    net.shutdown().await;
}

// ---------------------------------------------------------------------------
// 7. Shares wider or longer-lived than their ACL; database dumps.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_object_acl_share_opens_that_object_only() {
    let net = TestNet::start().await.expect("start network");
    let (one, _) = clients(&net);
    let b = "exact-shares";
    assert_eq!(one.create_bucket(b).await.unwrap().status, StatusCode::OK);
    put_with_acl(&one, b, "dir/pub.txt", "public-read", b"public").await;
    one.put_object(b, "dir/secret.txt", Bytes::from_static(b"secret"))
        .await
        .unwrap();
    one.put_object(b, "dir/pub.txt.bak", Bytes::from_static(b"secret too"))
        .await
        .unwrap();
    let sealed = sealed_public_share(&net, b, "dir/pub.txt").await;
    let share = open_share(&net, &sealed).await;
    assert_eq!(download(&share, b, "dir/pub.txt").await.unwrap(), b"public");
    for other in ["dir/secret.txt", "dir/pub.txt.bak"] {
        assert_eq!(
            download(&share, b, other).await.map(|_| ()),
            Err(ErrorKind::PermissionDenied),
            "the share of dir/pub.txt opened {other}"
        );
    }
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replaced_and_removed_shares_are_revoked_at_the_satellite() {
    let net = TestNet::start().await.expect("start network");
    let (one, _) = clients(&net);
    let b = "revoked-shares";
    assert_eq!(one.create_bucket(b).await.unwrap().status, StatusCode::OK);
    // An ACL made private again.
    put_with_acl(&one, b, "a.txt", "public-read", b"was public").await;
    let old = open_share(&net, &sealed_public_share(&net, b, "a.txt").await).await;
    assert_eq!(download(&old, b, "a.txt").await.unwrap(), b"was public");
    let r = one
        .signed(
            Method::PUT,
            b,
            Some("a.txt"),
            "acl=",
            &[("x-amz-acl", "private")],
            Bytes::new(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        download(&old, b, "a.txt").await.map(|_| ()),
        Err(ErrorKind::PermissionDenied),
        "the share of a removed ACL still works at the satellite"
    );
    // A public object overwritten by private content: the old share must
    // not read the new content, nor may anonymous requests.
    put_with_acl(&one, b, "o.txt", "public-read", b"v1 public").await;
    let old = open_share(&net, &sealed_public_share(&net, b, "o.txt").await).await;
    one.put_object(b, "o.txt", Bytes::from_static(b"v2 private"))
        .await
        .unwrap();
    assert_eq!(
        download(&old, b, "o.txt").await.map(|_| ()),
        Err(ErrorKind::PermissionDenied),
        "the old public share reads the overwritten object"
    );
    assert_s3_error(
        &anonymous(&one, Method::GET, b, Some("o.txt")).await,
        StatusCode::FORBIDDEN,
        "AccessDenied",
    );
    // A deleted object's share goes too.
    put_with_acl(&one, b, "d.txt", "public-read", b"to delete").await;
    let old = open_share(&net, &sealed_public_share(&net, b, "d.txt").await).await;
    one.delete_object(b, "d.txt").await.unwrap();
    project_put(&net, b, "d.txt", b"recreated privately").await;
    assert_eq!(
        download(&old, b, "d.txt").await.map(|_| ()),
        Err(ErrorKind::PermissionDenied),
        "the share of a deleted object reads its successor"
    );
    net.shutdown().await;
}

async fn project_put(net: &TestNet, bucket: &str, key: &str, data: &[u8]) {
    let project = net.project().await.unwrap();
    upload(&project, bucket, key, data).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_dump_alone_opens_no_share() {
    use sqlx::Row;
    let net = TestNet::start().await.expect("start network");
    let (one, _) = clients(&net);
    let b = "dumped";
    assert_eq!(one.create_bucket(b).await.unwrap().status, StatusCode::OK);
    put_with_acl(&one, b, "pub.txt", "public-read", b"public").await;
    let sealed = sealed_public_share(&net, b, "pub.txt").await;
    let db = gateway_db(&net).await;
    let keys: Vec<String> = sqlx::query("SELECT value FROM settings")
        .fetch_all(&db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>("value").unwrap())
        .collect();
    db.close().await;
    for text in keys {
        let Some(bytes) = satstore_common::hex::decode(&text).filter(|b| b.len() == 32) else {
            continue;
        };
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        assert!(
            gateway::crypto::open(&key, "share", &sealed).is_err(),
            "the database holds the key that opens its shares"
        );
    }
    net.shutdown().await;
}

// ---------------------------------------------------------------------------
// 8. DeleteBucket with uploads in progress; malformed paths.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bucket_with_an_upload_in_progress_is_not_deleted() {
    let net = TestNet::start().await.expect("start network");
    let (one, _) = clients(&net);
    let b = "pending-upload";
    assert_eq!(one.create_bucket(b).await.unwrap().status, StatusCode::OK);
    let created = one
        .signed(Method::POST, b, Some("mp"), "uploads=", &[], Bytes::new())
        .await
        .unwrap();
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let r = one
        .signed(Method::DELETE, b, None, "", &[], Bytes::new())
        .await
        .unwrap();
    assert_s3_error(&r, StatusCode::CONFLICT, "BucketNotEmpty");
    // The name is still the owner's and the upload can finish.
    let (_, two) = clients(&net);
    assert_s3_error(
        &two.create_bucket(b).await.unwrap(),
        StatusCode::CONFLICT,
        "BucketAlreadyExists",
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_paths_and_hosts_do_not_break_the_gateway() {
    let net = TestNet::start().await.expect("start network");
    let (one, _) = clients(&net);
    let addr = net.net().gateway().addr();
    let requests: [&[u8]; 5] = [
        b"GET /b/%a\xc3\xa9 HTTP/1.1\r\nhost: x\r\n\r\n",
        b"GET /b/%\xc3\xa9%\xc3 HTTP/1.1\r\nhost: x\r\n\r\n",
        b"GET /b/%zz%4 HTTP/1.1\r\nhost: \xc3\xa9.localhost:1\r\n\r\n",
        b"GET /b/k HTTP/1.1\r\nhost: [::1]:\r\n\r\n",
        b"GET /b/%%%%% HTTP/1.1\r\nhost: .localhost\r\n\r\n",
    ];
    for raw in requests {
        let mut sock = TcpStream::connect(addr).await.unwrap();
        sock.write_all(raw).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap_or(0);
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(text.starts_with("HTTP/1.1 4"), "{text:?}");
    }
    // Still serving.
    assert_eq!(
        one.create_bucket("still-up").await.unwrap().status,
        StatusCode::OK
    );
    net.shutdown().await;
}
