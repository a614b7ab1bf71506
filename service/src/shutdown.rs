//! Graceful shutdown on SIGTERM (container stop, systemd stop) and SIGINT
//! (Ctrl-C) alike: the first signal starts the drain, a second one ends the
//! process at once. Install the handlers before the daemon says it is up,
//! so a stop sent right after never meets the default (killing) action.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// The signal that asked the process to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (`kill`, `docker stop`, `systemctl stop`).
    Terminate,
}

impl StopSignal {
    /// The conventional name, e.g. `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
        }
    }
}

/// Exit code after a second stop signal cut the drain short (128 + SIGINT).
pub const FORCED_EXIT_CODE: i32 = 130;

/// Installed SIGTERM and SIGINT handlers; signals arriving before
/// [`StopSignals::wait`] are kept, not lost.
pub struct StopSignals {
    term: Signal,
    int: Signal,
}

impl StopSignals {
    /// Installs the handlers (must run inside the async runtime).
    pub fn install() -> std::io::Result<StopSignals> {
        Ok(StopSignals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for the first stop signal. After it returns, a second signal
    /// exits the process immediately with [`FORCED_EXIT_CODE`].
    pub async fn wait(mut self) -> StopSignal {
        let first = self.next().await;
        tracing::info!(
            signal = first.name(),
            "stopping: draining (send it again to exit at once)"
        );
        tokio::spawn(async move {
            let second = self.next().await;
            eprintln!("{}: exiting without draining", second.name());
            std::process::exit(FORCED_EXIT_CODE);
        });
        first
    }

    async fn next(&mut self) -> StopSignal {
        tokio::select! {
            _ = self.int.recv() => StopSignal::Interrupt,
            _ = self.term.recv() => StopSignal::Terminate,
        }
    }
}
