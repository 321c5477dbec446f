//! `RankingStore`: the order of users by points, ties going to whoever reached their total
//! first (then the smaller user id, so the order is total). Chosen once at start-up from the
//! state store's URL: the SQL table itself in the embedded mode, a Redis sorted set in the
//! scaled mode.
//!
//! The ledger is the record; a store only mirrors the standings it is given. Updates carry
//! absolute standings read after commit and totals only grow, so applying one twice, or late,
//! changes nothing.

use super::ledger::Standing;
use super::redis_ranking::RedisRanking;
use super::sql_ranking::SqlRanking;
use crate::db::Database;
use async_trait::async_trait;
use std::sync::Arc;

/// Largest page of the ranking.
pub const MAX_TOP: usize = 100;

#[async_trait]
pub trait RankingStore: Send + Sync + 'static {
    /// Records a user's standing as committed in the ledger; an older one than recorded is ignored.
    async fn apply(&self, standing: &Standing) -> anyhow::Result<()>;
    /// Takes the user out of the ranking (account deleted).
    async fn remove(&self, user_id: &str) -> anyhow::Result<()>;
    /// Replaces the whole ranking with these standings (recomputed from the ledger).
    async fn replace_all(&self, standings: &[Standing]) -> anyhow::Result<()>;
    /// The best `limit` (at most [`MAX_TOP`]) standings with their ranks, 1 first.
    async fn top(&self, limit: usize) -> anyhow::Result<Vec<(u64, Standing)>>;
    /// The rank of each standing, in the order given; `None` for one the store does not hold.
    async fn ranks(&self, standings: &[Standing]) -> anyhow::Result<Vec<Option<u64>>>;
    fn backend(&self) -> &'static str;
}

/// Picks the implementation from the state store's URL: `memory:` ranks in SQL, `redis:` in Redis.
pub async fn connect(
    state_url: &str,
    key_prefix: &str,
    db: &Database,
) -> anyhow::Result<Arc<dyn RankingStore>> {
    if state_url.starts_with("redis:") || state_url.starts_with("rediss:") {
        Ok(Arc::new(RedisRanking::connect(state_url, key_prefix).await?))
    } else {
        Ok(Arc::new(SqlRanking::new(db.clone())))
    }
}
