//! The notification backlog, one SQL text for both engines.
//!
//! An event's number comes from the user's counter row, incremented in the event's own
//! transaction: the row lock makes one user's numbers follow commit order, so a reader that has
//! seen number n has seen (or can still read) everything before it. Pruning deletes events, never
//! counters, so a number is never reused.

use crate::db::{Database, WriteTx, now_ms};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub user_id: String,
    /// The event id of the stream: 1, 2, 3 … per user.
    pub seq: i64,
    pub kind: String,
    pub payload: Value,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NotificationStore {
    db: Database,
    keep_per_user: i64,
    keep_ms: i64,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    kind: String,
    payload: String,
    created_at: i64,
}

impl NotificationStore {
    pub fn new(db: Database, keep_per_user: i64, keep_days: i64) -> Self {
        Self { db, keep_per_user, keep_ms: keep_days.saturating_mul(86_400_000) }
    }

    /// Stores an event for `user_id` and prunes what falls out of the retention.
    #[tracing::instrument(skip_all)]
    pub async fn append(&self, user_id: &str, kind: &str, payload: &Value) -> Result<Event, sqlx::Error> {
        let text = &payload.to_string();
        let (seq, created_at) = self.db.write(|tx| Box::pin(self.append_in(tx, user_id, kind, text))).await?;
        Ok(Event {
            user_id: user_id.to_owned(),
            seq,
            kind: kind.to_owned(),
            payload: payload.clone(),
            created_at,
        })
    }

    /// The event's transaction: its number from the user's counter, the event, the pruning.
    async fn append_in(
        &self,
        tx: &mut WriteTx<'_, '_>,
        user_id: &str,
        kind: &str,
        payload: &str,
    ) -> Result<(i64, i64), sqlx::Error> {
        let now = now_ms();
        let seq: i64 = sqlx::query_scalar(
            "insert into notification_counters (user_id, last_seq) values ($1, 1) \
             on conflict (user_id) do update set last_seq = notification_counters.last_seq + 1 \
             returning last_seq",
        )
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query(
            "insert into notifications (user_id, seq, kind, payload, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(user_id)
        .bind(seq)
        .bind(kind)
        .bind(payload)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        sqlx::query("delete from notifications where user_id = $1 and (seq <= $2 or created_at < $3)")
            .bind(user_id)
            .bind(seq - self.keep_per_user)
            .bind(now - self.keep_ms)
            .execute(&mut **tx)
            .await?;
        Ok((seq, now))
    }

    /// Up to `limit` events of `user_id` numbered after `after_seq`, oldest first.
    #[tracing::instrument(skip_all)]
    pub async fn after(&self, user_id: &str, after_seq: i64, limit: i64) -> Result<Vec<Event>, sqlx::Error> {
        let rows = sqlx::query_as::<_, EventRow>(
            "select seq, kind, payload, created_at from notifications \
             where user_id = $1 and seq > $2 order by seq limit $3",
        )
        .bind(user_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| Event {
                user_id: user_id.to_owned(),
                seq: row.seq,
                kind: row.kind,
                // Stored by `append` from a `Value`; anything else is kept as text.
                payload: serde_json::from_str(&row.payload).unwrap_or(Value::String(row.payload)),
                created_at: row.created_at,
            })
            .collect())
    }

    /// The number of the user's latest event, 0 before the first.
    #[tracing::instrument(skip_all)]
    pub async fn last_seq(&self, user_id: &str) -> Result<i64, sqlx::Error> {
        let seq: Option<i64> =
            sqlx::query_scalar("select last_seq from notification_counters where user_id = $1")
                .bind(user_id)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(seq.unwrap_or(0))
    }
}
