//! The `satellite api-key` subcommands against a real SQLite database in a
//! temp dir: create, list, revoke (key or access grant), delete.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::path::Path;
use std::process::{Command, Output};

use satellite::Store;
use satellite::auth::Authenticator;
use satstore_common::macaroon::{ApiKey, Caveat};
use satstore_common::time::now_unix;
use satstore_proto::Message;

fn satellite(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_satellite"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("SATELLITE_DATABASE_URL")
        .env_remove("SATELLITE_DATA_DIR")
        .output()
        .expect("run the satellite binary")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn failed(out: Output, text: &str) {
    assert!(!out.status.success(), "should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(text), "{text:?} not in {err:?}");
}

fn grant(key: &ApiKey) -> String {
    let scope = satstore_proto::access::Scope {
        satellite_addr: "x@127.0.0.1:1".into(),
        api_key: key.to_bytes(),
        encryption_access: None,
    };
    bs58::encode(scope.encode_to_vec())
        .with_check_version(0)
        .into_string()
}

async fn auth(dir: &Path, key: &ApiKey) -> Result<(), String> {
    let url = format!("sqlite://{}/satellite.db?mode=rwc", dir.display());
    let store = Store::connect(&url).await.unwrap();
    let r = Authenticator::new(store.clone())
        .authenticate(&key.to_bytes(), now_unix())
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    store.close().await;
    r
}

#[tokio::test]
async fn api_key_list_revoke_and_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = ok(satellite(dir, &["project", "create", "demo"]));
    let root = out
        .lines()
        .find_map(|l| l.strip_prefix("api-key: "))
        .expect("api-key line");
    let root = ApiKey::parse(root).unwrap();
    let ci = ApiKey::parse(&ok(satellite(
        dir,
        &["api-key", "create", "--project", "demo", "--name", "ci"],
    )))
    .unwrap();

    let list = ok(satellite(dir, &["api-key", "list", "--project", "demo"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert_eq!(lines[0], "NAME\tCREATED\tHEAD");
    for (name, key) in [("default", &root), ("ci", &ci)] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{name}\t")))
            .unwrap_or_else(|| panic!("{name} missing in {list}"));
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            cols[1].starts_with("20") && cols[1].ends_with('Z'),
            "{line}"
        );
        assert_eq!(cols[2], satstore_common::hex::encode(key.head()));
    }
    failed(
        satellite(dir, &["api-key", "list", "--project", "nope"]),
        "not found",
    );

    // Revoke a restricted key given as an access grant: its parent stays.
    let restricted = root.restrict(&Caveat {
        disallow_deletes: true,
        ..Default::default()
    });
    auth(dir, &restricted).await.unwrap();
    ok(satellite(dir, &["api-key", "revoke", &grant(&restricted)]));
    assert!(
        auth(dir, &restricted)
            .await
            .unwrap_err()
            .contains("revoked")
    );
    auth(dir, &root).await.unwrap();
    // Revoke a serialized key.
    ok(satellite(dir, &["api-key", "revoke", &ci.serialize()]));
    assert!(auth(dir, &ci).await.unwrap_err().contains("revoked"));
    failed(
        satellite(dir, &["api-key", "revoke", "garbage"]),
        "not an API key or access grant",
    );

    // Delete the root: everything derived from it is unknown.
    ok(satellite(
        dir,
        &[
            "api-key",
            "delete",
            "--project",
            "demo",
            "--name",
            "default",
        ],
    ));
    assert!(auth(dir, &root).await.unwrap_err().contains("unknown"));
    failed(
        satellite(
            dir,
            &[
                "api-key",
                "delete",
                "--project",
                "demo",
                "--name",
                "default",
            ],
        ),
        "no API key named",
    );
    let list = ok(satellite(dir, &["api-key", "list", "--project", "demo"]));
    assert_eq!(list.lines().count(), 2, "{list}");
}
