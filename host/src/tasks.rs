//! The application's long-lived background tasks, and the order they stop in.
//!
//! Every task the server runs beside its requests is started through [`Tasks`], so shutdown
//! can account for all of them. Tasks come in two kinds, stopped in two phases after the
//! HTTP server has stopped accepting and drained its requests:
//!
//! 1. **Work** (vote batches, folded vote notices, verification jobs, shadow runs) is told to
//!    drain: finish or answer what it holds, take nothing new, and return. The application
//!    waits for it, because followers and pools must still be there while it finishes.
//! 2. **Followers** (bus subscriptions that keep this instance up to date) are then told to
//!    stop, and awaited.
//!
//! Only then are the pools closed, so no task meets a closed pool.

use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The first pause before a panicked task is started again, and the longest.
const RESTART_PAUSE: Duration = Duration::from_millis(50);
const MAX_RESTART_PAUSE: Duration = Duration::from_secs(5);

/// A handle to start background tasks; cheap to clone.
#[derive(Clone, Default)]
pub struct Tasks {
    drain: CancellationToken,
    work: TaskTracker,
    stop: CancellationToken,
    followers: TaskTracker,
}

/// How a shutdown went: what was still running when its phase's time ran out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stopped {
    pub work_abandoned: usize,
    pub followers_abandoned: usize,
}

impl Tasks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a task that holds work others are waiting for. `drain` fires when it must finish
    /// what it holds and return.
    pub fn spawn_work<F, Fut>(&self, name: &'static str, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let future = task(self.drain.clone());
        self.work.spawn(async move {
            future.await;
            tracing::debug!(task = name, "background work finished");
        });
    }

    /// Starts work as [`Tasks::spawn_work`] does, and starts it again (after a pause that grows
    /// with repeated failures) whenever it panics, until a run returns.
    pub fn spawn_supervised_work<F, Fut>(&self, name: &'static str, mut run: F)
    where
        F: FnMut(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.spawn_work(name, move |drain| async move {
            let mut pause = RESTART_PAUSE;
            loop {
                match AssertUnwindSafe(run(drain.clone())).catch_unwind().await {
                    Ok(()) => break,
                    Err(_panic) => {
                        tracing::error!(task = name, "background work panicked; starting it again");
                        metrics::counter!("task_restarts_total", "task" => name).increment(1);
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(MAX_RESTART_PAUSE);
                    }
                }
            }
        });
    }

    /// Starts a task that follows something (a bus topic, a clock) until `stop` fires.
    pub fn spawn_follower<F, Fut>(&self, name: &'static str, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let future = task(self.stop.clone());
        self.followers.spawn(async move {
            future.await;
            tracing::debug!(task = name, "follower stopped");
        });
    }

    /// Whether shutdown has begun (work started now should be done at once, not scheduled).
    pub fn draining(&self) -> bool {
        self.drain.is_cancelled()
    }

    /// Drains the work, then stops the followers, each phase within `grace`. Tasks still
    /// running at the end of their phase are left to the runtime's shutdown and counted.
    pub async fn shutdown(&self, grace: Duration) -> Stopped {
        self.drain.cancel();
        self.work.close();
        let work_abandoned = wait(&self.work, grace).await;
        if work_abandoned > 0 {
            tracing::warn!(tasks = work_abandoned, "grace period over: background work abandoned");
        }
        self.stop.cancel();
        self.followers.close();
        let followers_abandoned = wait(&self.followers, grace).await;
        if followers_abandoned > 0 {
            tracing::warn!(tasks = followers_abandoned, "grace period over: followers abandoned");
        }
        Stopped { work_abandoned, followers_abandoned }
    }
}

async fn wait(tracker: &TaskTracker, grace: Duration) -> usize {
    match tokio::time::timeout(grace, tracker.wait()).await {
        Ok(()) => 0,
        Err(_) => tracker.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn work_drains_before_followers_stop() {
        let tasks = Tasks::new();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = order.clone();
        tasks.spawn_follower("follower", move |stop| async move {
            stop.cancelled().await;
            log.lock().expect("log").push("follower");
        });
        let log = order.clone();
        tasks.spawn_work("work", move |drain| async move {
            drain.cancelled().await;
            // Draining takes a while; the follower must still be running meanwhile.
            tokio::time::sleep(Duration::from_millis(50)).await;
            log.lock().expect("log").push("work");
        });
        let stopped = tasks.shutdown(Duration::from_secs(5)).await;
        assert_eq!(stopped, Stopped::default());
        assert_eq!(*order.lock().expect("order"), vec!["work", "follower"]);
    }

    #[tokio::test]
    async fn work_started_while_draining_is_awaited() {
        let tasks = Tasks::new();
        let done = Arc::new(AtomicUsize::new(0));
        let (inner_tasks, inner_done) = (tasks.clone(), done.clone());
        tasks.spawn_work("spawner", move |drain| async move {
            drain.cancelled().await;
            inner_tasks.spawn_work("late", move |_| async move {
                tokio::time::sleep(Duration::from_millis(30)).await;
                inner_done.fetch_add(1, Ordering::SeqCst);
            });
        });
        tasks.shutdown(Duration::from_secs(5)).await;
        assert_eq!(done.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_stuck_task_is_counted_not_waited_for_forever() {
        let tasks = Tasks::new();
        tasks.spawn_work("stuck", |_| std::future::pending::<()>());
        let stopped = tasks.shutdown(Duration::from_millis(50)).await;
        assert_eq!(stopped, Stopped { work_abandoned: 1, followers_abandoned: 0 });
    }
}
