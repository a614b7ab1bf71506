//! `localnet run` as a newcomer (or a container) runs it: SIGTERM drains
//! the whole network like Ctrl-C and exits 0; too few nodes for the
//! redundancy exits 2 with one line naming the flag.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use satstore_service::testing::{Daemon, assert_refuses, clean_command};

fn localnet(dir: &Path) -> Command {
    let mut c = clean_command(env!("CARGO_BIN_EXE_localnet"));
    c.arg("run").arg("--dir").arg(dir);
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
    assert_refuses(
        || localnet(dir.path()),
        |c| {
            c.args(["--nodes", "3"]);
        },
        &["`nodes`", "--nodes", "redundancy"],
    );
}
