//! Signed envelopes: the exact signed bytes travel with the signature and the
//! signer's public key, and are decoded only after verification.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use thiserror::Error;

use crate::codec::DecodeError;
use crate::ids::NodeId;

/// An ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// Wraps raw bytes, checking the length.
    pub fn from_slice(b: &[u8]) -> Result<Self, SignatureError> {
        b.try_into()
            .map(PublicKey)
            .map_err(|_| SignatureError::Malformed("public key must be 32 bytes"))
    }
    /// The NodeId of the peer owning this key.
    pub fn node_id(&self) -> NodeId {
        NodeId::from_public_key(&self.0)
    }
}

/// What a signature is for. Every signed message type signs under its own
/// context string, so a signature made for one type never verifies as
/// another, whatever the payload bytes look like (a peer that signs a
/// challenge cannot be made to sign a check-in or an order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigningDomain {
    /// A satellite's order limit.
    OrderLimit,
    /// An uplink's order (bandwidth allowance).
    Order,
    /// A piece hash (signed by the uplink's piece key and by the node).
    PieceHash,
    /// A node's answer to a satellite's ping challenge.
    PingProof,
    /// A node's check-in announcement.
    CheckIn,
    /// A satellite's stream id token.
    StreamId,
    /// A satellite's segment id token.
    SegmentId,
}

impl SigningDomain {
    /// The context string prepended to the payload before signing. Each
    /// ends in NUL, so none is a prefix of another.
    pub fn context(self) -> &'static [u8] {
        match self {
            SigningDomain::OrderLimit => b"satstore/v1/order-limit\0",
            SigningDomain::Order => b"satstore/v1/order\0",
            SigningDomain::PieceHash => b"satstore/v1/piece-hash\0",
            SigningDomain::PingProof => b"satstore/v1/ping-proof\0",
            SigningDomain::CheckIn => b"satstore/v1/check-in\0",
            SigningDomain::StreamId => b"satstore/v1/stream-id\0",
            SigningDomain::SegmentId => b"satstore/v1/segment-id\0",
        }
    }

    /// The exact bytes the ed25519 signature covers.
    fn signed_bytes(self, payload: &[u8]) -> Vec<u8> {
        let ctx = self.context();
        let mut m = Vec::with_capacity(ctx.len() + payload.len());
        m.extend_from_slice(ctx);
        m.extend_from_slice(payload);
        m
    }
}

/// Why a signed message was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("malformed signed message: {0}")]
    /// The envelope is missing a part or has the wrong sizes.
    Malformed(&'static str),
    #[error("signed by {actual}, expected {expected}")]
    /// Signed by another key than the one required.
    WrongSigner {
        /// The id of the key required.
        expected: String,
        /// The id of the key that signed.
        actual: String,
    },
    #[error("signature does not verify")]
    /// The signature does not match the payload and key.
    BadSignature,
    #[error("signed payload does not decode: {0}")]
    /// The signed payload is not the message expected.
    Decode(#[from] DecodeError),
}

/// A key that signs on behalf of a peer (identity) or a segment (piece key).
#[derive(Clone)]
pub struct SigningKeyPair {
    key: SigningKey,
}

impl std::fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKeyPair({:?})", self.public_key())
    }
}

impl SigningKeyPair {
    /// A new random key pair.
    pub fn generate() -> Self {
        Self::from_seed(&rand::random())
    }
    /// The key pair of a 32-byte secret seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SigningKeyPair {
            key: SigningKey::from_bytes(seed),
        }
    }
    /// Parses a 32-byte seed.
    pub fn from_seed_slice(seed: &[u8]) -> Result<Self, SignatureError> {
        let arr: [u8; 32] = seed
            .try_into()
            .map_err(|_| SignatureError::Malformed("private key must be 32 bytes"))?;
        Ok(Self::from_seed(&arr))
    }
    /// The secret seed; handle with care.
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.key.verifying_key().to_bytes())
    }
    /// Signs `payload` under `domain` (the payload travels as is; the
    /// signature covers the domain's context string too).
    pub fn sign_bytes(&self, domain: SigningDomain, payload: Vec<u8>) -> SignedMessage {
        let sig = self.key.sign(&domain.signed_bytes(&payload));
        SignedMessage {
            payload,
            signature: sig.to_bytes().to_vec(),
            signer: self.public_key().0.to_vec(),
        }
    }
    /// Signs a canonical message.
    pub fn sign<T: Canonical>(&self, msg: &T) -> SignedMessage {
        self.sign_bytes(T::DOMAIN, msg.encode())
    }
}

/// A message with one canonical byte encoding.
pub trait Canonical: Sized {
    /// The domain its signatures are made under.
    const DOMAIN: SigningDomain;
    /// The canonical bytes (starting with a type tag).
    fn encode(&self) -> Vec<u8>;
    /// Parses canonical bytes.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError>;
}

/// Signed bytes as they travel: payload, signature, signer public key.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SignedMessage {
    /// The canonical bytes that were signed.
    pub payload: Vec<u8>,
    /// Ed25519 signature over the domain and payload.
    pub signature: Vec<u8>,
    /// The signer's public key.
    pub signer: Vec<u8>,
}

