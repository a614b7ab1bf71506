//! Test support for daemon binaries (feature `testing`, for dev
//! dependencies only): start a binary, wait for a line it prints, stop it
//! with a signal, and read what it said. A failed expectation panics: this
//! is test code.
#![allow(clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running daemon with its output captured.
pub struct Daemon {
    child: Child,
    lines: mpsc::Receiver<String>,
    stdout: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl Daemon {
    /// Starts `command` with stdout and stderr captured.
    pub fn spawn(mut command: Command) -> std::io::Result<Daemon> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (tx, lines) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut err) = child.stderr.take() {
            let sink = stderr.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut s) = sink.lock() {
                        s.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            });
        }
        Ok(Daemon {
            child,
            lines,
            stdout: Vec::new(),
            stderr,
        })
    }

    /// Waits up to `timeout` for a stdout line containing `needle`; the
    /// line, or an error with everything printed so far.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if line.contains(needle) {
                        return Ok(line);
                    }
                }
                Err(_) => {
                    return Err(format!(
                        "no line with {needle:?} within {timeout:?}; stdout: {:?}; stderr: {}",
                        self.stdout,
                        self.stderr()
                    ));
                }
            }
        }
    }

    /// Sends `signal` (a `kill` name such as `TERM` or `INT`).
    pub fn signal(&self, signal: &str) -> std::io::Result<()> {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("kill -{signal} failed")))
        }
    }

    /// Waits up to `timeout` for the process to exit; kills it and fails
    /// if it does not.
    pub fn wait(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    return Err(format!(
                        "did not exit within {timeout:?}; stderr: {}",
                        self.stderr()
                    ));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        // Give the reader thread a moment to catch up with the pipe.
        std::thread::sleep(Duration::from_millis(50));
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs `command` to completion; its exit status and stderr.
pub fn run_to_end(mut command: Command) -> std::io::Result<(ExitStatus, String)> {
    let out = command.stdin(Stdio::null()).output()?;
    Ok((
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Asserts that a binary refused its configuration: exit code 2 and one
/// `error:` line on stderr containing every `needle`.
pub fn assert_config_refused(status: ExitStatus, stderr: &str, needles: &[&str]) {
    assert_eq!(status.code(), Some(2), "exit code; stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for n in needles {
        assert!(lines[0].contains(n), "{n:?} not in {stderr:?}");
    }
}

/// A command for the daemon binary `bin` with an empty environment (but
/// `PATH`), so variables of the caller's shell cannot change the test.
pub fn clean_command(bin: &str) -> Command {
    let mut c = Command::new(bin);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c
}

/// Starts the daemon `make` builds once per stop signal (SIGTERM, then
/// SIGINT), waits for `ready` on stdout, sends the signal and asserts a
/// clean exit (0) within 30 s whose log names the signal and `stopped`.
pub fn assert_drains_on_stop_signals(make: impl Fn() -> Command, ready: &str, stopped: &str) {
    for signal in ["TERM", "INT"] {
        let mut daemon = Daemon::spawn(make()).expect("start the daemon");
        if let Err(e) = daemon.wait_for_line(ready, Duration::from_secs(60)) {
            panic!("{e}");
        }
        daemon.signal(signal).expect("send the signal");
        let status = match daemon.wait(Duration::from_secs(30)) {
            Ok(s) => s,
            Err(e) => panic!("SIG{signal}: {e}"),
        };
        let log = daemon.stderr();
        assert!(status.success(), "SIG{signal}: {status:?}; {log}");
        assert!(log.contains(&format!("SIG{signal}")), "{log}");
        assert!(log.contains(stopped), "SIG{signal}: not drained: {log}");
    }
}

/// Runs the command `make` builds after `tweak` and asserts the config
/// was refused (see [`assert_config_refused`]).
pub fn assert_refuses(
    make: impl Fn() -> Command,
    tweak: impl FnOnce(&mut Command),
    needles: &[&str],
) {
    let mut command = make();
    tweak(&mut command);
    let (status, stderr) = run_to_end(command).expect("run the binary");
    assert_config_refused(status, &stderr, needles);
}
