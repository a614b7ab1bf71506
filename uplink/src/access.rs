//! Access grants: which satellite to talk to, with which API key, and the
//! encryption keys of the objects, in a text form a person can copy around.
//!
//! Text form: base58check (version 0) of the encoded `access.v1.Scope`
//! (satellite address, API key bytes, `EncryptionAccess`). A grant made from
//! a passphrase holds the root key (Argon2id of the passphrase with the
//! project's salt); a shared grant holds only the keys at its prefixes.
//!
//! Sharing ([`Access::share`], [`Access::share_objects`]) calls the caveat
//! logic of [`crate::share`]; opening a project
//! ([`Access::open_project`]) lives with [`crate::Project`], above this.

use prost::Message;
use satstore_common::NodeUrl;
use satstore_common::macaroon::ApiKey;
use satstore_proto::access::Scope;
use satstore_proto::metainfo as pb;

use crate::config::UplinkConfig;
use crate::encryption::{self, EncryptionStore, Key, PathCipher};
use crate::error::{Result, UplinkError};
use crate::metainfo::Metainfo;
use crate::share::{self, Permission, ShareObject, SharePrefix};

/// A 32-byte encryption key, as made by [`Access::derive_encryption_key`]
/// and used by [`Access::override_encryption_key`].
pub type EncryptionKey = Key;

/// Everything a client needs to open a project: the satellite address, the
/// API key and the encryption keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// `nodeid@host:port` of the satellite; its id authenticates the order
    /// limits it signs.
    pub satellite: NodeUrl,
    /// The (possibly restricted) API key.
    pub api_key: ApiKey,
    /// Keys for object keys, content and metadata (never sent anywhere but
    /// inside the serialized grant).
    pub encryption: EncryptionStore,
}

fn bad_grant(why: impl std::fmt::Display) -> UplinkError {
    UplinkError::InvalidArgument(format!("invalid access grant: {why}"))
}

impl Access {
    /// An access for a satellite, an API key and an encryption store.
    pub fn new(satellite: NodeUrl, api_key: ApiKey, encryption: EncryptionStore) -> Self {
        Access {
            satellite,
            api_key,
            encryption,
        }
    }

    /// Parses the text form made by [`Access::serialize`]. The grant must
    /// carry an encryption access; when its API key is restricted to
    /// paths, the keys are re-limited to those paths.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            return Err(bad_grant("it is empty"));
        }
        let raw = bs58::decode(text)
            .with_check(Some(0))
            .into_vec()
            .map_err(|e| bad_grant(format!("not base58check text ({e})")))?;
        let scope =
            Scope::decode(&raw[1..]).map_err(|e| bad_grant(format!("malformed contents ({e})")))?;
        let satellite: NodeUrl = scope
            .satellite_addr
            .parse()
            .map_err(|e| bad_grant(format!("satellite address: {e}")))?;
        let api_key =
            ApiKey::from_bytes(&scope.api_key).map_err(|e| bad_grant(format!("API key: {e}")))?;
        let wire = scope.encryption_access.ok_or_else(|| {
            bad_grant(
                "it carries no encryption keys (made by an older uplink?): \
                 create a new one with `uplink access create`",
            )
        })?;
        let store = EncryptionStore::from_wire(&wire)
            .map_err(|e| bad_grant(format!("encryption access: {e}")))?;
        let encryption = share::limit_to_caveats(&api_key, &store)?;
        Ok(Access {
            satellite,
            api_key,
            encryption,
        })
    }

    /// The text form: base58check (version 0) of the encoded `access.v1.Scope`.
    pub fn serialize(&self) -> String {
        let scope = Scope {
            satellite_addr: self.satellite.to_string(),
            api_key: self.api_key.to_bytes(),
            encryption_access: Some(self.encryption.to_wire()),
        };
        bs58::encode(scope.encode_to_vec())
            .with_check_version(0)
            .into_string()
    }

    /// Derives a key from `passphrase` and an application-chosen `salt`
    /// (Argon2id, 64 MiB, one lane), for [`Access::override_encryption_key`]
    /// in multi-tenant apps. Costs a fraction of a second; keep the key.
    pub fn derive_encryption_key(
        &self,
        passphrase: &str,
        salt: impl AsRef<[u8]>,
    ) -> Result<EncryptionKey> {
        Ok(encryption::derive_encryption_key(
            passphrase.as_bytes(),
            salt.as_ref(),
        )?)
    }

    /// Makes `key` the encryption key of everything in `bucket` under
    /// `prefix` (ends with '/', or empty for the whole bucket) for this
    /// access, in place (the seed returns a new access; clone first to keep
    /// the original). Objects written before under that prefix with other
    /// keys become unreadable through this access.
    pub fn override_encryption_key(
        &mut self,
        bucket: &str,
        prefix: &str,
        key: &EncryptionKey,
    ) -> Result<()> {
        self.encryption
            .override_encryption_key(bucket, prefix, key.clone())?;
        Ok(())
    }

    /// A new access restricted to `permission` and, unless `prefixes` is
    /// empty, to those prefixes: its API key carries one more caveat (the
    /// allowed paths are the ENCRYPTED prefixes, so the satellite enforces
    /// them) and its encryption store holds only the keys at the prefixes.
    /// Works offline; the result can be shared further (only narrower).
    pub fn share(&self, permission: &Permission, prefixes: &[SharePrefix]) -> Result<Access> {
        let shared = share::share_prefixes(&self.api_key, &self.encryption, permission, prefixes)?;
        Ok(Access {
            satellite: self.satellite.clone(),
            api_key: shared.api_key,
            encryption: shared.encryption,
        })
    }

    /// A new access restricted to `permission` on exactly these objects
    /// (at least one): the caveat lists their ENCRYPTED keys, and the
    /// satellite allows only requests for those keys (no listings, nothing
    /// else in their folders). Path keys cannot be finer than a folder, so
    /// the encryption store keeps the key of each object's folder; the
    /// satellite's check is what limits the access to the objects.
    pub fn share_objects(
        &self,
        permission: &Permission,
        objects: &[ShareObject],
    ) -> Result<Access> {
        let shared = share::share_objects(&self.api_key, &self.encryption, permission, objects)?;
        Ok(Access {
            satellite: self.satellite.clone(),
            api_key: shared.api_key,
            encryption: shared.encryption,
        })
    }
}

