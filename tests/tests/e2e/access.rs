//! Access grants and client-side encryption end to end: the seed's
//! multitenancy flow, restricted shares, revocation, wrong passphrases, no
//! plaintext at rest, and tamper detection.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use satstore_tests::{DataStream, TestNet};
use uplink::{Access, ErrorKind, ListObjectsOptions, Permission, SharePrefix, UploadOptions};

use crate::helpers::{assert_object, download_bytes, upload};

fn all_permissions() -> Permission {
    Permission {
        allow_download: true,
        allow_upload: true,
        allow_list: true,
        allow_delete: true,
        ..Default::default()
    }
}

fn prefix(bucket: &str, p: &str) -> SharePrefix {
    SharePrefix {
        bucket: bucket.into(),
        prefix: p.into(),
    }
}

async fn put(
    access: &Access,
    bucket: &str,
    key: &str,
    body: &[u8],
) -> Result<(), uplink::UplinkError> {
    let project = access.open_project().await?;
    let mut up = project
        .upload_object(bucket, key, &UploadOptions::default())
        .await?;
    up.write_all(body).await?;
    up.commit().await?;
    Ok(())
}

async fn get(access: &Access, bucket: &str, key: &str) -> Result<Vec<u8>, uplink::UplinkError> {
    let project = access.open_project().await?;
    let mut down = project
        .download_object(bucket, key, &Default::default())
        .await?;
    let mut out = Vec::new();
    down.read_file(&mut out).await?;
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn multitenancy_flow_of_the_seed() {
    let tn = TestNet::start().await.expect("start");
    let owner = tn.net().access().clone();
    owner
        .open_project()
        .await
        .expect("project")
        .create_bucket("app")
        .await
        .expect("bucket");

    // Per user: derive a key from the user's passphrase and a salt, override
    // it for the user's prefix, share a restricted access.
    let mut users = Vec::new();
    for user in ["alice", "bob"] {
        let key = owner
            .derive_encryption_key(&format!("{user}-passphrase"), format!("{user}-salt"))
            .expect("derive key");
        let mut scoped = owner.clone();
        scoped
            .override_encryption_key("app", &format!("{user}/"), &key)
            .expect("override");
        let shared = scoped
            .share(&all_permissions(), &[prefix("app", &format!("{user}/"))])
            .expect("share");
        // The grant survives its text form.
        let shared = uplink::parse_access(&shared.serialize()).expect("parse shared");
        users.push((user, shared));
    }
    let (_, alice) = &users[0];
    let (_, bob) = &users[1];

    put(alice, "app", "alice/notes.txt", b"alice's notes")
        .await
        .expect("alice writes her prefix");
    assert_eq!(
        get(alice, "app", "alice/notes.txt")
            .await
            .expect("alice reads"),
        b"alice's notes"
    );
    put(bob, "app", "bob/todo.txt", b"bob's todo")
        .await
        .expect("bob writes his prefix");

    // Alice cannot write, read or list outside her prefix.
    let err = put(alice, "app", "bob/evil.txt", b"x")
        .await
        .expect_err("outside prefix");
    assert!(matches!(err.kind(), ErrorKind::PermissionDenied), "{err}");
    let err = get(alice, "app", "bob/todo.txt")
        .await
        .expect_err("bob's object");
    assert!(matches!(err.kind(), ErrorKind::PermissionDenied), "{err}");
    let project = alice.open_project().await.expect("project");
    let err = project
        .list_objects("app", &ListObjectsOptions::default())
        .await
        .expect_err("list bucket root");
    assert!(matches!(err.kind(), ErrorKind::PermissionDenied), "{err}");
    let mine = project
        .list_objects(
            "app",
            &ListObjectsOptions {
                prefix: "alice/".into(),
                ..Default::default()
            },
        )
        .await
        .expect("list own prefix");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].key, "alice/notes.txt");

    // The owner's root key without Alice's override cannot decrypt her
    // objects: they were encrypted under Alice's derived key.
    let err = get(&owner, "app", "alice/notes.txt")
        .await
        .expect_err("owner without alice's key");
    assert_eq!(err.kind(), ErrorKind::ObjectNotFound, "{err}");
    // Nor can an access holding a different user key for alice/.
    let wrong = owner
        .derive_encryption_key("not-alice", "alice-salt")
        .expect("derive");
    let mut impostor = owner.clone();
    impostor
        .override_encryption_key("app", "alice/", &wrong)
        .expect("override");
    assert!(get(&impostor, "app", "alice/notes.txt").await.is_err());
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restricted_shares_are_enforced() {
    let tn = TestNet::start().await.expect("start");
    let owner = tn.net().access().clone();
    let project = owner.open_project().await.expect("project");
    project.create_bucket("shares").await.expect("bucket");
    put(&owner, "shares", "pub/a.txt", b"public a")
        .await
        .expect("put");
    put(&owner, "shares", "private/b.txt", b"private b")
        .await
        .expect("put");

    // Read-only share of pub/.
    let ro = owner
        .share(
            &Permission {
                allow_download: true,
                allow_list: true,
                ..Default::default()
            },
            &[prefix("shares", "pub/")],
        )
        .expect("share");
    assert_eq!(
        get(&ro, "shares", "pub/a.txt").await.expect("read"),
        b"public a"
    );
    let err = put(&ro, "shares", "pub/new.txt", b"x")
        .await
        .expect_err("upload");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let ro_project = ro.open_project().await.expect("project");
    let err = ro_project
        .delete_object("shares", "pub/a.txt")
        .await
        .expect_err("delete");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = ro_project
        .list_objects(
            "shares",
            &ListObjectsOptions {
                prefix: "private/".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("list outside");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = get(&ro, "shares", "private/b.txt")
        .await
        .expect_err("read outside");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::PermissionDenied | ErrorKind::ObjectNotFound
        ),
        "{err}"
    );
    // Still there for the owner.
    assert_eq!(
        get(&owner, "shares", "pub/a.txt").await.expect("owner"),
        b"public a"
    );

    // Expired and not-yet-valid shares are refused.
    let now = SystemTime::now();
    let expired = owner
        .share(
            &Permission {
                allow_download: true,
                not_after: Some(now - Duration::from_secs(60)),
                ..Default::default()
            },
            &[prefix("shares", "pub/")],
        )
        .expect("share");
    let err = get(&expired, "shares", "pub/a.txt")
        .await
        .expect_err("expired");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let future = owner
        .share(
            &Permission {
                allow_download: true,
                not_before: Some(now + Duration::from_secs(3600)),
                ..Default::default()
            },
            &[prefix("shares", "pub/")],
        )
        .expect("share");
    let err = get(&future, "shares", "pub/a.txt")
        .await
        .expect_err("not yet valid");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    // An empty permission or an inverted window is refused at share time.
    assert!(
        owner
            .share(&Permission::default(), &[prefix("shares", "pub/")])
            .is_err()
    );
    assert!(
        owner
            .share(
                &Permission {
                    allow_download: true,
                    not_before: Some(now + Duration::from_secs(60)),
                    not_after: Some(now),
                    ..Default::default()
                },
                &[prefix("shares", "pub/")],
            )
            .is_err()
    );

    // Revoking a share: refused at once, the owner unaffected.
    let revocable = owner
        .share(
            &Permission {
                allow_download: true,
                ..Default::default()
            },
            &[prefix("shares", "pub/")],
        )
        .expect("share");
    // A share derived from it dies with it.
    let child = revocable
        .share(
            &Permission {
                allow_download: true,
                ..Default::default()
            },
            &[prefix("shares", "pub/")],
        )
        .expect("share of a share");
    assert!(get(&child, "shares", "pub/a.txt").await.is_ok());
    project.revoke_access(&revocable).await.expect("revoke");
    let err = get(&revocable, "shares", "pub/a.txt")
        .await
        .expect_err("revoked");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    let err = get(&child, "shares", "pub/a.txt")
        .await
        .expect_err("child of revoked");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert!(get(&owner, "shares", "pub/a.txt").await.is_ok());

    // Revoking the project's root API key (operator) ends everything.
    satellite::admin::revoke_api_key(tn.net().satellite().store(), &owner.api_key)
        .await
        .expect("admin revoke");
    let err = get(&owner, "shares", "pub/a.txt")
        .await
        .expect_err("root revoked");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_truncated_and_wrong_keys_are_refused() {
    let tn = TestNet::start().await.expect("start");
    let owner = tn.net().access().clone();
    owner
        .open_project()
        .await
        .expect("project")
        .create_bucket("keys")
        .await
        .expect("bucket");
    put(&owner, "keys", "dir/obj", b"content")
        .await
        .expect("put");

    // A share's macaroon with its caveat dropped (tail kept) is refused by
    // the satellite: the HMAC chain no longer matches.
    let ro = owner
        .share(
            &Permission {
                allow_download: true,
                ..Default::default()
            },
            &[prefix("keys", "dir/")],
        )
        .expect("share");
    let bytes = ro.api_key.to_bytes();
    // Truncated: fails to parse locally, or is refused.
    assert!(satstore_common::macaroon::ApiKey::from_bytes(&bytes[..bytes.len() - 3]).is_err());
    // Forged: flip a byte inside the caveat and keep the tail.
    let mut forged_bytes = bytes.clone();
    let mid = forged_bytes.len() / 2;
    forged_bytes[mid] ^= 0x40;
    if let Ok(forged) = satstore_common::macaroon::ApiKey::from_bytes(&forged_bytes) {
        let mut bad = ro.clone();
        bad.api_key = forged;
        let err = get(&bad, "keys", "dir/obj").await.expect_err("forged");
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    }

    // A wrong passphrase yields an access that cannot read the objects: an
    // error, never garbage.
    let wrong = uplink::request_access_with_passphrase(
        &tn.net().satellite_url().to_string(),
        &owner.api_key.serialize(),
        "not the passphrase",
    )
    .await
    .expect("access with another passphrase");
    let err = get(&wrong, "keys", "dir/obj")
        .await
        .expect_err("wrong passphrase");
    assert_eq!(err.kind(), ErrorKind::ObjectNotFound, "{err}");
    let listed = wrong
        .open_project()
        .await
        .expect("project")
        .list_objects(
            "keys",
            &ListObjectsOptions {
                recursive: true,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert!(
        listed.is_empty(),
        "undecryptable keys are not listed: {listed:?}"
    );
    tn.shutdown().await;
}

/// Scans every file under `dir` for `needle`.
fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p)
                && bytes.windows(needle.len()).any(|w| w == needle)
            {
                hits.push(p.display().to_string());
            }
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_is_stored_in_the_clear() {
    let tn = TestNet::start().await.expect("start");
    let owner = tn.net().access().clone();
    let project = owner.open_project().await.expect("project");
    project.create_bucket("clear").await.expect("bucket");
    let key_marker = "zq-secret-object-key-7f3a";
    let meta_marker = "zq-secret-metadata-value-91c2";
    let content_marker = b"zq-secret-content-5d8e-";
    // One remote object (1 MiB) and one inline object, both full of marker.
    for (key, len) in [
        (format!("dir/{key_marker}/big"), 1 << 20),
        (format!("{key_marker}-small"), 1000),
    ] {
        let body: Vec<u8> = content_marker.iter().copied().cycle().take(len).collect();
        let mut up = project
            .upload_object("clear", &key, &UploadOptions::default())
            .await
            .expect("begin");
        up.set_custom_metadata(BTreeMap::from([(
            "note".to_string(),
            meta_marker.to_string(),
        )]))
        .expect("metadata");
        up.write_all(&body).await.expect("write");
        up.commit().await.expect("commit");
    }
    // Sanity: the client reads all of it back in the clear.
    let obj = project
        .stat_object("clear", &format!("{key_marker}-small"))
        .await
        .expect("stat");
    assert_eq!(
        obj.custom.get("note").map(String::as_str),
        Some(meta_marker)
    );

    let dir = tn.net().dir().to_path_buf();
    for needle in [
        key_marker.as_bytes(),
        meta_marker.as_bytes(),
        &content_marker[..],
    ] {
        let hits = files_containing(&dir, needle);
        assert!(
            hits.is_empty(),
            "{:?} found in the clear in {hits:?}",
            String::from_utf8_lossy(needle)
        );
    }
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn listing_decrypts_and_plain_keys_sort() {
    let tn = TestNet::start().await.expect("start");
    let owner = tn.net().access().clone();
    let project = owner.open_project().await.expect("project");
    project.create_bucket("sorted").await.expect("bucket");
    let keys = ["b/2", "a/1", "c", "a/0", "b/1/x"];
    for k in keys {
        put(&owner, "sorted", k, k.as_bytes()).await.expect("put");
    }
    let all = project
        .list_objects(
            "sorted",
            &ListObjectsOptions {
                recursive: true,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    let mut got: Vec<String> = all.iter().map(|o| o.key.clone()).collect();
    got.sort();
    let mut want: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "encrypted listing returns decrypted keys");

    // An access with the "none" path cipher: keys in the clear, listed in
    // lexicographic order, cursors working.
    let plain = uplink::Uplink
        .config_request_access_with_passphrase(
            &uplink::UplinkConfig {
                unencrypted_object_keys: true,
                ..Default::default()
            },
            &tn.net().satellite_url().to_string(),
            &owner.api_key.serialize(),
            "plain keys passphrase",
        )
        .await
        .expect("plain access");
    let pp = plain.open_project().await.expect("project");
    pp.create_bucket("plain").await.expect("bucket");
    for k in ["m", "a", "z/1", "b", "z/0"] {
        put(&plain, "plain", k, b"x").await.expect("put");
    }
    let listed: Vec<String> = pp
        .list_objects(
            "plain",
            &ListObjectsOptions {
                recursive: true,
                ..Default::default()
            },
        )
        .await
        .expect("list")
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(listed, ["a", "b", "m", "z/0", "z/1"]);
    let after_b: Vec<String> = pp
        .list_objects(
            "plain",
            &ListObjectsOptions {
                recursive: true,
                cursor: "b".into(),
                ..Default::default()
            },
        )
        .await
        .expect("list")
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(after_b, ["m", "z/0", "z/1"]);
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_objects_disappear() {
    let tn = TestNet::start().await.expect("start");
    let owner = tn.net().access().clone();
    let project = owner.open_project().await.expect("project");
    project.create_bucket("ttl").await.expect("bucket");
    let expires = SystemTime::now() + Duration::from_secs(3);
    for (key, len) in [("short-remote", 300_000u64), ("short-inline", 10)] {
        let mut up = project
            .upload_object(
                "ttl",
                key,
                &UploadOptions {
                    expires: Some(expires),
                },
            )
            .await
            .expect("begin");
        up.write_all(&DataStream::new(1, len).to_vec())
            .await
            .expect("write");
        up.commit().await.expect("commit");
    }
    upload(&project, "ttl", "forever", 2, 1000)
        .await
        .expect("upload");
    let listed = project
        .list_objects("ttl", &Default::default())
        .await
        .expect("list");
    assert_eq!(listed.len(), 3);
    let stat = project
        .stat_object("ttl", "short-remote")
        .await
        .expect("stat");
    assert!(stat.system.expires.is_some());
    // Every stored piece carries the expiration, so nodes delete them.
    let sat = tn.net().satellite().id();
    let mut pieces_with_expiry = 0;
    for (_, node) in tn.net().running_nodes() {
        let store = node.store();
        for piece in store.piece_ids(&sat).expect("pieces") {
            let header = store.header(&sat, &piece).expect("header");
            assert!(header.expires_at > 0, "piece without expiration");
            pieces_with_expiry += 1;
        }
    }
    assert!(pieces_with_expiry >= 8);

    // Poll until the expiration passes (bounded), then check both objects.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while project.stat_object("ttl", "short-remote").await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "object did not expire"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for key in ["short-remote", "short-inline"] {
        let err = project.stat_object("ttl", key).await.expect_err("expired");
        assert_eq!(err.kind(), ErrorKind::ObjectNotFound);
        assert!(download_bytes(&project, "ttl", key, 0, -1).await.is_err());
    }
    let listed = project
        .list_objects("ttl", &Default::default())
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_object(&project, "ttl", "forever", 2, 1000).await;
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tampered_ciphertext_is_detected() {
    use sqlx::Row;
    let tn = TestNet::start().await.expect("start");
    let owner = tn.net().access().clone();
    let project = owner.open_project().await.expect("project");
    project.create_bucket("tamper").await.expect("bucket");
    put(
        &owner,
        "tamper",
        "inline",
        &DataStream::new(1, 1000).to_vec(),
    )
    .await
    .expect("put");
    put(
        &owner,
        "tamper",
        "remote",
        &DataStream::new(2, 300_000).to_vec(),
    )
    .await
    .expect("put");
    assert!(get(&owner, "tamper", "inline").await.is_ok());

    // Flip one bit of the inline ciphertext and of the remote segment's
    // wrapped content key, straight in the satellite's database.
    let db = tn.net().dir().join("satellite").join("satellite.db");
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open satellite db");
    let rows = sqlx::query("SELECT stream_id, position, inline_data, encrypted_key FROM segments")
        .fetch_all(&pool)
        .await
        .expect("segments");
    assert_eq!(rows.len(), 2);
    for row in rows {
        let stream_id: Vec<u8> = row.get(0);
        let position: i64 = row.get(1);
        let inline: Option<Vec<u8>> = row.get(2);
        let mut key: Vec<u8> = row.get(3);
        if let Some(mut data) = inline.filter(|d| !d.is_empty()) {
            data[10] ^= 1;
            sqlx::query(
                "UPDATE segments SET inline_data = $1 WHERE stream_id = $2 AND position = $3",
            )
            .bind(data)
            .bind(&stream_id)
            .bind(position)
            .execute(&pool)
            .await
            .expect("tamper inline");
        } else {
            key[3] ^= 1;
            sqlx::query(
                "UPDATE segments SET encrypted_key = $1 WHERE stream_id = $2 AND position = $3",
            )
            .bind(key)
            .bind(&stream_id)
            .bind(position)
            .execute(&pool)
            .await
            .expect("tamper key");
        }
    }
    pool.close().await;
    for key in ["inline", "remote"] {
        let res = get(&owner, "tamper", key).await;
        assert!(
            res.is_err(),
            "tampered {key} must fail, got {} bytes",
            res.map(|b| b.len()).unwrap_or(0)
        );
    }
    tn.shutdown().await;
}
