//! The `satellite` binary as an operator runs it: SIGTERM and SIGINT both
//! drain and exit 0; a bad configuration exits 2 with one line naming the
//! key and where it came from, before anything starts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use satstore_service::testing::{Daemon, assert_config_refused, run_to_end};

fn satellite(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_satellite"));
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
        let mut sat = Daemon::spawn(satellite(dir.path())).unwrap();
        sat.wait_for_line("running", Duration::from_secs(60))
            .unwrap();
        sat.signal(signal).unwrap();
        let status = sat.wait(Duration::from_secs(30)).unwrap();
        let log = sat.stderr();
        assert!(status.success(), "SIG{signal}: {status:?}; {log}");
        assert!(log.contains(&format!("SIG{signal}")), "{log}");
        assert!(log.contains("satellite stopped"), "drained: {log}");
    }
}

#[test]
fn bad_config_exits_2_naming_key_and_source() {
    let dir = tempfile::tempdir().unwrap();
    let (status, err) = run_to_end({
        let mut c = satellite(dir.path());
        c.env("SATELLITE_MAX_INLINE_SIZE", "1 GiB");
        c
    })
    .unwrap();
    assert_config_refused(
        status,
        &err,
        &[
            "`max_inline_size`",
            "SATELLITE_MAX_INLINE_SIZE",
            "max_segment_size",
        ],
    );

    let (status, err) = run_to_end({
        let mut c = satellite(dir.path());
        c.env("SATELLITE_ORDER_EXPIRATON", "1h");
        c
    })
    .unwrap();
    assert_config_refused(
        status,
        &err,
        &["`order_expiraton`", "SATELLITE_ORDER_EXPIRATON"],
    );

    let file = dir.path().join("satellite.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nredundancy = { required = 9, repair = 3, success = 4, total = 5, share_size = 256 }\n").unwrap();
    let (status, err) = run_to_end({
        let mut c = satellite(dir.path());
        c.arg("--config").arg(&file);
        c
    })
    .unwrap();
    assert_config_refused(status, &err, &["`redundancy`", "satellite.toml"]);

    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nbogus_key = 1\n").unwrap();
    let (status, err) = run_to_end({
        let mut c = satellite(dir.path());
        c.env("SATELLITE_CONFIG", &file);
        c
    })
    .unwrap();
    assert_config_refused(status, &err, &["`bogus_key`", "satellite.toml"]);
    assert!(
        !dir.path().join("identity.key").exists(),
        "nothing was started"
    );
}
