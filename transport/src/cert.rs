//! The self-signed certificate of an identity, and the node id behind a
//! peer's certificate (the SHA-256 of its ed25519 key).

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use satstore_common::{Identity, NodeId};

use crate::TransportError;

/// PKCS#8 v1 wrapping of an ed25519 seed (RFC 8410): this prefix, then the
/// 32 seed bytes.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// SubjectPublicKeyInfo of an ed25519 key: this prefix, then the 32 key
/// bytes.
const SPKI_ED25519_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// An identity's certificate and private key, as rustls takes them.
pub struct IdentityCert {
    /// The self-signed certificate (subject CN = the node id).
    pub cert: CertificateDer<'static>,
    /// The identity's key in PKCS#8.
    pub key: PrivateKeyDer<'static>,
}

impl IdentityCert {
    /// Makes the certificate of `identity` (a few hundred microseconds; done
    /// once per process).
    pub fn new(identity: &Identity) -> Result<Self, TransportError> {
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&identity.keys().seed());
        let pkcs8 = PrivatePkcs8KeyDer::from(der);
        let fail = |e: rcgen::Error| TransportError::Certificate(e.to_string());
        let key_pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_ED25519)
            .map_err(fail)?;
        let mut params =
            rcgen::CertificateParams::new(vec!["satstore".to_string()]).map_err(fail)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, identity.id().to_string());
        let cert = params.self_signed(&key_pair).map_err(fail)?;
        Ok(IdentityCert {
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(pkcs8),
        })
    }
}

/// The node id of the ed25519 key in `cert`, or `None` if the certificate
/// does not parse or holds another kind of key.
pub fn peer_id(cert: &CertificateDer<'_>) -> Option<NodeId> {
    let parsed = rustls::server::ParsedCertificate::try_from(cert).ok()?;
    let spki = parsed.subject_public_key_info();
    let key = spki.as_ref().strip_prefix(&SPKI_ED25519_PREFIX[..])?;
    let key: [u8; 32] = key.try_into().ok()?;
    Some(NodeId::from_public_key(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_carries_the_identity_key() {
        let id = Identity::generate(0);
        let c = IdentityCert::new(&id).unwrap();
        assert_eq!(peer_id(&c.cert), Some(id.id()));
        assert_eq!(
            peer_id(&CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])),
            None
        );
    }
}
