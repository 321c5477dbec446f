//! In-process state for the embedded mode: one map behind a mutex, expired lazily and swept
//! every few thousand writes so abandoned keys (rate-limit windows of passing IPs) do not pile up.

use super::{StateStore, WindowCount};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const SWEEP_EVERY_WRITES: u64 = 4096;

#[derive(Default)]
pub struct MemoryState {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    writes: u64,
}

struct Entry {
    value: String,
    expires: Instant,
}

impl MemoryState {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written entry, so recover.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    fn live(&self, key: &str, now: Instant) -> Option<&Entry> {
        self.entries.get(key).filter(|entry| entry.expires > now)
    }

    fn wrote(&mut self, now: Instant) {
        self.writes += 1;
        if self.writes.is_multiple_of(SWEEP_EVERY_WRITES) {
            self.entries.retain(|_, entry| entry.expires > now);
        }
    }
}

#[async_trait]
impl StateStore for MemoryState {
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<()> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.entries.insert(key.to_owned(), Entry { value: value.to_owned(), expires: now + ttl });
        inner.wrote(now);
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool> {
        let now = Instant::now();
        let mut inner = self.lock();
        if inner.live(key, now).is_some() {
            return Ok(false);
        }
        inner.entries.insert(key.to_owned(), Entry { value: value.to_owned(), expires: now + ttl });
        inner.wrote(now);
        Ok(true)
    }

    async fn get_many(&self, keys: &[&str]) -> anyhow::Result<Vec<Option<String>>> {
        let now = Instant::now();
        let inner = self.lock();
        Ok(keys.iter().map(|key| inner.live(key, now).map(|entry| entry.value.clone())).collect())
    }

    async fn take(&self, key: &str) -> anyhow::Result<Option<String>> {
        let now = Instant::now();
        let mut inner = self.lock();
        Ok(inner.entries.remove(key).filter(|entry| entry.expires > now).map(|entry| entry.value))
    }

    async fn hit(&self, key: &str, window: Duration) -> anyhow::Result<WindowCount> {
        let now = Instant::now();
        let mut inner = self.lock();
        let count = match inner.entries.get_mut(key).filter(|entry| entry.expires > now) {
            Some(entry) => {
                let count = entry.value.parse::<u64>().unwrap_or(0) + 1;
                entry.value = count.to_string();
                WindowCount { count, resets_in: entry.expires - now }
            }
            None => {
                inner.entries.insert(key.to_owned(), Entry { value: "1".into(), expires: now + window });
                WindowCount { count: 1, resets_in: window }
            }
        };
        inner.wrote(now);
        Ok(count)
    }

    async fn ping(&self) -> anyhow::Result<()> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}
