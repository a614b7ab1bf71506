//! HTTPS on the S3 listener: with a certificate and key the gateway speaks
//! TLS (and nothing else); a half configuration is refused at start.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::sync::Arc;

use gateway::{GatewayConfig, GatewayListeners};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn listeners() -> GatewayListeners {
    GatewayListeners {
        s3: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        metrics: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    }
}

/// PEM text of `der` under `label`.
fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[tokio::test]
async fn https_when_configured_and_only_https() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, pem("CERTIFICATE", cert.cert.der())).unwrap();
    std::fs::write(
        &key_file,
        pem("PRIVATE KEY", &cert.signing_key.serialize_der()),
    )
    .unwrap();
    let config = GatewayConfig {
        data_dir: dir.path().join("gw"),
        tls_cert_file: Some(cert_file.clone()),
        tls_key_file: Some(key_file.clone()),
        ..GatewayConfig::default()
    };
    let gw = gateway::start(config, listeners().await, uplink::UplinkConfig::default())
        .await
        .unwrap();
    assert!(gw.endpoint().starts_with("https://"), "{}", gw.endpoint());

    // A client trusting the certificate gets an S3 answer (anonymous
    // ListBuckets: AccessDenied) over TLS.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(gw.addr()).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect(name, tcp)
        .await
        .expect("TLS handshake with the gateway");
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("AccessDenied"), "{answer}");

    // Plain HTTP on the same port gets no S3 answer.
    let mut plain = tokio::net::TcpStream::connect(gw.addr()).await.unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got).await;
    assert!(!String::from_utf8_lossy(&got).contains("AccessDenied"));
    gw.shutdown().await;

    // A certificate without its key is a configuration error.
    let half = GatewayConfig {
        data_dir: dir.path().join("gw2"),
        tls_cert_file: Some(cert_file),
        ..GatewayConfig::default()
    };
    let e = gateway::start(half, listeners().await, uplink::UplinkConfig::default())
        .await
        .err()
        .expect("refused");
    assert!(e.to_string().contains("tls_key_file"), "{e}");
    // A key that is not PEM is named in the error.
    std::fs::write(&key_file, "not a key").unwrap();
    let bad = GatewayConfig {
        data_dir: dir.path().join("gw3"),
        tls_cert_file: Some(dir.path().join("cert.pem")),
        tls_key_file: Some(key_file),
        ..GatewayConfig::default()
    };
    let e = gateway::start(bad, listeners().await, uplink::UplinkConfig::default())
        .await
        .err()
        .expect("refused");
    assert!(e.to_string().contains("key.pem"), "{e}");
}
