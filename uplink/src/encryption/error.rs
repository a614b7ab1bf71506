//! The error type of the encryption layer and the small helpers every
//! part of it shares (the OS random source, authentication failures). A
//! leaf: the other encryption modules import it, it imports none of them.

/// Errors of the encryption layer. Each variant says what went wrong and
/// what the caller can do about it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptionError {
    /// Authenticated decryption failed: the key is wrong (another passphrase
    /// or access) or the data was altered. Retrying with the same key cannot
    /// succeed; for segment data, another copy of the data might.
    #[error("cannot decrypt {what}: wrong key or tampered data")]
    Authentication {
        /// What failed to decrypt ("object key component", "block 3", ...).
        what: String,
    },
    /// The encryption store holds no key for this bucket and path: the
    /// access was restricted to other prefixes (or has no default key).
    #[error("no encryption key for bucket {bucket:?} at this path: the access does not cover it")]
    NoKey {
        /// The bucket that was asked for.
        bucket: String,
    },
    /// A key, nonce or other fixed-size value has the wrong length.
    #[error("invalid {what}: expected {expected} bytes, got {got}")]
    InvalidLength {
        /// What the value is.
        what: &'static str,
        /// The required length.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// A caller-supplied argument is not acceptable (fix the call).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Bytes received from elsewhere are not in the expected format
    /// (corrupted or produced by an incompatible client).
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The passphrase key derivation failed (invalid parameters).
    #[error("key derivation failed: {0}")]
    Kdf(String),
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(String),
    /// The cipher refused to seal data (should not happen; a bug).
    #[error("encryption failed: {0}")]
    Internal(&'static str),
}

/// Result alias of the encryption layer.
pub type Result<T, E = EncryptionError> = std::result::Result<T, E>;

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<()> {
    use rand::TryRngCore;
    rand::rngs::OsRng
        .try_fill_bytes(buf)
        .map_err(|e| EncryptionError::Random(e.to_string()))
}

/// Shorthand for an [`EncryptionError::Authentication`] on `what`.
pub(crate) fn auth_error(what: impl Into<String>) -> EncryptionError {
    EncryptionError::Authentication { what: what.into() }
}
