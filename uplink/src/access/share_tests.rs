//! Tests of [`Access::share`] and [`Access::share_objects`] and of the
//! re-limiting of parsed grants (the caveat logic of `crate::share`).

use std::time::{Duration, SystemTime};

use satstore_common::NodeId;
use satstore_common::macaroon::{ApiKey, Caveat};

use super::*;
use crate::encryption::{Key, PathCipher, decrypt_path, encrypt_path, encrypt_prefix};
use crate::error::ErrorKind;
use crate::share::{Permission, ShareObject, SharePrefix, allowed_paths};

fn owner() -> Access {
    let id = NodeId::from_public_key(&[4; 32]);
    Access::new(
        format!("{id}@127.0.0.1:7777").parse().unwrap(),
        ApiKey::new(b"secret"),
        EncryptionStore::new(Key::from_bytes([7; 32]), PathCipher::AesGcm),
    )
}

fn sp(bucket: &str, prefix: &str) -> SharePrefix {
    SharePrefix {
        bucket: bucket.into(),
        prefix: prefix.into(),
    }
}

#[test]
fn share_adds_a_caveat_with_encrypted_prefixes() {
    let owner = owner();
    let now = SystemTime::now();
    let perm = Permission {
        allow_download: true,
        allow_list: true,
        not_after: Some(now + Duration::from_secs(3600)),
        ..Default::default()
    };
    let shared = owner
        .share(&perm, &[sp("photos", "2024/"), sp("docs", "")])
        .unwrap();
    assert_eq!(shared.api_key.head(), owner.api_key.head());
    assert_eq!(shared.api_key.caveats().len(), 1);
    let c = Caveat::decode(&shared.api_key.caveats()[0]).unwrap();
    assert!(!c.disallow_reads && !c.disallow_lists);
    assert!(c.disallow_writes && c.disallow_deletes);
    assert_eq!(c.not_before, 0);
    assert!(c.not_after > 0);
    assert_eq!(c.nonce.len(), 8);
    let enc = encrypt_prefix(&owner.encryption, "photos", "2024/").unwrap();
    assert!(enc.ends_with(b"/"));
    assert_ne!(enc, b"2024/".to_vec(), "the prefix is encrypted");
    assert_eq!(
        c.allowed_paths,
        vec![("photos".to_string(), enc), ("docs".to_string(), vec![])]
    );
    // Two equal shares still get distinct keys (revocable separately).
    let again = owner
        .share(&perm, &[sp("photos", "2024/"), sp("docs", "")])
        .unwrap();
    assert_ne!(again.api_key.tail(), shared.api_key.tail());
}

#[test]
fn shared_keys_are_pruned_to_the_prefixes() {
    let owner = owner();
    let shared = owner
        .share(&Permission::read_only(), &[sp("photos", "2024")])
        .unwrap();
    assert!(shared.encryption.default_key().is_none());
    assert_eq!(shared.encryption.entries().len(), 1);
    assert_eq!(shared.encryption.entries()[0].unencrypted_prefix, "2024/");
    let inside = encrypt_path(&owner.encryption, "photos", "2024/a.jpg").unwrap();
    let outside = encrypt_path(&owner.encryption, "photos", "2023/a.jpg").unwrap();
    // Through the text form too.
    let parsed = Access::parse(&shared.serialize()).unwrap();
    assert_eq!(parsed, shared);
    assert_eq!(
        decrypt_path(&parsed.encryption, "photos", &inside).unwrap(),
        "2024/a.jpg"
    );
    assert!(decrypt_path(&parsed.encryption, "photos", &outside).is_err());
    // The serialized grant holds neither the root key nor another key.
    let text = shared.serialize();
    let raw = bs58::decode(&text).with_check(Some(0)).into_vec().unwrap();
    let root = owner.encryption.default_key().unwrap().as_bytes().to_vec();
    assert!(!raw.windows(32).any(|w| w == root.as_slice()));
    // Narrowing a share works, widening it does not.
    let narrower = parsed
        .share(&Permission::read_only(), &[sp("photos", "2024/rome/")])
        .unwrap();
    assert_eq!(narrower.api_key.caveats().len(), 2);
    let e = parsed
        .share(&Permission::read_only(), &[sp("photos", "2023/")])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    // No prefixes: every key stays, only the actions are restricted.
    let all = owner.share(&Permission::read_only(), &[]).unwrap();
    assert_eq!(all.encryption, owner.encryption);
}

