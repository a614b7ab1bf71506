//! The `storagenode` binary as an operator runs it: SIGTERM and SIGINT both
//! drain and exit 0; a bad configuration exits 2 with one line naming the
//! key and where it came from, before anything starts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use satstore_service::testing::{Daemon, assert_config_refused, run_to_end};

fn storagenode(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_storagenode"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("run")
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"]);
    c
}

#[test]
fn sigterm_and_sigint_drain_and_exit_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for signal in ["TERM", "INT"] {
        let mut node = Daemon::spawn(storagenode(dir.path())).unwrap();
        node.wait_for_line("listening on", Duration::from_secs(60))
            .unwrap();
        node.signal(signal).unwrap();
        let status = node.wait(Duration::from_secs(30)).unwrap();
        let log = node.stderr();
        assert!(status.success(), "SIG{signal}: {status:?}; {log}");
        assert!(log.contains(&format!("SIG{signal}")), "{log}");
        assert!(log.contains("storage node stopped"), "drained: {log}");
    }
}

#[test]
fn bad_config_exits_2_naming_key_and_source() {
    let dir = tempfile::tempdir().unwrap();
    let (status, err) = run_to_end({
        let mut c = storagenode(dir.path());
        c.env("STORAGENODE_MAX_CONCURRENT_TRANSFERS", "0");
        c
    })
    .unwrap();
    assert_config_refused(
        status,
        &err,
        &[
            "`max_concurrent_transfers`",
            "STORAGENODE_MAX_CONCURRENT_TRANSFERS",
        ],
    );

    let (status, err) = run_to_end({
        let mut c = storagenode(dir.path());
        c.env("STORAGENODE_ALLOCATED_SPACE", "lots");
        c
    })
    .unwrap();
    assert_config_refused(
        status,
        &err,
        &["`allocated_space`", "STORAGENODE_ALLOCATED_SPACE"],
    );

    let (status, err) = run_to_end({
        let mut c = storagenode(dir.path());
        c.args(["--satellite", "not-a-node-url"]);
        c
    })
    .unwrap();
    assert_config_refused(status, &err, &["`satellites`", "--satellites"]);
    assert!(
        !dir.path().join("identity.key").exists(),
        "nothing was started"
    );
}
