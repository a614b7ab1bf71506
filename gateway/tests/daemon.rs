//! The `gateway` binary as an operator runs it: SIGTERM and SIGINT both
//! drain and exit 0; a bad configuration exits 2 with one line naming the
//! key and where it came from, before anything starts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use satstore_service::testing::{Daemon, assert_config_refused, run_to_end};

fn gateway(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gateway"));
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
        let mut gw = Daemon::spawn(gateway(dir.path())).unwrap();
        gw.wait_for_line("S3 endpoint", Duration::from_secs(60))
            .unwrap();
        gw.signal(signal).unwrap();
        let status = gw.wait(Duration::from_secs(30)).unwrap();
        let log = gw.stderr();
        assert!(status.success(), "SIG{signal}: {status:?}; {log}");
        assert!(log.contains(&format!("SIG{signal}")), "{log}");
        assert!(log.contains("gateway stopped"), "drained: {log}");
    }
}

#[test]
fn bad_config_exits_2_naming_key_and_source() {
    let dir = tempfile::tempdir().unwrap();
    let (status, err) = run_to_end({
        let mut c = gateway(dir.path());
        c.env("GATEWAY_TRUSTED_SATELLITES", "nonsense");
        c
    })
    .unwrap();
    assert_config_refused(
        status,
        &err,
        &["`trusted_satellites`", "GATEWAY_TRUSTED_SATELLITES"],
    );

    let file = dir.path().join("gateway.toml");
    std::fs::write(&file, "region = \"\"\n").unwrap();
    let (status, err) = run_to_end({
        let mut c = gateway(dir.path());
        c.arg("--config").arg(&file);
        c
    })
    .unwrap();
    assert_config_refused(status, &err, &["`region`", "gateway.toml", "empty"]);

    let (status, err) = run_to_end({
        let mut c = gateway(dir.path());
        c.env("GATEWAY_INSECURE", "perhaps");
        c
    })
    .unwrap();
    assert_config_refused(status, &err, &["`insecure`", "GATEWAY_INSECURE"]);
    assert!(
        !dir.path().join("gateway.db").exists(),
        "nothing was started"
    );
}
