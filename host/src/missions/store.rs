//! Missions in the database: the day marker that makes generation idempotent, the missions
//! themselves, and the history a user pages through.

use super::model::{Mission, MissionContent, MissionDay, MissionState, parse_slot};
use crate::db::{Database, WriteTx, now_ms};
use crate::language::Language;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

const MISSION_COLUMNS: &str = "id, user_id, local_date, slot, key, title, description, points, rubric, \
                               outdoor, language, state, attempts, created_at, updated_at";

#[derive(Clone)]
pub struct MissionStore {
    db: Database,
}

/// What generation produced, to be stored as the user's day.
pub struct NewDay<'a> {
    pub user_id: &'a str,
    pub day: &'a MissionDay,
    pub generator: Option<&'a str>,
    pub call_id: Option<&'a str>,
    pub missions: &'a [MissionContent],
    /// The language the missions are written in.
    pub language: Language,
}

impl MissionStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub async fn day(&self, user_id: &str, local_date: &str) -> anyhow::Result<Option<MissionDay>> {
        let row = sqlx::query(
            "select local_date, region, lat, lon, weather_stale from mission_days \
             where user_id = $1 and local_date = $2",
        )
        .bind(user_id)
        .bind(local_date)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(|row| MissionDay {
            local_date: row.get(0),
            region: row.get(1),
            lat: row.get(2),
            lon: row.get(3),
            weather_stale: row.get::<i64, _>(4) != 0,
        }))
    }

    /// Stores a generated day unless another request stored it first; either way the day's
    /// missions as stored are returned, so concurrent first requests agree.
    pub async fn insert_day(&self, new: NewDay<'_>) -> anyhow::Result<Vec<Mission>> {
        let now = now_ms();
        let new = &new;
        self.db.write(|tx| Box::pin(store_day(tx, new, now))).await?;
        self.of_day(new.user_id, &new.day.local_date).await
    }

    /// The day's missions in slot order.
    pub async fn of_day(&self, user_id: &str, local_date: &str) -> anyhow::Result<Vec<Mission>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "select {MISSION_COLUMNS} from missions where user_id = $1 and local_date = $2 \
             order by case slot when 'morning' then 0 when 'lunch' then 1 else 2 end"
        )))
        .bind(user_id)
        .bind(local_date)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(mission_from_row).collect()
    }

    pub async fn get(&self, id: &str) -> anyhow::Result<Option<Mission>> {
        let row = sqlx::query(AssertSqlSafe(format!("select {MISSION_COLUMNS} from missions where id = $1")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.as_ref().map(mission_from_row).transpose()
    }

    /// Newest first; `before` is the id of the last mission of the previous page.
    pub async fn history(
        &self,
        user_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<Mission>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "select {MISSION_COLUMNS} from missions where user_id = $1 and ($2 is null or id < $2) \
             order by id desc limit $3"
        )))
        .bind(user_id)
        .bind(before)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.iter().map(mission_from_row).collect()
    }

    /// Keys of the user's missions since `since_date` (inclusive), newest first.
    pub async fn recent_keys(
        &self,
        user_id: &str,
        since_date: &str,
        limit: i64,
    ) -> anyhow::Result<Vec<String>> {
        let rows = sqlx::query(
            "select key from missions where user_id = $1 and local_date >= $2 order by id desc limit $3",
        )
        .bind(user_id)
        .bind(since_date)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        let mut keys: Vec<String> = Vec::with_capacity(rows.len());
        for row in rows {
            let key: String = row.get(0);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Ok(keys)
    }
}

/// The day's transaction: its marker and, if this request put it there, its missions.
async fn store_day(tx: &mut WriteTx<'_, '_>, new: &NewDay<'_>, now: i64) -> Result<(), sqlx::Error> {
    let inserted = sqlx::query(
        "insert into mission_days (user_id, local_date, region, lat, lon, weather_stale, generator, \
         call_id, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         on conflict (user_id, local_date) do nothing",
    )
    .bind(new.user_id)
    .bind(&new.day.local_date)
    .bind(&new.day.region)
    .bind(new.day.lat)
    .bind(new.day.lon)
    .bind(i64::from(new.day.weather_stale))
    .bind(new.generator)
    .bind(new.call_id)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        for mission in new.missions {
            sqlx::query(
                "insert into missions (id, user_id, local_date, slot, key, title, description, points, \
                 rubric, outdoor, language, state, attempts, created_at, updated_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'assigned', 0, $12, $12)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(new.user_id)
            .bind(&new.day.local_date)
            .bind(mission.slot.as_str())
            .bind(&mission.key)
            .bind(&mission.title)
            .bind(&mission.description)
            .bind(i64::from(mission.points))
            .bind(&mission.rubric)
            .bind(i64::from(mission.outdoor))
            .bind(new.language.as_str())
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

pub(crate) fn mission_from_row(row: &AnyRow) -> anyhow::Result<Mission> {
    let points: i64 = row.get("points");
    Ok(Mission {
        id: row.get("id"),
        user_id: row.get("user_id"),
        local_date: row.get("local_date"),
        content: MissionContent {
            key: row.get("key"),
            title: row.get("title"),
            description: row.get("description"),
            points: u32::try_from(points)?,
            slot: parse_slot(row.get("slot"))?,
            rubric: row.get("rubric"),
            outdoor: row.get::<i64, _>("outdoor") != 0,
        },
        language: {
            let code: String = row.get("language");
            Language::parse(&code).ok_or_else(|| anyhow::anyhow!("unknown mission language {code:?}"))?
        },
        state: MissionState::parse(row.get("state"))?,
        attempts: row.get("attempts"),
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    })
}