impl std::str::FromStr for Access {
    type Err = UplinkError;
    fn from_str(s: &str) -> Result<Self> {
        Access::parse(s)
    }
}

/// Requests an access grant from `satellite` (`nodeid@host:port`) for
/// `api_key` (its base58 text form): the root encryption key is Argon2id of
/// `passphrase` with the project's salt, so the same passphrase gives the
/// same keys on every client. Object keys are encrypted (AES-GCM).
pub async fn request_access_with_passphrase(
    satellite: &str,
    api_key: &str,
    passphrase: &str,
) -> Result<Access> {
    config_request_access_with_passphrase(&UplinkConfig::default(), satellite, api_key, passphrase)
        .await
}

/// [`request_access_with_passphrase`] with a config: dial timeout, user
/// agent, and `unencrypted_object_keys` for the "none" path cipher.
pub async fn config_request_access_with_passphrase(
    config: &UplinkConfig,
    satellite: &str,
    api_key: &str,
    passphrase: &str,
) -> Result<Access> {
    let satellite: NodeUrl = satellite.trim().parse().map_err(|e| {
        UplinkError::InvalidArgument(format!(
            "satellite address {satellite:?}: {e} (expected nodeid@host:port)"
        ))
    })?;
    let api_key = ApiKey::parse(api_key)
        .map_err(|e| UplinkError::InvalidArgument(format!("API key: {e}")))?;
    if passphrase.is_empty() {
        return Err(UplinkError::InvalidArgument(
            "the encryption passphrase is empty".into(),
        ));
    }
    let dialer = crate::dial::project_dialer(config);
    let metainfo = Metainfo::connect(&satellite, &api_key, config, &dialer)?;
    let info = metainfo
        .project_info(pb::ProjectInfoRequest { header: None })
        .await?;
    if info.project_salt.is_empty() {
        return Err(UplinkError::Internal(
            "satellite sent an empty project salt".into(),
        ));
    }
    let passphrase = passphrase.as_bytes().to_vec();
    let salt = info.project_salt;
    let root =
        tokio::task::spawn_blocking(move || encryption::root_key_for_access(&passphrase, &salt))
            .await
            .map_err(|e| UplinkError::Internal(format!("key derivation task: {e}")))??;
    let cipher = if config.unencrypted_object_keys {
        PathCipher::None
    } else {
        PathCipher::AesGcm
    };
    Ok(Access::new(
        satellite,
        api_key,
        EncryptionStore::new(root, cipher),
    ))
}

/// Parses a serialized access grant (same as [`Access::parse`]).
pub fn parse_access(serialized: &str) -> Result<Access> {
    Access::parse(serialized)
}

/// Mirror of uplink-python's `Uplink()` class: the entry points that make an
/// [`Access`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Uplink;

impl Uplink {
    /// See [`request_access_with_passphrase`].
    pub async fn request_access_with_passphrase(
        &self,
        satellite: &str,
        api_key: &str,
        passphrase: &str,
    ) -> Result<Access> {
        request_access_with_passphrase(satellite, api_key, passphrase).await
    }

    /// See [`config_request_access_with_passphrase`].
    pub async fn config_request_access_with_passphrase(
        &self,
        config: &UplinkConfig,
        satellite: &str,
        api_key: &str,
        passphrase: &str,
    ) -> Result<Access> {
        config_request_access_with_passphrase(config, satellite, api_key, passphrase).await
    }

