//! Keys and key derivation.
//!
//! - `derive_key(k, msg) = HMAC-SHA512(k, msg)[..32]`: every key below the
//!   root (bucket, path components, content) is derived this way.
//! - Passphrase -> root key (Storj's `DeriveRootKey`):
//!   `mixed = HMAC-SHA256(key = passphrase, salt)`,
//!   `path_salt = HMAC-SHA256(key = mixed, "")`,
//!   `root = Argon2id(passphrase, path_salt, t = 1, m = 64 MiB, p = lanes, 32 B)`.
//!   The lane count changes the output: 8 lanes for access grants made from a
//!   passphrase, 1 lane for `derive_encryption_key`. Keep them exactly, or the
//!   same passphrase silently yields different keys on different clients.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use ring::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
use ring::hmac;

use super::error::{EncryptionError, Result, random_bytes};

/// Length of every key in this module, in bytes.
pub const KEY_SIZE: usize = 32;

/// Argon2id memory cost in KiB (64 MiB).
const ARGON2_MEMORY_KIB: u32 = 64 * 1024;
/// Argon2id passes.
const ARGON2_PASSES: u32 = 1;
/// Lanes for the root key of an access grant made from a passphrase.
pub const ACCESS_LANES: u32 = 8;
/// Lanes for `derive_encryption_key` (per-prefix keys of multi-tenant apps).
pub const ENCRYPTION_KEY_LANES: u32 = 1;

/// A 256-bit secret key (root, bucket, path, content or metadata key).
///
/// `Debug` never prints the bytes; equality is constant-time; the bytes are
/// overwritten on drop.
#[derive(Clone)]
pub struct Key([u8; KEY_SIZE]);

impl Key {
    /// Wraps raw key bytes.
    pub const fn from_bytes(bytes: [u8; KEY_SIZE]) -> Self {
        Self(bytes)
    }

    /// Parses key bytes received from elsewhere (an access grant, a wrapped
    /// key); fails unless there are exactly [`KEY_SIZE`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; KEY_SIZE] = bytes
            .try_into()
            .map_err(|_| EncryptionError::InvalidLength {
                what: "key",
                expected: KEY_SIZE,
                got: bytes.len(),
            })?;
        Ok(Self(arr))
    }

    /// A fresh key from the operating system's CSPRNG (content and metadata
    /// keys).
    pub fn random() -> Result<Self> {
        let mut bytes = [0u8; KEY_SIZE];
        random_bytes(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// The raw key bytes (to serialize into an access grant).
    pub fn as_bytes(&self) -> &[u8; KEY_SIZE] {
        &self.0
    }

    /// This key as an AES-256-GCM key.
    #[allow(clippy::expect_used, reason = "keys are 32 bytes by construction")]
    pub(crate) fn aead(&self) -> LessSafeKey {
        let unbound =
            UnboundKey::new(&AES_256_GCM, &self.0).expect("AES-256-GCM takes exactly 32-byte keys");
        LessSafeKey::new(unbound)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        // Constant-time: no early exit on the first differing byte.
        let diff = self
            .0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

impl Eq for Key {}

impl Drop for Key {
    fn drop(&mut self) {
        self.0.fill(0);
        std::hint::black_box(&mut self.0);
    }
}

/// `HMAC-SHA512(key, msg)[..32]`: the child key of `key` for `msg`.
pub fn derive_key(key: &Key, msg: &[u8]) -> Key {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA512, &key.0), msg);
    let mut out = [0u8; KEY_SIZE];
    out.copy_from_slice(&tag.as_ref()[..KEY_SIZE]);
    Key(out)
}

/// Derives a root key from a passphrase and a salt with Argon2id over
/// `lanes` lanes (see the module docs for the exact construction).
///
/// Costs one 64 MiB Argon2id pass: derive once and keep the key.
pub fn derive_root_key(passphrase: &[u8], salt: &[u8], lanes: u32) -> Result<Key> {
    if passphrase.is_empty() {
        return Err(EncryptionError::InvalidArgument(
            "the passphrase is empty".into(),
        ));
    }
    let mixed = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, passphrase), salt);
    let path_salt = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, mixed.as_ref()), b"");
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, lanes, Some(KEY_SIZE))
        .map_err(|e| EncryptionError::Kdf(format!("argon2 parameters (lanes = {lanes}): {e}")))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut out = [0u8; KEY_SIZE];
    argon
        .hash_password_into(passphrase, path_salt.as_ref(), &mut out)
        .map_err(|e| EncryptionError::Kdf(e.to_string()))?;
    Ok(Key(out))
}

