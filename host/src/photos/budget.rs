//! The memory photos may hold at once, process-wide, in bytes: upload bodies while they are
//! read and kept, and decodes while they run. An upload takes its body's share before reading
//! it (the declared length, or the largest accepted body), and a decode takes its estimate
//! (from the header's dimensions, see [`super::pipeline`]) before a pixel is allocated. Both
//! wait for memory to free up at most the configured time, then the upload is answered 503
//! (`photos_busy`); a decode whose estimate exceeds the whole budget is refused as too many
//! pixels, whatever the load. So the number of uploads in flight never multiplies memory: the
//! budget bounds it, where a permit per core bounded only the number of decodes.

use super::error::PhotoError;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budget is counted in KiB: a semaphore's permits are `u32` per acquisition.
const UNIT: usize = 1024;

#[derive(Clone)]
pub struct MemoryBudget {
    units: Arc<Semaphore>,
    total_units: usize,
    wait: Duration,
}

/// Memory taken from the budget, given back when dropped.
pub struct Reservation {
    _permit: OwnedSemaphorePermit,
    budget: MemoryBudget,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // The permit is released right after this; report what will remain held.
        let held = self.budget.held_units().saturating_sub(self._permit.num_permits());
        metrics::gauge!("photo_memory_reserved_bytes").set((held * UNIT) as f64);
    }
}

impl MemoryBudget {
    pub fn new(bytes: usize, wait: Duration) -> Self {
        let total_units = (bytes / UNIT).clamp(1, u32::MAX as usize);
        Self { units: Arc::new(Semaphore::new(total_units)), total_units, wait }
    }

    pub fn total_bytes(&self) -> usize {
        self.total_units * UNIT
    }

    fn held_units(&self) -> usize {
        self.total_units.saturating_sub(self.units.available_permits())
    }

    /// Takes `bytes`, waiting for them at most the configured time.
    pub async fn reserve(&self, bytes: usize) -> Result<Reservation, PhotoError> {
        let units = bytes.div_ceil(UNIT).clamp(1, self.total_units);
        let wanted = self.units.clone().acquire_many_owned(units as u32);
        match tokio::time::timeout(self.wait, wanted).await {
            Ok(Ok(permit)) => {
                metrics::gauge!("photo_memory_reserved_bytes").set((self.held_units() * UNIT) as f64);
                Ok(Reservation { _permit: permit, budget: self.clone() })
            }
            Ok(Err(_)) | Err(_) => {
                metrics::counter!("photo_memory_busy_total").increment(1);
                Err(PhotoError::Busy)
            }
        }
    }

    /// Whether `bytes` could ever be had, however idle the server.
    pub fn fits(&self, bytes: usize) -> bool {
        bytes <= self.total_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reservations_wait_for_memory_and_give_up_in_time() {
        let budget = MemoryBudget::new(10 * UNIT, Duration::from_millis(50));
        let most = budget.reserve(8 * UNIT).await.expect("fits");
        assert_eq!(budget.reserve(4 * UNIT).await.err(), Some(PhotoError::Busy), "no room within the wait");
        let rest = budget.reserve(2 * UNIT).await.expect("what is left");
        drop(most);
        let again = budget.reserve(8 * UNIT).await.expect("given back on drop");
        assert!(!budget.fits(11 * UNIT) && budget.fits(10 * UNIT));
        drop((rest, again));
        assert_eq!(budget.held_units(), 0);
    }
}
