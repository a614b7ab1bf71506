//! The `satellite` binary as an operator runs it: SIGTERM and SIGINT both
//! drain and exit 0; a bad configuration exits 2 with one line naming the
//! key and where it came from, before anything starts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::path::Path;
use std::process::Command;

use satstore_service::testing::{assert_drains_on_stop_signals, assert_refuses, clean_command};

fn satellite(dir: &Path) -> Command {
    let mut c = clean_command(env!("CARGO_BIN_EXE_satellite"));
    c.arg("run").arg("--data-dir").arg(dir);
    c.args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"]);
    c
}

#[test]
fn sigterm_and_sigint_drain_and_exit_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    assert_drains_on_stop_signals(|| satellite(dir.path()), "running", "satellite stopped");
}

#[test]
fn bad_config_exits_2_naming_key_and_source() {
    let dir = tempfile::tempdir().unwrap();
    let sat = || satellite(dir.path());
    assert_refuses(
        sat,
        |c| {
            c.env("SATELLITE_MAX_INLINE_SIZE", "1 GiB");
        },
        &[
            "`max_inline_size`",
            "SATELLITE_MAX_INLINE_SIZE",
            "max_segment_size",
        ],
    );
    assert_refuses(
        sat,
        |c| {
            c.env("SATELLITE_ORDER_EXPIRATON", "1h");
        },
        &["`order_expiraton`", "SATELLITE_ORDER_EXPIRATON"],
    );
    let file = dir.path().join("satellite.toml");
    std::fs::write(
        &file,
        "redundancy = { required = 9, repair = 3, success = 4, total = 5, share_size = 256 }\n",
    )
    .unwrap();
    assert_refuses(
        sat,
        |c| {
            c.arg("--config").arg(&file);
        },
        &["`redundancy`", "satellite.toml"],
    );
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "bogus_key = 1\n").unwrap();
    assert_refuses(
        sat,
        |c| {
            c.env("SATELLITE_CONFIG", &other);
        },
        &["`bogus_key`", "other.toml"],
    );
    assert!(
        !dir.path().join("identity.key").exists(),
        "nothing was started"
    );
}
