//! In-process state for the embedded mode: one map behind a mutex, bounded in entries and in
//! bytes. Every write first drops a few expired entries; a write that takes the store past a
//! bound drops every expired entry, then the least recently used ones (reads and hits count as
//! use, so an active rate-limit window outlives the one-off windows of a flood). Nothing here
//! needs keeping: what the server stores is either a cache of the database (sessions,
//! profiles) or may be lost (rate-limit windows, cached answers).
//!
//! The size is reported as the gauges `state_memory_entries` and `state_memory_bytes`, and
//! what was dropped for room as `state_memory_evictions_total`.

use super::{StateStore, WindowCount};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Expired entries dropped in passing by each write, whatever the size.
const EXPIRED_PER_WRITE: usize = 8;
/// What an entry costs beyond its key and value: the map slot, the entry, two index nodes.
const ENTRY_OVERHEAD_BYTES: usize = 160;

/// The bounds of the in-memory store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimits {
    pub max_entries: usize,
    /// Keys, values and [`ENTRY_OVERHEAD_BYTES`] per entry.
    pub max_bytes: usize,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        Self { max_entries: 100_000, max_bytes: 64 << 20 }
    }
}

pub struct MemoryState {
    inner: Mutex<Inner>,
    limits: MemoryLimits,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Arc<str>, Entry>,
    /// Every entry by (expiry, creation stamp).
    by_expiry: BTreeMap<(Instant, u64), Arc<str>>,
    /// Entries that may be dropped for room, by last use.
    by_use: BTreeMap<u64, Arc<str>>,
    clock: u64,
    bytes: usize,
}

struct Entry {
    value: String,
    expires: Instant,
    created: u64,
    used: u64,
}

impl Entry {
    fn cost(key: &str, value: &str) -> usize {
        key.len() + value.len() + ENTRY_OVERHEAD_BYTES
    }
}

impl Default for MemoryState {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryState {
    /// Default bounds: for tools and tests.
    pub fn new() -> Self {
        Self::with_limits(MemoryLimits::default())
    }

    pub fn with_limits(limits: MemoryLimits) -> Self {
        Self { inner: Mutex::new(Inner::default()), limits }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written entry, so recover.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stores `key` (replacing any entry), then makes room.
    fn insert(
        &self,
        inner: &mut Inner,
        key: &str,
        value: String,
        expires: Instant,
        now: Instant,
    ) -> anyhow::Result<()> {
        if Entry::cost(key, &value) > self.limits.max_bytes {
            anyhow::bail!(
                "a state value of {} bytes exceeds the store's {} bytes",
                value.len(),
                self.limits.max_bytes
            );
        }
        inner.remove(key);
        inner.drop_expired(now, EXPIRED_PER_WRITE);
        let key: Arc<str> = Arc::from(key);
        let created = inner.tick();
        inner.bytes += Entry::cost(&key, &value);
        inner.by_expiry.insert((expires, created), key.clone());
        inner.by_use.insert(created, key.clone());
        inner.entries.insert(key, Entry { value, expires, created, used: created });
        inner.make_room(self.limits, now);
        inner.report();
        Ok(())
    }
}

impl Inner {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn over(&self, limits: MemoryLimits) -> bool {
        self.entries.len() > limits.max_entries || self.bytes > limits.max_bytes
    }

    fn remove(&mut self, key: &str) -> Option<Entry> {
        let (key, entry) = self.entries.remove_entry(key)?;
        self.bytes -= Entry::cost(&key, &entry.value);
        self.by_expiry.remove(&(entry.expires, entry.created));
        self.by_use.remove(&entry.used);
        Some(entry)
    }

    /// Drops up to `at_most` entries that expired by `now`, soonest first.
    fn drop_expired(&mut self, now: Instant, at_most: usize) {
        for _ in 0..at_most {
            match self.by_expiry.first_key_value() {
                Some(((expires, _), key)) if *expires <= now => {
                    let key = key.clone();
                    self.remove(&key);
                }
                _ => return,
            }
        }
    }

    /// Expired entries first, then the least recently used.
    fn make_room(&mut self, limits: MemoryLimits, now: Instant) {
        if !self.over(limits) {
            return;
        }
        self.drop_expired(now, usize::MAX);
        while self.over(limits) {
            let Some((_, key)) = self.by_use.first_key_value() else {
                return;
            };
            let key = key.clone();
            self.remove(&key);
            metrics::counter!("state_memory_evictions_total").increment(1);
        }
    }

