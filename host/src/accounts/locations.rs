//! The province each user was last seen in (where they asked for the day's missions): who
//! hears that an alert room opened in their province.

use crate::db::{Database, now_ms};

#[derive(Clone)]
pub struct LastLocations {
    db: Database,
}

impl LastLocations {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub async fn record(&self, user_id: &str, province: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "insert into user_locations (user_id, province, seen_at) values ($1, $2, $3) \
             on conflict (user_id) do update set province = excluded.province, seen_at = excluded.seen_at",
        )
        .bind(user_id)
        .bind(province)
        .bind(now_ms())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Up to `limit` users last seen in `province`, by id after `after`.
    pub async fn users_in(
        &self,
        province: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "select user_id from user_locations where province = $1 and user_id > $2 order by user_id limit $3",
        )
        .bind(province)
        .bind(after)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await
    }
}
