//! The `storagenode` binary as an operator runs it: SIGTERM and SIGINT both
//! drain and exit 0; a bad configuration exits 2 with one line naming the
//! key and where it came from, before anything starts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::path::Path;
use std::process::Command;

use satstore_service::testing::{assert_drains_on_stop_signals, assert_refuses, clean_command};

fn storagenode(dir: &Path) -> Command {
    let mut c = clean_command(env!("CARGO_BIN_EXE_storagenode"));
    c.arg("run").arg("--data-dir").arg(dir);
    c.args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"]);
    c
}

#[test]
fn sigterm_and_sigint_drain_and_exit_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    assert_drains_on_stop_signals(
        || storagenode(dir.path()),
        "listening on",
        "storage node stopped",
    );
}

#[test]
fn bad_config_exits_2_naming_key_and_source() {
    let dir = tempfile::tempdir().unwrap();
    let node = || storagenode(dir.path());
    assert_refuses(
        node,
        |c| {
            c.env("STORAGENODE_MAX_CONCURRENT_TRANSFERS", "0");
        },
        &[
            "`max_concurrent_transfers`",
            "STORAGENODE_MAX_CONCURRENT_TRANSFERS",
        ],
    );
    assert_refuses(
        node,
        |c| {
            c.env("STORAGENODE_ALLOCATED_SPACE", "lots");
        },
        &["`allocated_space`", "STORAGENODE_ALLOCATED_SPACE"],
    );
    assert_refuses(
        node,
        |c| {
            c.args(["--satellite", "not-a-node-url"]);
        },
        &["`satellites`", "--satellites"],
    );
    assert!(
        !dir.path().join("identity.key").exists(),
        "nothing was started"
    );
}
