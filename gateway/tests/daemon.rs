//! The `gateway` binary as an operator runs it: SIGTERM and SIGINT both
//! drain and exit 0; a bad configuration exits 2 with one line naming the
//! key and where it came from, before anything starts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::path::Path;
use std::process::Command;

use satstore_service::testing::{assert_drains_on_stop_signals, assert_refuses, clean_command};

fn gateway(dir: &Path) -> Command {
    let mut c = clean_command(env!("CARGO_BIN_EXE_gateway"));
    c.arg("run").arg("--data-dir").arg(dir);
    c.args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"]);
    c
}

#[test]
fn sigterm_and_sigint_drain_and_exit_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    assert_drains_on_stop_signals(|| gateway(dir.path()), "S3 endpoint", "gateway stopped");
}

#[test]
fn bad_config_exits_2_naming_key_and_source() {
    let dir = tempfile::tempdir().unwrap();
    let gw = || gateway(dir.path());
    assert_refuses(
        gw,
        |c| {
            c.env("GATEWAY_TRUSTED_SATELLITES", "nonsense");
        },
        &["`trusted_satellites`", "GATEWAY_TRUSTED_SATELLITES"],
    );
    let file = dir.path().join("gateway.toml");
    std::fs::write(&file, "region = \"\"\n").unwrap();
    assert_refuses(
        gw,
        |c| {
            c.arg("--config").arg(&file);
        },
        &["`region`", "gateway.toml", "empty"],
    );
    assert_refuses(
        gw,
        |c| {
            c.env("GATEWAY_INSECURE", "perhaps");
        },
        &["`insecure`", "GATEWAY_INSECURE"],
    );
    assert!(
        !dir.path().join("gateway.db").exists(),
        "nothing was started"
    );
}
