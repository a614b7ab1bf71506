//! Optional HTTPS on the S3 listener: a certificate chain and key from PEM
//! files (operators with their own certificates; most deployments put a
//! TLS-terminating proxy in front instead).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::error::GatewayError;

/// The HTTPS acceptor for `cert_file` and `key_file`.
pub fn acceptor(cert_file: &Path, key_file: &Path) -> Result<TlsAcceptor, GatewayError> {
    let bad = |what: &str, path: &Path, e: &dyn std::fmt::Display| {
        GatewayError::InvalidArgument(format!("{what} {}: {e}", path.display()))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| bad("read TLS certificate", cert_file, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad("parse TLS certificate", cert_file, &e))?;
    if certs.is_empty() {
        return Err(bad(
            "TLS certificate",
            cert_file,
            &"no certificate in the file",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| bad("read TLS private key", key_file, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| bad("TLS certificate and key", cert_file, &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// An accepted S3 connection, plain or TLS.
pub type Io = satstore_transport::MaybeTls<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>;
