//! gRPC connections bound to peer identities.
//!
//! Every satellite and storage node serves TLS 1.3 with a self-signed
//! certificate for its ed25519 identity; a client dialing `id@host:port`
//! accepts the connection only if the key that signed the handshake hashes
//! to `id`. No certificate authority is involved: the id is the pin, as in
//! Storj. Peers that have an identity (nodes, satellites) present it as a
//! client certificate too, so a server learns who called
//! ([`PeerInfo::peer_id`]); uplinks dial anonymously. Plaintext exists only
//! as an explicit [`Security::Insecure`] choice.
//!
//! Modules:
//! - [`cert`]: the certificate of an identity, the id behind a peer's one.
//! - [`verify`]: rustls verifiers pinning a server id, reading a client's.
//! - [`server`]: accepted connections for tonic (handshakes bounded in time
//!   and number).
//! - [`dial`]: the [`Dialer`] every client uses.
//! - [`stream`]: a connection that is plain or TLS, as one I/O type.

pub mod cert;
pub mod dial;
pub mod server;
pub mod stream;
pub mod verify;

pub use dial::{DialError, Dialer};
pub use server::{AcceptLimits, Conn, PeerInfo, ServerTls, incoming};
pub use stream::MaybeTls;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// How peers talk: TLS bound to identities, or plaintext.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS 1.3; clients check the peer id they dialed.
    #[default]
    Tls,
    /// Plaintext HTTP/2, no peer authentication: only for debugging on a
    /// trusted network, chosen explicitly (`--insecure`).
    Insecure,
}

impl Security {
    /// `Insecure` when `insecure` is set, else `Tls`.
    pub fn from_insecure(insecure: bool) -> Self {
        if insecure {
            Security::Insecure
        } else {
            Security::Tls
        }
    }
}

/// Why a TLS configuration could not be built.
#[derive(Debug, Error)]
pub enum TransportError {
    /// The identity's certificate could not be made.
    #[error("make the TLS certificate of this identity: {0}")]
    Certificate(String),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The crypto provider of every TLS configuration here: ring, TLS 1.3
/// only, AES-128-GCM first (the fastest suite with AES-NI; 128-bit keys are
/// ample for transport), then AES-256-GCM.
pub(crate) fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    use rustls::crypto::ring::cipher_suite;
    std::sync::Arc::new(rustls::crypto::CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS13_AES_256_GCM_SHA384,
        ],
        ..rustls::crypto::ring::default_provider()
    })
}

/// ALPN protocol of gRPC.
pub(crate) const ALPN_H2: &[u8] = b"h2";