impl SignedMessage {
    /// The signer's public key, unverified.
    pub fn signer_key(&self) -> Result<PublicKey, SignatureError> {
        PublicKey::from_slice(&self.signer)
    }

    /// Verifies that `key` signed the payload under `domain` and returns the
    /// payload bytes.
    pub fn verify_bytes_with_key(
        &self,
        domain: SigningDomain,
        key: &PublicKey,
    ) -> Result<&[u8], SignatureError> {
        if self.signer != key.0 {
            return Err(SignatureError::WrongSigner {
                expected: key.node_id().to_string(),
                actual: self
                    .signer_key()
                    .map(|k| k.node_id().to_string())
                    .unwrap_or_else(|_| "<malformed key>".into()),
            });
        }
        let vk = VerifyingKey::from_bytes(&key.0)
            .map_err(|_| SignatureError::Malformed("public key is not a curve point"))?;
        let sig = Signature::from_slice(&self.signature)
            .map_err(|_| SignatureError::Malformed("signature must be 64 bytes"))?;
        vk.verify(&domain.signed_bytes(&self.payload), &sig)
            .map_err(|_| SignatureError::BadSignature)?;
        Ok(&self.payload)
    }

    /// Verifies that the peer with id `expected` signed the payload under
    /// `domain` (the carried public key must hash to that id) and returns
    /// the payload.
    pub fn verify_bytes(
        &self,
        domain: SigningDomain,
        expected: &NodeId,
    ) -> Result<&[u8], SignatureError> {
        let key = self.signer_key()?;
        if key.node_id() != *expected {
            return Err(SignatureError::WrongSigner {
                expected: expected.to_string(),
                actual: key.node_id().to_string(),
            });
        }
        self.verify_bytes_with_key(domain, &key)
    }

    /// Verifies against a peer id and decodes the canonical message.
    pub fn verify<T: Canonical>(&self, expected: &NodeId) -> Result<T, SignatureError> {
        Ok(T::decode(self.verify_bytes(T::DOMAIN, expected)?)?)
    }

    /// Verifies against a public key and decodes the canonical message.
    pub fn verify_with_key<T: Canonical>(&self, key: &PublicKey) -> Result<T, SignatureError> {
        Ok(T::decode(self.verify_bytes_with_key(T::DOMAIN, key)?)?)
    }

    /// Decodes the payload without verifying: only for data this process
    /// itself verified earlier (e.g. a stored piece header).
    pub fn decode_unverified<T: Canonical>(&self) -> Result<T, SignatureError> {
        Ok(T::decode(&self.payload)?)
    }

    /// Serializes the envelope to bytes (for storage in a database).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = crate::codec::Writer::new(0xE0);
        w.bytes(&self.payload)
            .bytes(&self.signature)
            .bytes(&self.signer);
        w.finish()
    }

    /// Parses bytes made by [`SignedMessage::to_bytes`].
    pub fn from_bytes(b: &[u8]) -> Result<Self, DecodeError> {
        let mut r = crate::codec::Reader::new(b, 0xE0)?;
        let m = SignedMessage {
            payload: r.bytes()?,
            signature: r.bytes()?,
            signer: r.bytes()?,
        };
        r.finish()?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_tamper() {
        let k = SigningKeyPair::generate();
        let id = k.public_key().node_id();
        let d = SigningDomain::PingProof;
        let m = k.sign_bytes(d, b"hello".to_vec());
        assert_eq!(m.verify_bytes(d, &id).unwrap(), b"hello");
        let mut t = m.clone();
        t.payload[0] ^= 1;
        assert_eq!(t.verify_bytes(d, &id), Err(SignatureError::BadSignature));
        let other = SigningKeyPair::generate();
        assert!(matches!(
            m.verify_bytes(d, &other.public_key().node_id()),
            Err(SignatureError::WrongSigner { .. })
        ));
        // A forger swapping in its own key is caught by the id check.
        let forged = other.sign_bytes(d, b"hello".to_vec());
        assert!(forged.verify_bytes(d, &id).is_err());
        assert_eq!(SignedMessage::from_bytes(&m.to_bytes()).unwrap(), m);
    }

    #[test]
    fn a_signature_verifies_only_in_its_own_domain() {
        use SigningDomain::*;
        let all = [
            OrderLimit, Order, PieceHash, PingProof, CheckIn, StreamId, SegmentId,
        ];
        let k = SigningKeyPair::generate();
        let id = k.public_key().node_id();
        for a in all {
            let m = k.sign_bytes(a, b"same bytes".to_vec());
            for b in all {
                assert_eq!(m.verify_bytes(b, &id).is_ok(), a == b, "{a:?} as {b:?}");
            }
        }
        // No context string is a prefix of another.
        for a in all {
            for b in all {
                if a != b {
                    assert!(!b.context().starts_with(a.context()), "{a:?} / {b:?}");
                }
            }
        }
    }
}
