//! `CouponGate`: the fast gate in front of the database. It answers most claims of a storm
//! (sold out, already holds) without a database write and lets through at most the day's
//! remaining quantity, each user once; only the database issues. Chosen once at start-up from
//! the state store's URL: in-process in the embedded mode, Redis (one Lua script a claim) in the
//! scaled mode.
//!
//! A gate's day carries the epoch the database gave it when it was built. A gate that lost its
//! state (Redis restarted, failed over and dropped acknowledged writes, or a process restarted)
//! no longer holds the epoch the database names, answers [`Admission::Stale`], and admits
//! nothing until it is rebuilt from the database under a new epoch.

use super::memory_gate::MemoryGate;
use super::redis_gate::RedisGate;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// A day's gate outlives its day by this much, then expires.
pub const DAY_TTL: Duration = Duration::from_secs(2 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// One unit of the remaining quantity is set aside for this user.
    Admitted,
    SoldOut,
    AlreadyHolds,
    /// The gate does not hold the epoch asked for: its state was lost or is being rebuilt.
    Stale,
}

/// A day's state in a gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateDay {
    pub epoch: String,
    pub remaining: i64,
    /// Users admitted (or found holding a coupon when the gate was built), sorted.
    pub users: Vec<String>,
}

/// Identifies an event's day in a gate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DayKey {
    pub event_id: String,
    pub day: String,
}

#[async_trait]
pub trait CouponGate: Send + Sync + 'static {
    /// In one atomic step: if the gate holds `epoch` for the day, the user was not admitted
    /// before and some quantity remains, admits the user.
    async fn admit(&self, key: &DayKey, epoch: &str, user_id: &str) -> anyhow::Result<Admission>;
    /// Returns an admission the database refused: one unit back; the user is forgotten unless
    /// `still_holds` (the database found them holding a coupon). Nothing if the epoch changed.
    async fn give_back(
        &self,
        key: &DayKey,
        epoch: &str,
        user_id: &str,
        still_holds: bool,
    ) -> anyhow::Result<()>;
    /// Replaces the day's state with `state` (built from the database). Admissions meanwhile
    /// are refused as stale: the epoch is set last.
    async fn rebuild(&self, key: &DayKey, state: &GateDay) -> anyhow::Result<()>;
    /// The day's state as the gate holds it; `None` when it holds none.
    async fn read(&self, key: &DayKey) -> anyhow::Result<Option<GateDay>>;
    fn backend(&self) -> &'static str;
}

/// Picks the implementation from the state store's URL: `memory:` in-process, `redis:` Redis.
pub async fn connect(state_url: &str, key_prefix: &str) -> anyhow::Result<Arc<dyn CouponGate>> {
    if state_url.starts_with("redis:") || state_url.starts_with("rediss:") {
        Ok(Arc::new(RedisGate::connect(state_url, key_prefix).await?))
    } else {
        Ok(Arc::new(MemoryGate::default()))
    }
}
