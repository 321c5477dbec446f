//! Where a call's wall time goes: to the component's own time (running, or waiting on
//! anything the host does for it other than the model, such as a WASI clock pollable), or to
//! vision requests, which have a budget of their own. Shared by the epoch deadline (which sees
//! the component only while it runs) and the watchdog of the whole call (which sees it while
//! it waits in the host too).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// No vision request in progress.
const IDLE: u64 = u64::MAX;

#[derive(Debug)]
pub struct CallClock {
    started: Instant,
    /// Nanoseconds spent in finished vision requests.
    vision_done: AtomicU64,
    /// Nanoseconds after `started` at which the vision request in progress began, or `IDLE`.
    vision_since: AtomicU64,
}

impl CallClock {
    pub fn start() -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            vision_done: AtomicU64::new(0),
            vision_since: AtomicU64::new(IDLE),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }

    pub fn vision_started(&self) {
        self.vision_since.store(self.now(), Ordering::SeqCst);
    }

    pub fn vision_finished(&self) {
        let since = self.vision_since.swap(IDLE, Ordering::SeqCst);
        if since != IDLE {
            self.vision_done.fetch_add(self.now().saturating_sub(since), Ordering::SeqCst);
        }
    }

    /// Time spent waiting for vision answers, the one in progress included.
    pub fn vision_time(&self) -> Duration {
        let since = self.vision_since.load(Ordering::SeqCst);
        let current = if since == IDLE { 0 } else { self.now().saturating_sub(since) };
        Duration::from_nanos(self.vision_done.load(Ordering::SeqCst).saturating_add(current))
    }

    /// Everything else: the component's own time.
    pub fn own_time(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.vision_time())
    }

    /// Returns once either budget is spent (the caller then abandons the call).
    pub async fn budget_spent(&self, own: Duration, vision: Duration) {
        loop {
            let (own_used, vision_used) = (self.own_time(), self.vision_time());
            if own_used >= own || vision_used >= vision {
                return;
            }
            // Neither can be spent before the smaller remainder has passed.
            tokio::time::sleep((own - own_used).min(vision - vision_used)).await;
        }
    }
}
