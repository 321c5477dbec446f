//! A writer that applies its queue in batches: each transaction takes what arrived while the
//! one before it ran, so requests stop waiting on each other's round trips and commits.

use super::KeptConnection;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Requests a transaction takes at most; more wait for the next one.
pub const MAX_BATCH: usize = 256;
/// How long a writer keeps its connection with nothing to apply.
const HOLD_IDLE: Duration = Duration::from_millis(500);

/// The work of one batch, which may borrow the writer's connection.
pub type BatchFuture<'k> = Pin<Box<dyn Future<Output = ()> + Send + 'k>>;

/// Hands `apply` the queued requests a batch at a time until every sender is gone or `drain`
/// fires; on drain the queue is closed and what it holds is still applied, so every request
/// taken is applied or answered as failed. The writer keeps its connection between batches
/// (on SQLite its page cache stays valid) and gives it back when idle, so the pool can close.
pub async fn apply_in_batches<T>(
    receiver: &mut mpsc::Receiver<T>,
    drain: CancellationToken,
    mut apply: impl FnMut(Vec<T>, &mut KeptConnection) -> BatchFuture<'_>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut kept = KeptConnection::default();
    loop {
        let received = tokio::select! {
            biased;
            () = drain.cancelled(), if !receiver.is_closed() => {
                receiver.close();
                continue;
            }
            received = receive(receiver, &mut batch, &mut kept) => received,
        };
        if received == 0 {
            return;
        }
        apply(std::mem::take(&mut batch), &mut kept).await;
    }
}

/// The next requests, giving the connection back after `HOLD_IDLE` without any.
async fn receive<T>(
    receiver: &mut mpsc::Receiver<T>,
    batch: &mut Vec<T>,
    kept: &mut KeptConnection,
) -> usize {
    match tokio::time::timeout(HOLD_IDLE, receiver.recv_many(batch, MAX_BATCH)).await {
        Ok(received) => received,
        Err(_idle) => {
            kept.release();
            receiver.recv_many(batch, MAX_BATCH).await
        }
    }
}
