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

/// Type tag of a ping proof payload.
const TAG_PING_PROOF: u8 = 0x30;

/// What a peer signs to answer a ping `challenge`: proves it holds the key of
/// the id it claims (the satellite's dial-back at check-in).
pub fn ping_proof_payload(challenge: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(challenge.len() + 1);
    payload.push(TAG_PING_PROOF);
    payload.extend_from_slice(challenge);
    payload
}

/// Why a signed message was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("malformed signed message: {0}")]
    Malformed(&'static str),
    #[error("signed by {actual}, expected {expected}")]
    WrongSigner { expected: String, actual: String },
    #[error("signature does not verify")]
    BadSignature,
    #[error("signed payload does not decode: {0}")]
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
    /// Signs raw bytes.
    pub fn sign_bytes(&self, payload: Vec<u8>) -> SignedMessage {
        let sig = self.key.sign(&payload);
        SignedMessage {
            payload,
            signature: sig.to_bytes().to_vec(),
            signer: self.public_key().0.to_vec(),
        }
    }
    /// Signs a canonical message.
    pub fn sign<T: Canonical>(&self, msg: &T) -> SignedMessage {
        self.sign_bytes(msg.encode())
    }
}

/// A message with one canonical byte encoding.
pub trait Canonical: Sized {
    /// The canonical bytes (starting with a type tag).
    fn encode(&self) -> Vec<u8>;
    /// Parses canonical bytes.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError>;
}

/// Signed bytes as they travel: payload, signature, signer public key.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SignedMessage {
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    pub signer: Vec<u8>,
}

impl SignedMessage {
    /// The signer's public key, unverified.
    pub fn signer_key(&self) -> Result<PublicKey, SignatureError> {
        PublicKey::from_slice(&self.signer)
    }

    /// Verifies that `key` signed the payload and returns the payload bytes.
    pub fn verify_bytes_with_key(&self, key: &PublicKey) -> Result<&[u8], SignatureError> {
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
        vk.verify(&self.payload, &sig)
            .map_err(|_| SignatureError::BadSignature)?;
        Ok(&self.payload)
    }

    /// Verifies that the peer with id `expected` signed the payload (the
    /// carried public key must hash to that id) and returns the payload.
    pub fn verify_bytes(&self, expected: &NodeId) -> Result<&[u8], SignatureError> {
        let key = self.signer_key()?;
        if key.node_id() != *expected {
            return Err(SignatureError::WrongSigner {
                expected: expected.to_string(),
                actual: key.node_id().to_string(),
            });
        }
        self.verify_bytes_with_key(&key)
    }

    /// Verifies against a peer id and decodes the canonical message.
    pub fn verify<T: Canonical>(&self, expected: &NodeId) -> Result<T, SignatureError> {
        Ok(T::decode(self.verify_bytes(expected)?)?)
    }

    /// Verifies against a public key and decodes the canonical message.
    pub fn verify_with_key<T: Canonical>(&self, key: &PublicKey) -> Result<T, SignatureError> {
        Ok(T::decode(self.verify_bytes_with_key(key)?)?)
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
        let m = k.sign_bytes(b"hello".to_vec());
        assert_eq!(m.verify_bytes(&id).unwrap(), b"hello");
        let mut t = m.clone();
        t.payload[0] ^= 1;
        assert_eq!(t.verify_bytes(&id), Err(SignatureError::BadSignature));
        let other = SigningKeyPair::generate();
        assert!(matches!(
            m.verify_bytes(&other.public_key().node_id()),
            Err(SignatureError::WrongSigner { .. })
        ));
        // A forger swapping in its own key is caught by the id check.
        let forged = other.sign_bytes(b"hello".to_vec());
        assert!(forged.verify_bytes(&id).is_err());
        assert_eq!(SignedMessage::from_bytes(&m.to_bytes()).unwrap(), m);
    }
}
