//! The threads photos are decoded on (their headers read, too): a few of their own, started
//! with the pipeline, rather than whichever of the blocking pool's many threads is free. The allocator keeps freed
//! memory in per-thread caches and returns it as that thread goes on allocating; a decode's
//! tens of megabytes freed on a blocking thread that then sits idle stayed resident, so the
//! same budget cost more memory the more threads had decoded. On a fixed few threads each
//! decode reuses what the previous one freed.

use super::error::PhotoError;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, mpsc};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct DecodeThreads {
    jobs: mpsc::Sender<Job>,
}

impl DecodeThreads {
    /// `count` threads; they end once every handle of the pool is dropped.
    pub fn start(count: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..count.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("photo-decode-{n}")).spawn(move || {
                loop {
                    // A job that panicked is caught below, so the lock is never poisoned
                    // while held; recover anyway rather than stop decoding.
                    let job = queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(err) = spawned {
                tracing::error!(error = %err, "could not start a photo decoding thread");
            }
        }
        Self { jobs }
    }

    /// Runs `work` on one of the threads; a decoder that panics on hostile input has refused it.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, PhotoError> + Send + 'static,
    ) -> Result<T, PhotoError> {
        let (done, outcome) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let result = std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| {
                tracing::error!("photo preparation panicked");
                Err(PhotoError::Corrupt("the decoder failed".into()))
            });
            let _ = done.send(result);
        });
        self.jobs.send(job).map_err(|_| PhotoError::Corrupt("shutting down".into()))?;
        outcome.await.unwrap_or_else(|_| Err(PhotoError::Corrupt("the decoder failed".into())))
    }
}