    /// See [`parse_access`].
    pub fn parse_access(&self, serialized: &str) -> Result<Access> {
        Access::parse(serialized)
    }
}

#[cfg(test)]
mod share_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encryption::{decrypt_path, encrypt_path};
    use crate::error::ErrorKind;
    use satstore_common::NodeId;

    pub(crate) fn sample() -> Access {
        let id = NodeId::from_public_key(&[4; 32]);
        Access::new(
            format!("{id}@127.0.0.1:7777").parse().unwrap(),
            ApiKey::new(b"secret"),
            EncryptionStore::new(Key::from_bytes([7; 32]), PathCipher::AesGcm),
        )
    }

    fn grant(scope: &Scope) -> String {
        bs58::encode(scope.encode_to_vec())
            .with_check_version(0)
            .into_string()
    }

    #[test]
    fn round_trips_with_keys() {
        let mut a = sample();
        a.override_encryption_key("b", "users/x/", &Key::from_bytes([9; 32]))
            .unwrap();
        let text = a.serialize();
        let back = Access::parse(&text).unwrap();
        assert_eq!(back, a);
        assert_eq!(Access::parse(&format!("  {text}\n")).unwrap(), a);
        assert_eq!(parse_access(&text).unwrap(), a);
        assert_eq!(Uplink.parse_access(&text).unwrap(), a);
        // The keys survive: the parsed access encrypts like the original.
        let enc = encrypt_path(&a.encryption, "b", "users/x/f").unwrap();
        assert_eq!(
            decrypt_path(&back.encryption, "b", &enc).unwrap(),
            "users/x/f"
        );
        // Plain-key accesses keep their cipher.
        let plain = Access::new(
            a.satellite.clone(),
            a.api_key.clone(),
            EncryptionStore::new(Key::from_bytes([1; 32]), PathCipher::None),
        );
        let back = Access::parse(&plain.serialize()).unwrap();
        assert_eq!(back.encryption.default_cipher(), PathCipher::None);
    }

    #[test]
    fn bad_text_is_invalid_argument() {
        for bad in ["", "   ", "not base58 0OIl", "3mJr7AoUXx2Wqd"] {
            let e = Access::parse(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}: {e}");
            assert!(e.to_string().contains("invalid access grant"), "{e}");
        }
        // Corrupting one character breaks the checksum.
        let mut text = sample().serialize().into_bytes();
        text[10] = if text[10] == b'2' { b'3' } else { b'2' };
        let e = Access::parse(std::str::from_utf8(&text).unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let good = Scope {
            satellite_addr: sample().satellite.to_string(),
            api_key: ApiKey::new(b"s").to_bytes(),
            encryption_access: Some(sample().encryption.to_wire()),
        };
        let cases = [
            (
                Scope {
                    satellite_addr: "nowhere".into(),
                    ..good.clone()
                },
                "satellite address",
            ),
            (
                Scope {
                    api_key: vec![1, 2, 3],
                    ..good.clone()
                },
                "API key",
            ),
            (
                Scope {
                    encryption_access: None,
                    ..good.clone()
                },
                "no encryption keys",
            ),
            (
                Scope {
                    encryption_access: Some(satstore_proto::access::EncryptionAccess {
                        default_key: vec![1; 5],
                        ..Default::default()
                    }),
                    ..good.clone()
                },
                "encryption access",
            ),
        ];
        for (scope, want) in cases {
            let e = Access::parse(&grant(&scope)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument);
            assert!(e.to_string().contains(want), "{want}: {e}");
        }
        assert!(Access::parse(&grant(&good)).is_ok());
    }

    #[test]
    fn derive_and_override_keys() {
        let mut a = sample();
        let k1 = a.derive_encryption_key("pw", "salt").unwrap();
        assert_eq!(k1, a.derive_encryption_key("pw", b"salt").unwrap());
        assert_ne!(k1, a.derive_encryption_key("pw", "other").unwrap());
        assert_eq!(
            a.derive_encryption_key("", "salt").unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        let before = encrypt_path(&a.encryption, "app", "alice/x").unwrap();
        a.override_encryption_key("app", "alice/", &k1).unwrap();
        let after = encrypt_path(&a.encryption, "app", "alice/x").unwrap();
        assert_ne!(before, after);
        let e = a
            .override_encryption_key("app", "no-slash", &k1)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }

    #[tokio::test]
    async fn request_access_checks_its_arguments() {
        let key = ApiKey::new(b"k").serialize();
        let sat = sample().satellite.to_string();
        for (s, k, p, want) in [
            ("nowhere", key.as_str(), "pw", "satellite address"),
            (sat.as_str(), "garbage", "pw", "API key"),
            (sat.as_str(), key.as_str(), "", "passphrase"),
        ] {
            let e = request_access_with_passphrase(s, k, p).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
            assert!(e.to_string().contains(want), "{want}: {e}");
        }
    }
}
