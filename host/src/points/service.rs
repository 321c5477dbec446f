//! `PointsService`: crediting, the ranking views and the rebuild, over the ledger and the
//! ranking store chosen at start-up.

use super::ledger::{self, Credit, Entry, HistoryCursor, PointsError, Standing};
use super::ranking::{MAX_TOP, RankingStore};
use crate::bus::{EventBus, topics};
use crate::db::Database;
use crate::notifications::Notifier;
use crate::tasks::Tasks;
use std::collections::HashMap;
use std::sync::Arc;

/// Longest nickname prefix searched, in characters (a nickname has at most 12).
pub const MAX_PREFIX_CHARS: usize = 12;
/// Most results of a nickname search.
pub const MAX_SEARCH: usize = 50;

/// A ranked user as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Ranked {
    pub rank: u64,
    pub user_id: String,
    pub nickname: String,
    pub total: i64,
    pub reached_at_ms: i64,
}

#[derive(Clone)]
pub struct PointsService {
    db: Database,
    ranking: Arc<dyn RankingStore>,
    notifier: Notifier,
}

impl PointsService {
    pub fn new(db: Database, ranking: Arc<dyn RankingStore>, notifier: Notifier) -> Self {
        Self { db, ranking, notifier }
    }

    pub fn ranking(&self) -> &Arc<dyn RankingStore> {
        &self.ranking
    }

    /// Credits `points` for `verification_id` in a transaction of its own, then settles it
    /// (ranking, `points.credited`). A second call with the same verification id changes
    /// nothing and says so (`newly_credited: false`).
    #[tracing::instrument(skip_all)]
    pub async fn credit(
        &self,
        verification_id: &str,
        user_id: &str,
        points: i64,
        at_ms: i64,
    ) -> Result<Credit, PointsError> {
        let credit = self
            .db
            .write(|tx| Box::pin(ledger::credit_in(tx, verification_id, user_id, points, at_ms)))
            .await?;
        self.settle(&credit).await;
        Ok(credit)
    }

    /// What follows a committed credit: the ranking gets the user's standing as the database
    /// holds it now (absolute, so repeating this is harmless), and a new credit is announced
    /// as `points.credited`. Failures are logged, never returned: the credit has committed, and
    /// `weatherwise ranking rebuild` restores the ranking from the ledger.
    pub async fn settle(&self, credit: &Credit) {
        if let Err(err) = self.sync_ranking(&credit.user_id).await {
            tracing::warn!(error = %err, "could not update the ranking after a credit");
        }
        if credit.newly_credited {
            let payload = serde_json::json!({
                "verification_id": credit.verification_id,
                "points": credit.points,
                "total": credit.total,
            });
            if let Err(err) = self.notifier.notify(&credit.user_id, "points.credited", payload).await {
                tracing::warn!(error = %err, "could not notify a credit");
            }
        }
    }

    async fn sync_ranking(&self, user_id: &str) -> anyhow::Result<()> {
        match self.standing(user_id).await? {
            Some(standing) => self.ranking.apply(&standing).await,
            None => self.ranking.remove(user_id).await,
        }
    }

    /// The user's total and when they reached it; `None` before their first credit.
    pub async fn standing(&self, user_id: &str) -> Result<Option<Standing>, sqlx::Error> {
        let mut conn = self.db.pool().acquire().await?;
        ledger::standing_of(&mut conn, user_id).await
    }

    /// Up to `limit` ledger entries of the user, newest first, after `cursor`.
    pub async fn history(
        &self,
        user_id: &str,
        cursor: Option<&HistoryCursor>,
        limit: i64,
    ) -> Result<Vec<Entry>, sqlx::Error> {
        let mut conn = self.db.pool().acquire().await?;
        ledger::history(&mut conn, user_id, cursor, limit).await
    }

    /// The best `limit` users (at most 100).
    #[tracing::instrument(skip_all)]
    pub async fn top(&self, limit: usize) -> anyhow::Result<Vec<Ranked>> {
        let ranked = self.ranking.top(limit.clamp(1, MAX_TOP)).await?;
        let ids: Vec<&str> = ranked.iter().map(|(_, standing)| standing.user_id.as_str()).collect();
        let nicknames = self.nicknames(&ids).await?;
        // A user deleted a moment ago may still be in a mirrored ranking: leave them out.
        Ok(ranked
            .into_iter()
            .filter_map(|(rank, standing)| {
                let nickname = nicknames.get(&standing.user_id)?.clone();
                Some(Ranked {
                    rank,
                    nickname,
                    user_id: standing.user_id,
                    total: standing.total,
                    reached_at_ms: standing.reached_at_ms,
                })
            })
            .collect())
    }

