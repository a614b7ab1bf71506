//! `localnet run` as a newcomer (or a container) runs it: SIGTERM drains
//! the whole network like Ctrl-C and exits 0; too few nodes for the
//! redundancy exits 2 with one line naming the flag.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use satstore_service::testing::{Daemon, assert_config_refused, run_to_end};

fn localnet(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_localnet"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("run")
        .arg("--dir")
        .arg(dir);
    c
}

#[test]
fn sigterm_stops_the_whole_network() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = Daemon::spawn(localnet(dir.path())).unwrap();
    net.wait_for_line("localnet is running", Duration::from_secs(120))
        .unwrap();
    net.signal("TERM").unwrap();
    let status = net.wait(Duration::from_secs(60)).unwrap();
    let log = net.stderr();
    assert!(status.success(), "{status:?}; {log}");
    assert!(log.contains("SIGTERM: stopping localnet"), "{log}");
    assert!(log.contains("gateway stopped"), "{log}");
    assert!(log.contains("storage node stopped"), "{log}");
    assert!(log.contains("satellite stopped"), "{log}");
}

#[test]
fn too_few_nodes_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (status, err) = run_to_end({
        let mut c = localnet(dir.path());
        c.args(["--nodes", "3"]);
        c
    })
    .unwrap();
    assert_config_refused(status, &err, &["`nodes`", "--nodes", "redundancy"]);
}
