//! The background tasks of one running service: spawned with a name, told
//! to stop through one cancellation token, and awaited on shutdown so a
//! stop drains instead of dropping work.

use std::future::Future;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Named tasks sharing one stop token.
#[derive(Debug, Default)]
pub struct TaskSet {
    stop: CancellationToken,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl TaskSet {
    /// An empty set with a fresh stop token.
    pub fn new() -> Self {
        Self::default()
    }

    /// The token every task of the set watches; cancelled by [`Self::shutdown`].
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Spawns `task` (which must end soon after the stop token is
    /// cancelled) under `name`.
    pub fn spawn<F>(&mut self, name: &'static str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.push((name, tokio::spawn(task)));
    }

    /// Adds an already spawned task.
    pub fn adopt(&mut self, name: &'static str, handle: JoinHandle<()>) {
        self.tasks.push((name, handle));
    }

    /// Cancels the stop token and waits for every task, in the order they
    /// were added; a task that panicked is logged, not propagated.
    pub async fn shutdown(self) {
        self.stop.cancel();
        for (name, task) in self.tasks {
            if let Err(e) = task.await {
                tracing::warn!(task = name, error = %e, "task failed during shutdown");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn shutdown_cancels_and_waits_for_every_task() {
        let mut set = TaskSet::new();
        let finished = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let stop = set.stop_token();
            let finished = finished.clone();
            set.spawn("worker", async move {
                stop.cancelled().await;
                tokio::task::yield_now().await;
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        set.spawn("panics", async {
            panic!("a failing task does not stop the drain")
        });
        set.shutdown().await;
        assert_eq!(finished.load(Ordering::SeqCst), 3);
    }
}