    /// The user's standing and rank; `None` before their first credit.
    #[tracing::instrument(skip_all)]
    pub async fn rank_of(&self, user_id: &str) -> anyhow::Result<Option<(Option<u64>, Standing)>> {
        let Some(standing) = self.standing(user_id).await? else {
            return Ok(None);
        };
        let rank = self.ranking.ranks(std::slice::from_ref(&standing)).await?.pop().flatten();
        Ok(Some((rank, standing)))
    }

    /// Users with points whose nickname starts with `prefix` (compared folded, as nicknames are
    /// unique), best first, with their ranks. `prefix` is 1 to 12 characters.
    #[tracing::instrument(skip_all)]
    pub async fn search(&self, prefix: &str, limit: usize) -> anyhow::Result<Vec<Ranked>> {
        let key = crate::accounts::nickname::fold(prefix.trim());
        anyhow::ensure!(
            (1..=MAX_PREFIX_CHARS * 3).contains(&key.chars().count()),
            "a nickname prefix is 1 to {MAX_PREFIX_CHARS} characters"
        );
        let pattern = format!("{}%", escape_like(&key));
        let rows: Vec<(String, i64, i64, String)> = sqlx::query_as(
            "select p.user_id, p.total, p.reached_at, u.nickname from user_points p \
             join users u on u.id = p.user_id where u.nickname_key like $1 escape '\\' \
             order by p.total desc, p.reached_at, p.user_id limit $2",
        )
        .bind(&pattern)
        .bind(limit.clamp(1, MAX_SEARCH) as i64)
        .fetch_all(self.db.pool())
        .await?;
        let standings: Vec<Standing> = rows
            .iter()
            .map(|(user_id, total, reached_at_ms, _)| Standing {
                user_id: user_id.clone(),
                total: *total,
                reached_at_ms: *reached_at_ms,
            })
            .collect();
        let ranks = self.ranking.ranks(&standings).await?;
        Ok(rows
            .into_iter()
            .zip(ranks)
            .filter_map(|((user_id, total, reached_at_ms, nickname), rank)| {
                Some(Ranked { rank: rank?, user_id, nickname, total, reached_at_ms })
            })
            .collect())
    }

    /// Recomputes every total from the ledger and replaces the ranking with them; returns the
    /// number of ranked users. Consistent with the ledger as of its transaction: credits that
    /// commit during a rebuild are mirrored again by their own settlement.
    pub async fn rebuild(&self) -> anyhow::Result<usize> {
        rebuild(&self.db, self.ranking.as_ref()).await
    }

    /// Follows account deletions and takes the deleted users out of the ranking. One consumer
    /// group for the whole deployment: each deletion needs handling once.
    pub async fn follow_account_deletions(&self, bus: &dyn EventBus, tasks: &Tasks) -> anyhow::Result<()> {
        let ranking = self.ranking.clone();
        bus.subscribe(topics::ACCOUNTS, "ranking").await?.follow(
            tasks,
            "ranking deletions",
            move |event: serde_json::Value| {
                let ranking = ranking.clone();
                async move {
                    if event["type"] != "account.deleted" {
                        return;
                    }
                    let Some(user_id) = event["user_id"].as_str() else { return };
                    if let Err(err) = ranking.remove(user_id).await {
                        tracing::warn!(error = %err, "could not take a deleted account out of the ranking");
                    }
                }
            },
        );
        Ok(())
    }

    async fn nicknames(&self, ids: &[&str]) -> anyhow::Result<HashMap<String, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        // Only numbered placeholders are formatted in; the values are bound.
        let sql = format!("select id, nickname from users where id in ({})", placeholders.join(", "));
        let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(*id);
        }
        Ok(query.fetch_all(self.db.pool()).await?.into_iter().collect())
    }
}

/// Recomputes every total from the ledger and replaces `ranking` with them; returns the number
/// of ranked users. What `weatherwise ranking rebuild` runs, without a server.
#[tracing::instrument(skip_all)]
pub async fn rebuild(db: &Database, ranking: &dyn RankingStore) -> anyhow::Result<usize> {
    let standings = db.write(|tx| Box::pin(ledger::recompute_totals(tx))).await?;
    ranking.replace_all(&standings).await?;
    Ok(standings.len())
}

/// Escapes `\`, `%` and `_` so a prefix matches literally in `like … escape '\'`.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_match_literally() {
        assert_eq!(escape_like("a_b%c\\d"), "a\\_b\\%c\\\\d");
        assert_eq!(escape_like("한글"), "한글");
    }
}
