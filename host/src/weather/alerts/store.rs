//! The warnings the feeds reported, de-duplicated by [`Warning::key`], with when each was first
//! and last seen and when it stopped being in force.

use super::warning::Warning;
use crate::db::{Database, WriteTx, now_ms};
use crate::weather::model::{AlertKind, AlertLevel};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// A warning in force, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct StoredWarning {
    pub key: String,
    pub province: String,
    pub area_code: String,
    pub area_name: String,
    pub kind: AlertKind,
    pub level: AlertLevel,
    pub announced_at_ms: i64,
    pub effective_at_ms: i64,
    pub ends: Option<String>,
}

/// What one poll changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// Warnings in force that were not before.
    pub new: usize,
    /// Warnings that stopped being in force.
    pub lifted: usize,
}

#[derive(sqlx::FromRow)]
struct Row {
    key: String,
    province: String,
    area_code: String,
    area_name: String,
    kind: String,
    level: String,
    announced_at: i64,
    effective_at: i64,
    ends: Option<String>,
}

#[derive(Clone)]
pub struct WarningStore {
    db: Database,
}

fn word<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}

fn parse_word<T: serde::de::DeserializeOwned>(word: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(word.to_owned())).ok()
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

impl WarningStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Records one complete read of a feed: its warnings in force are stored (once each) and
    /// kept in force (again, if an earlier read had stopped listing them); a lifting announcement ends the warnings of its area and kind; a warning
    /// the feed no longer lists has ended.
    pub async fn record(&self, read: &[Warning]) -> Result<Recorded, sqlx::Error> {
        let now = now_ms();
        let mut unique: HashMap<String, &Warning> = HashMap::new();
        for warning in read {
            unique.entry(warning.key()).or_insert(warning);
        }
        let unique = &unique;
        self.db.write(|tx| Box::pin(Self::record_in(tx, unique, now))).await
    }

    async fn record_in(
        tx: &mut WriteTx<'_, '_>,
        read: &HashMap<String, &Warning>,
        now: i64,
    ) -> Result<Recorded, sqlx::Error> {
        let before: Vec<String> =
            sqlx::query_scalar("select key from weather_warnings where lifted_at is null")
                .fetch_all(&mut **tx)
                .await?;
        let mut recorded = Recorded::default();
        let lifts: Vec<&Warning> = read.values().copied().filter(|w| !w.command.in_force()).collect();
        // In force unless lifted, by its own command or by a later lifting of its area and kind.
        let in_force_now = |warning: &Warning| {
            warning.command.in_force()
                && !lifts.iter().any(|lift| {
                    lift.area_code == warning.area_code
                        && lift.kind == warning.kind
                        && lift.announced_at >= warning.announced_at
                })
        };
        for (key, warning) in read {
            let in_force = in_force_now(warning);
            let lifted_at = (!in_force).then_some(now);
            sqlx::query(
                "insert into weather_warnings (key, province, upper_code, area_code, area_name, kind, level, \
                 command, announced_at, effective_at, ends, first_seen_at, last_seen_at, lifted_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) \
                 on conflict (key) do update set last_seen_at = excluded.last_seen_at, \
                 lifted_at = case when excluded.lifted_at is null then null \
                 else coalesce(weather_warnings.lifted_at, excluded.lifted_at) end",
            )
            .bind(key.as_str())
            .bind(&warning.province)
            .bind(&warning.upper_code)
            .bind(&warning.area_code)
            .bind(&warning.area_name)
            .bind(word(warning.kind))
            .bind(word(warning.level))
            .bind(word(warning.command))
            .bind(millis(warning.announced_at))
            .bind(millis(warning.effective_at))
            .bind(warning.ends.as_deref())
            .bind(now)
            .bind(lifted_at)
            .execute(&mut **tx)
            .await?;
            if in_force && !before.contains(key) {
                recorded.new += 1;
            }
        }
        // Lifted by an announcement, or no longer listed: no longer in force.
        for key in &before {
            if !read.get(key).is_some_and(|warning| in_force_now(warning)) {
                sqlx::query(
                    "update weather_warnings set lifted_at = $2 where key = $1 and lifted_at is null",
                )
                .bind(key.as_str())
                .bind(now)
                .execute(&mut **tx)
                .await?;
                recorded.lifted += 1;
            }
        }
        Ok(recorded)
    }

    /// Every warning in force, by province then area.
    pub async fn in_force(&self) -> Result<Vec<StoredWarning>, sqlx::Error> {
        let rows = sqlx::query_as::<_, Row>(
            "select key, province, area_code, area_name, kind, level, announced_at, effective_at, ends \
             from weather_warnings where lifted_at is null order by province, area_code, key",
        )
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().filter_map(Row::into_warning).collect())
    }

    /// The warnings (in force or not) that joined a room, oldest first.
    pub async fn of_keys(&self, keys: &[String]) -> Result<Vec<StoredWarning>, sqlx::Error> {
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            let row = sqlx::query_as::<_, Row>(
                "select key, province, area_code, area_name, kind, level, announced_at, effective_at, ends \
                 from weather_warnings where key = $1",
            )
            .bind(key)
            .fetch_optional(self.db.pool())
            .await?;
            found.extend(row.and_then(Row::into_warning));
        }
        Ok(found)
    }
}

impl Row {
    fn into_warning(self) -> Option<StoredWarning> {
        Some(StoredWarning {
            kind: parse_word(&self.kind)?,
            level: parse_word(&self.level)?,
            key: self.key,
            province: self.province,
            area_code: self.area_code,
            area_name: self.area_name,
            announced_at_ms: self.announced_at,
            effective_at_ms: self.effective_at,
            ends: self.ends,
        })
    }
}