/// The root (default) key of an access grant made from `passphrase` and the
/// project's salt (8 lanes, as Storj's `RequestAccessWithPassphrase`).
pub fn root_key_for_access(passphrase: &[u8], project_salt: &[u8]) -> Result<Key> {
    derive_root_key(passphrase, project_salt, ACCESS_LANES)
}

/// A key for `override_encryption_key` derived from a passphrase and an
/// application-chosen salt (1 lane, as Storj's `DeriveEncryptionKey`).
pub fn derive_encryption_key(passphrase: &[u8], salt: &[u8]) -> Result<Key> {
    derive_root_key(passphrase, salt, ENCRYPTION_KEY_LANES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_key_bytes() {
        let key = Key::from_bytes([0xab; KEY_SIZE]);
        let shown = format!("{key:?}");
        assert_eq!(shown, "Key(<redacted>)");
        assert!(!shown.contains("ab") && !shown.contains("171"));
    }

    #[test]
    fn from_slice_checks_length() {
        assert!(Key::from_slice(&[1; 32]).is_ok());
        assert_eq!(
            Key::from_slice(&[1; 31]),
            Err(EncryptionError::InvalidLength {
                what: "key",
                expected: 32,
                got: 31
            })
        );
        assert!(Key::from_slice(&[]).is_err());
    }

    #[test]
    fn derive_key_is_hmac_sha512_truncated() {
        let parent = Key::from_bytes([7; KEY_SIZE]);
        let full = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA512, &[7; KEY_SIZE]),
            b"path:x",
        );
        assert_eq!(
            derive_key(&parent, b"path:x").as_bytes()[..],
            full.as_ref()[..32]
        );
        assert_ne!(
            derive_key(&parent, b"path:x"),
            derive_key(&parent, b"path:y")
        );
        assert_eq!(derive_key(&parent, b"m"), derive_key(&parent, b"m"));
    }

    #[test]
    fn random_keys_differ() {
        assert_ne!(Key::random().expect("rng"), Key::random().expect("rng"));
    }

    #[test]
    fn root_key_is_deterministic_and_depends_on_everything() {
        let a = root_key_for_access(b"correct horse", b"project-salt-1").expect("derive");
        let again = root_key_for_access(b"correct horse", b"project-salt-1").expect("derive");
        assert_eq!(
            a, again,
            "same passphrase and salt must give the same root key"
        );

        let other_salt = root_key_for_access(b"correct horse", b"project-salt-2").expect("derive");
        assert_ne!(a, other_salt, "the project salt must change the key");

        let other_pass = root_key_for_access(b"correct horsf", b"project-salt-1").expect("derive");
        assert_ne!(a, other_pass, "the passphrase must change the key");

        let one_lane = derive_encryption_key(b"correct horse", b"project-salt-1").expect("derive");
        assert_ne!(a, one_lane, "8 lanes and 1 lane must differ");
        assert_eq!(
            one_lane,
            derive_root_key(b"correct horse", b"project-salt-1", 1).expect("derive")
        );
    }

    #[test]
    fn root_key_matches_the_documented_construction() {
        // Recompute by hand so a refactor cannot silently change the chain.
        let mixed = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, b"pw"), b"salt");
        let path_salt = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, mixed.as_ref()), b"");
        let params = Params::new(64 * 1024, 1, 1, Some(32)).expect("params");
        let mut expected = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(b"pw", path_salt.as_ref(), &mut expected)
            .expect("argon2");
        assert_eq!(
            derive_encryption_key(b"pw", b"salt")
                .expect("derive")
                .as_bytes(),
            &expected
        );
    }

    #[test]
    fn bad_derivation_inputs_are_errors() {
        assert!(matches!(
            derive_root_key(b"", b"salt", 1),
            Err(EncryptionError::InvalidArgument(_))
        ));
        assert!(matches!(
            derive_root_key(b"pw", b"salt", 0),
            Err(EncryptionError::Kdf(_))
        ));
    }
}
