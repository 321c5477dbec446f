//! Shared ephemeral state: revocations, rate-limit windows, one-time OAuth states, leases,
//! short capped lists (a chat room's latest messages).
//!
//! In-process for the embedded mode (bounded in entries and bytes), Redis when several
//! instances must agree. Values are short strings with a time to live; nothing here is the
//! system of record.

mod memory;
pub(crate) mod redis;

pub use memory::{MemoryLimits, MemoryState};
pub use redis::RedisState;

use crate::config::StateConfig;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// The count of a fixed window after one more hit, and when the window closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    pub count: u64,
    pub resets_in: Duration,
}

#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// Sets `key` to `value`, expiring after `ttl`.
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<()>;
    /// Sets `key` only if it holds no live value; returns whether it was set. A cache filled
    /// from the database uses this so it never overwrites a newer value written by `put`.
    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool>;
    /// Reads several keys in one round trip; absent or expired keys are `None`.
    async fn get_many(&self, keys: &[&str]) -> anyhow::Result<Vec<Option<String>>>;
    /// Reads and deletes atomically: of concurrent callers, exactly one gets the value.
    async fn take(&self, key: &str) -> anyhow::Result<Option<String>>;
    /// Counts one hit in the fixed window `key`, opening a window of `window` on the first hit.
    async fn hit(&self, key: &str, window: Duration) -> anyhow::Result<WindowCount>;
    /// Deletes `key` (absent is fine).
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    /// Extends the expiry of `key` to `ttl` from now only if it holds `value`; returns whether
    /// it did. A lease's holder renews it this way, never taking over one another instance won.
    async fn extend_if(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool>;
    /// Appends `item` (one line: no newline in it) to the list `key`, keeping only its last
    /// `keep` items; the list expires `ttl` after its latest push.
    async fn push_capped(&self, key: &str, item: &str, keep: usize, ttl: Duration) -> anyhow::Result<()>;
    /// The items of the list `key`, oldest first; empty when there is none.
    async fn list(&self, key: &str) -> anyhow::Result<Vec<String>>;
    async fn ping(&self) -> anyhow::Result<()>;
    fn backend(&self) -> &'static str;
}

/// Picks the implementation from the URL scheme: `memory://` or `redis://`. The in-memory
/// store is bounded by `config`'s limits.
pub async fn connect(config: &StateConfig) -> anyhow::Result<Arc<dyn StateStore>> {
    let url = config.url.expose();
    if url.starts_with("memory:") {
        let limits =
            MemoryLimits { max_entries: config.memory_max_entries, max_bytes: config.memory_max_bytes };
        Ok(Arc::new(MemoryState::with_limits(limits)))
    } else if url.starts_with("redis:") || url.starts_with("rediss:") {
        Ok(Arc::new(RedisState::connect(url, &config.key_prefix).await?))
    } else {
        anyhow::bail!("state.url must start with memory: or redis:")
    }
}
