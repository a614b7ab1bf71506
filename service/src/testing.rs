//! Test support for daemon binaries (feature `testing`, for dev
//! dependencies only): start a binary, wait for a line it prints, stop it
//! with a signal, and read what it said.

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