#[test]
fn invalid_permissions_are_refused() {
    let owner = owner();
    let e = owner
        .share(&Permission::default(), &[sp("b", "")])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let now = SystemTime::now();
    let inverted = Permission {
        allow_download: true,
        not_before: Some(now),
        not_after: Some(now - Duration::from_secs(10)),
        ..Default::default()
    };
    let e = owner.share(&inverted, &[sp("b", "")]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("not_after"), "{e}");
    let e = owner
        .share(&Permission::full(), &[sp("", "x/")])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BucketNameInvalid);
}

#[test]
fn parse_relimits_keys_to_path_caveats() {
    let owner = owner();
    // A key restricted by hand (no key pruning) with the full store.
    let enc = encrypt_prefix(&owner.encryption, "b", "x/y/").unwrap();
    let c1 = Caveat {
        allowed_paths: vec![("b".into(), enc.clone())],
        ..Default::default()
    };
    let restricted = Access {
        api_key: owner.api_key.restrict(&c1),
        ..owner.clone()
    };
    let parsed = Access::parse(&restricted.serialize()).unwrap();
    assert!(parsed.encryption.default_key().is_none());
    assert_eq!(parsed.encryption.entries().len(), 1);
    assert_eq!(parsed.encryption.entries()[0].unencrypted_prefix, "x/y/");
    // Two caveats: the intersection wins.
    let wider = encrypt_prefix(&owner.encryption, "b", "x/").unwrap();
    let c2 = Caveat {
        allowed_paths: vec![("b".into(), wider), ("c".into(), vec![])],
        ..Default::default()
    };
    let key = owner.api_key.restrict(&c2).restrict(&c1);
    assert_eq!(allowed_paths(&key).unwrap(), Some(vec![("b".into(), enc)]));
    // Action-only caveats keep every key.
    let c3 = Caveat {
        disallow_writes: true,
        ..Default::default()
    };
    let ro = Access {
        api_key: owner.api_key.restrict(&c3),
        ..owner.clone()
    };
    assert_eq!(Access::parse(&ro.serialize()).unwrap(), ro);
}

#[test]
fn shared_objects_are_exact_encrypted_keys_with_their_folder_key() {
    let owner = owner();
    let shared = owner
        .share_objects(
            &Permission {
                allow_download: true,
                ..Default::default()
            },
            &[ShareObject {
                bucket: "photos".into(),
                key: "2024/rome.jpg".into(),
            }],
        )
        .unwrap();
    let c = Caveat::decode(&shared.api_key.caveats()[0]).unwrap();
    assert!(c.allowed_paths.is_empty());
    let enc = encrypt_path(&owner.encryption, "photos", "2024/rome.jpg").unwrap();
    assert_eq!(c.allowed_keys, vec![("photos".to_string(), enc.clone())]);
    assert!(c.disallow_lists && c.disallow_writes && c.disallow_deletes);
    // The holder computes the same encrypted key (its folder's key).
    assert_eq!(
        encrypt_path(&shared.encryption, "photos", "2024/rome.jpg").unwrap(),
        enc
    );
    assert_eq!(shared.encryption.entries()[0].unencrypted_prefix, "2024/");
    // Round trip through the text form keeps the folder key.
    let parsed = Access::parse(&shared.serialize()).unwrap();
    assert_eq!(parsed.encryption.entries().len(), 1);
    assert_eq!(parsed.encryption.entries()[0].unencrypted_prefix, "2024/");
    // A root-level object keeps the bucket's key.
    let root = owner
        .share_objects(
            &Permission::read_only(),
            &[ShareObject {
                bucket: "b".into(),
                key: "top.txt".into(),
            }],
        )
        .unwrap();
    assert_eq!(root.encryption.entries()[0].unencrypted_prefix, "");
    // Nothing to share, or an empty key, is refused.
    let e = owner
        .share_objects(&Permission::read_only(), &[])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let e = owner
        .share_objects(
            &Permission::read_only(),
            &[ShareObject {
                bucket: "b".into(),
                key: String::new(),
            }],
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ObjectKeyInvalid);
}

#[test]
fn sharing_a_key_at_the_caveat_limit_is_refused_with_a_reason() {
    let mut access = owner();
    for _ in 0..32 {
        access.api_key = access.api_key.restrict(&Caveat {
            disallow_writes: true,
            ..Default::default()
        });
    }
    let e = access
        .share(&Permission::read_only(), &[sp("b", "")])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(e.to_string().contains("32 caveats"), "{e}");
}
