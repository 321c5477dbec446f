//! The claim path's own budget: at most `concurrency` claims are worked on at once and at most
//! `queue` wait for a turn, each for a bounded time. A claim beyond that is refused at once
//! (429), so a storm costs the rest of the server a bounded share of its database connections
//! and cores, never a queue that grows until everything times out.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Bulkhead {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    wait: Duration,
}

/// A claim's turn; the next waiting claim goes when it drops.
pub struct Turn {
    _permit: OwnedSemaphorePermit,
}

impl Bulkhead {
    pub fn new(concurrency: usize, queue: usize, wait: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            queue,
            wait,
        }
    }

    /// A turn now, or after waiting in the bounded queue; `None` when the queue is full or the
    /// wait ran out.
    pub async fn enter(&self) -> Option<Turn> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Some(Turn { _permit: permit });
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        match permit {
            Ok(Ok(permit)) => Some(Turn { _permit: permit }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_the_budget_and_the_queue_a_claim_is_refused_at_once() {
        let bulkhead = Arc::new(Bulkhead::new(2, 1, Duration::from_millis(200)));
        let (first, second) = (bulkhead.enter().await, bulkhead.enter().await);
        assert!(first.is_some() && second.is_some());
        // One may wait; it gets the turn the first gives back.
        let waiter = tokio::spawn({
            let bulkhead = bulkhead.clone();
            async move { bulkhead.enter().await.is_some() }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = tokio::time::Instant::now();
        assert!(bulkhead.enter().await.is_none(), "the queue is full");
        assert!(started.elapsed() < Duration::from_millis(50), "refused without waiting");
        drop(first);
        assert!(waiter.await.expect("waiter"));
        // A wait that runs out is refused.
        let _third = bulkhead.enter().await.expect("a turn");
        let started = tokio::time::Instant::now();
        assert!(bulkhead.enter().await.is_none());
        assert!(started.elapsed() >= Duration::from_millis(200));
    }
}
