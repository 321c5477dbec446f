//! The ranking as the `user_points` table answers it: already consistent with the ledger (same
//! transaction), ordered by the `user_points_rank` index.

use super::ledger::Standing;
use super::ranking::{MAX_TOP, RankingStore};
use crate::db::Database;
use async_trait::async_trait;

#[derive(Debug, Clone)]
pub struct SqlRanking {
    db: Database,
}

impl SqlRanking {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl RankingStore for SqlRanking {
    /// Nothing to do: the table is updated with the ledger.
    async fn apply(&self, _standing: &Standing) -> anyhow::Result<()> {
        Ok(())
    }

    /// Nothing to do: the row goes with the user (`on delete cascade`).
    async fn remove(&self, _user_id: &str) -> anyhow::Result<()> {
        Ok(())
    }

    /// Nothing to do: the rebuild recomputed the table itself.
    async fn replace_all(&self, _standings: &[Standing]) -> anyhow::Result<()> {
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn top(&self, limit: usize) -> anyhow::Result<Vec<(u64, Standing)>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "select user_id, total, reached_at from user_points \
             order by total desc, reached_at, user_id limit $1",
        )
        .bind(limit.min(MAX_TOP) as i64)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .zip(1..)
            .map(|((user_id, total, reached_at_ms), rank)| (rank, Standing { user_id, total, reached_at_ms }))
            .collect())
    }

    /// 1 + the users ahead: a higher total, or the same total reached earlier (or at the same
    /// millisecond by a smaller id). Three ranges of the rank index.
    #[tracing::instrument(skip_all)]
    async fn ranks(&self, standings: &[Standing]) -> anyhow::Result<Vec<Option<u64>>> {
        let mut ranks = Vec::with_capacity(standings.len());
        for standing in standings {
            let ahead: Option<i64> = sqlx::query_scalar(
                "select (select count(*) from user_points where total > $1) \
                      + (select count(*) from user_points where total = $1 and reached_at < $2) \
                      + (select count(*) from user_points where total = $1 and reached_at = $2 and user_id < $3) \
                 from user_points where user_id = $3 and total = $1 and reached_at = $2",
            )
            .bind(standing.total)
            .bind(standing.reached_at_ms)
            .bind(&standing.user_id)
            .fetch_optional(self.db.pool())
            .await?;
            ranks.push(ahead.map(|ahead| ahead as u64 + 1));
        }
        Ok(ranks)
    }

    fn backend(&self) -> &'static str {
        "sql"
    }
}
