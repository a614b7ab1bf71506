//! rustls verifiers for identity-bound TLS: a client pins the server's node
//! id; a server reads (but does not require) a client's identity.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, OtherError, SignatureScheme,
};
use satstore_common::NodeId;

use crate::cert::peer_id;

/// The server answered with another identity than the one dialed.
#[derive(Debug)]
pub struct WrongPeer {
    /// The id the client dialed.
    pub expected: NodeId,
    /// The id the server's key hashes to.
    pub actual: NodeId,
}

impl std::fmt::Display for WrongPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the peer's TLS key is node {}, not the node {} that was dialed",
            self.actual, self.expected
        )
    }
}

impl std::error::Error for WrongPeer {}

fn algorithms() -> WebPkiSupportedAlgorithms {
    rustls::crypto::ring::default_provider().signature_verification_algorithms
}

fn verify_tls13(
    algs: &WebPkiSupportedAlgorithms,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    if dss.scheme != SignatureScheme::ED25519 {
        return Err(rustls::Error::PeerMisbehaved(
            rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
        ));
    }
    rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
}

fn no_tls12() -> rustls::Error {
    rustls::Error::General("TLS 1.2 is not offered".into())
}

/// Accepts only the server whose ed25519 key hashes to `expected` (and
/// that proves holding it by signing the TLS 1.3 handshake).
#[derive(Debug)]
pub struct PinnedServer {
    expected: NodeId,
    algs: WebPkiSupportedAlgorithms,
}

impl PinnedServer {
    /// A verifier for the server with id `expected`.
    pub fn new(expected: NodeId) -> Self {
        PinnedServer {
            expected,
            algs: algorithms(),
        }
    }
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match peer_id(end_entity) {
            Some(id) if id == self.expected => Ok(ServerCertVerified::assertion()),
            Some(actual) => Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(WrongPeer {
                    expected: self.expected,
                    actual,
                })),
            ))),
            None => Err(rustls::Error::InvalidCertificate(
                CertificateError::BadEncoding,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(no_tls12())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13(&self.algs, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}

/// Lets a client present an identity certificate (nodes and satellites do;
/// uplinks do not): any ed25519 key is accepted, the handshake signature
/// proves the client holds it, and the server reads the id afterwards.
#[derive(Debug)]
pub struct OptionalClientIdentity {
    algs: WebPkiSupportedAlgorithms,
}

impl Default for OptionalClientIdentity {
    fn default() -> Self {
        OptionalClientIdentity { algs: algorithms() }
    }
}

impl ClientCertVerifier for OptionalClientIdentity {
    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        match peer_id(end_entity) {
            Some(_) => Ok(ClientCertVerified::assertion()),
            None => Err(rustls::Error::InvalidCertificate(
                CertificateError::BadEncoding,
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(no_tls12())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13(&self.algs, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ED25519]
    }
}