    /// The live entry of `key`, marked as just used; an expired one is dropped.
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        let expired = self.entries.get(key)?.expires <= now;
        if expired {
            self.remove(key);
            return None;
        }
        let used = self.tick();
        let (key, entry) = self.entries.get_key_value(key)?;
        let (key, previous) = (key.clone(), entry.used);
        self.by_use.remove(&previous);
        self.by_use.insert(used, key.clone());
        let entry = self.entries.get_mut(&key)?;
        entry.used = used;
        Some(entry)
    }

    fn report(&self) {
        metrics::gauge!("state_memory_entries").set(self.entries.len() as f64);
        metrics::gauge!("state_memory_bytes").set(self.bytes as f64);
    }
}

#[async_trait]
impl StateStore for MemoryState {
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<()> {
        let now = Instant::now();
        let mut inner = self.lock();
        self.insert(&mut inner, key, value.to_owned(), now + ttl, now)
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool> {
        let now = Instant::now();
        let mut inner = self.lock();
        if inner.live(key, now).is_some() {
            return Ok(false);
        }
        self.insert(&mut inner, key, value.to_owned(), now + ttl, now)?;
        Ok(true)
    }

    async fn get_many(&self, keys: &[&str]) -> anyhow::Result<Vec<Option<String>>> {
        let now = Instant::now();
        let mut inner = self.lock();
        Ok(keys.iter().map(|key| inner.live(key, now).map(|entry| entry.value.clone())).collect())
    }

    async fn take(&self, key: &str) -> anyhow::Result<Option<String>> {
        let now = Instant::now();
        let mut inner = self.lock();
        let taken = inner.remove(key).filter(|entry| entry.expires > now).map(|entry| entry.value);
        inner.report();
        Ok(taken)
    }

    async fn hit(&self, key: &str, window: Duration) -> anyhow::Result<WindowCount> {
        let now = Instant::now();
        let mut inner = self.lock();
        let counted = inner.live(key, now).map(|entry| {
            let count = entry.value.parse::<u64>().unwrap_or(0) + 1;
            let previous = std::mem::replace(&mut entry.value, count.to_string());
            (WindowCount { count, resets_in: entry.expires - now }, previous.len(), entry.value.len())
        });
        if let Some((window, previous_len, len)) = counted {
            inner.bytes = inner.bytes - previous_len + len;
            return Ok(window);
        }
        self.insert(&mut inner, key, "1".into(), now + window, now)?;
        Ok(WindowCount { count: 1, resets_in: window })
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let mut inner = self.lock();
        inner.remove(key);
        inner.report();
        Ok(())
    }

    async fn extend_if(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool> {
        let now = Instant::now();
        let mut inner = self.lock();
        if inner.live(key, now).is_none_or(|entry| entry.value != value) {
            return Ok(false);
        }
        self.insert(&mut inner, key, value.to_owned(), now + ttl, now)?;
        Ok(true)
    }

    async fn push_capped(&self, key: &str, item: &str, keep: usize, ttl: Duration) -> anyhow::Result<()> {
        anyhow::ensure!(!item.contains('\n'), "a list item is one line");
        let now = Instant::now();
        let mut inner = self.lock();
        // A list is one value, its items one per line: the bounds in bytes and entries hold
        // for lists as for everything else.
        let mut items: Vec<&str> = Vec::new();
        let current = inner.live(key, now).map(|entry| entry.value.clone()).unwrap_or_default();
        items.extend(current.split('\n').filter(|line| !line.is_empty()));
        items.push(item);
        let from = items.len().saturating_sub(keep);
        let value = items[from..].join("\n");
        self.insert(&mut inner, key, value, now + ttl, now)
    }

    async fn list(&self, key: &str) -> anyhow::Result<Vec<String>> {
        let now = Instant::now();
        let mut inner = self.lock();
        Ok(inner.live(key, now).map_or_else(Vec::new, |entry| {
            entry.value.split('\n').filter(|line| !line.is_empty()).map(str::to_owned).collect()
        }))
    }

    async fn ping(&self) -> anyhow::Result<()> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}
