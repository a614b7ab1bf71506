//! Credential generation and sealing of stored secrets: AES-256-GCM with
//! keys derived (BLAKE3) from the S3 access key id, the S3 secret, or the
//! gateway's share key.

use rand::Rng;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use satstore_common::hex;

use crate::error::GatewayError;

/// A 32-byte symmetric key.
pub type SealKey = [u8; 32];

const ALNUM_UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_text(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A new S3 access key id: 20 upper-case characters, like AWS's.
pub fn new_access_key_id() -> String {
    format!("SS{}", random_text(ALNUM_UPPER, 18))
}

/// A new S3 secret access key: 40 letters and digits.
pub fn new_secret_key() -> String {
    random_text(ALNUM, 40)
}

/// A new canonical user id: 64 hex digits, like AWS's.
pub fn new_canonical_id() -> String {
    hex::encode(&rand::random::<[u8; 32]>())
}

/// A new random sealing key.
pub fn new_key() -> SealKey {
    rand::random()
}

/// The database lookup value of an access key id (the id itself is never
/// stored).
pub fn lookup(access_key_id: &str) -> String {
    hex::encode(&blake3::derive_key(
        "satstore gateway 2026 access key lookup",
        access_key_id.as_bytes(),
    ))
}

/// The key that seals a user's secret, from the access key id.
pub fn secret_sealing_key(access_key_id: &str) -> SealKey {
    blake3::derive_key(
        "satstore gateway 2026 secret sealing",
        access_key_id.as_bytes(),
    )
}

/// The key that seals a user's access grant, from the S3 secret.
pub fn grant_sealing_key(secret_key: &str) -> SealKey {
    blake3::derive_key("satstore gateway 2026 grant sealing", secret_key.as_bytes())
}

#[allow(clippy::expect_used, reason = "a 32-byte key is a valid AES-256 key")]
fn aead(key: &SealKey) -> LessSafeKey {
    // A 32-byte key is always valid for AES-256-GCM.
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("32-byte AES-256 key"))
}

/// Seals `plain` under `key` with `context` as associated data; hex text
/// of nonce || ciphertext || tag.
#[allow(clippy::expect_used, reason = "sealing a small value cannot fail")]
pub fn seal(key: &SealKey, context: &str, plain: &[u8]) -> String {
    let nonce_bytes: [u8; NONCE_LEN] = rand::random();
    let mut buf = plain.to_vec();
    // Sealing in place cannot fail for inputs below GCM's 64 GiB limit.
    aead(key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(context.as_bytes()),
            &mut buf,
        )
        .expect("AES-GCM seal of a small value");
    let mut out = nonce_bytes.to_vec();
    out.extend_from_slice(&buf);
    hex::encode(&out)
}

/// Opens a value made by [`seal`] with the same key and context.
pub fn open(key: &SealKey, context: &str, sealed: &str) -> Result<Vec<u8>, GatewayError> {
    let bytes = hex::decode(sealed)
        .ok_or_else(|| GatewayError::Corrupt(format!("sealed {context} is not hex")))?;
    if bytes.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(GatewayError::Corrupt(format!(
            "sealed {context} is too short"
        )));
    }
    let (nonce, rest) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| GatewayError::Corrupt(format!("sealed {context}: bad nonce")))?;
    let mut buf = rest.to_vec();
    let plain = aead(key)
        .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
        .map_err(|_| GatewayError::Unseal(context.to_string()))?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_detects_wrong_key_context_and_tampering() {
        let key = new_key();
        let sealed = seal(&key, "grant", b"hello");
        assert_eq!(open(&key, "grant", &sealed).unwrap(), b"hello");
        assert!(matches!(
            open(&new_key(), "grant", &sealed),
            Err(GatewayError::Unseal(_))
        ));
        assert!(matches!(
            open(&key, "secret", &sealed),
            Err(GatewayError::Unseal(_))
        ));
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(open(&key, "grant", &tampered).is_err());
        assert!(matches!(
            open(&key, "grant", "zz"),
            Err(GatewayError::Corrupt(_))
        ));
    }

    #[test]
    fn credentials_have_s3_shapes_and_differ() {
        let id = new_access_key_id();
        assert_eq!(id.len(), 20);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        let secret = new_secret_key();
        assert_eq!(secret.len(), 40);
        assert_ne!(secret, new_secret_key());
        assert_eq!(new_canonical_id().len(), 64);
        assert_ne!(lookup(&id), lookup(&new_access_key_id()));
        assert_ne!(secret_sealing_key(&id), grant_sealing_key(&id));
    }
}
