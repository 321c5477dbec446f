//! The alert rooms follow the warnings in force: for each province with one, an open room
//! (created when the first arrives, joined by later ones, named after all of them); when a
//! province has none left, its room turns read-only, and is deleted when the retention ends.
//! Users last seen in the province hear that a room opened.

use super::model::{ChatEvent, RoomStatus};
use super::store::ChatStore;
use crate::accounts::locations::LastLocations;
use crate::bus::{EventBus, topics};
use crate::db::{RowLock, WriteTx, now_ms};
use crate::notifications::Notifier;
use crate::tasks::Tasks;
use crate::weather::alerts::{StoredWarning, WarningsListener};
use crate::weather::{AlertKind, AlertLevel};
use async_trait::async_trait;
use sqlx::AssertSqlSafe;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Users told of a new room per database page.
const NOTIFY_PAGE: i64 = 500;

pub struct RoomKeeper {
    pub store: ChatStore,
    pub locations: LastLocations,
    pub notifier: Notifier,
    pub bus: Arc<dyn EventBus>,
    pub tasks: Tasks,
    pub keep_closed_days: i64,
}

/// What a warning is called in a room's name.
pub fn kind_word(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::HeatWave => "폭염",
        AlertKind::ColdWave => "한파",
        AlertKind::Typhoon => "태풍",
        AlertKind::HeavyRain => "호우",
        AlertKind::HeavySnow => "대설",
        AlertKind::StrongWind => "강풍",
        AlertKind::Dry => "건조",
        AlertKind::StormSurge => "폭풍해일",
        AlertKind::HighSeas => "풍랑",
        AlertKind::YellowDust => "황사",
    }
}

/// "강원특별자치도 건조·한파 경보": the province, the kinds in force (those at warning level
/// first), and the strongest level.
pub fn room_name(province: &str, warnings: &[StoredWarning]) -> String {
    // Warnings before advisories: the name leads with what matters most.
    let mut ordered: Vec<&StoredWarning> = warnings.iter().collect();
    ordered.sort_by_key(|warning| warning.level != AlertLevel::Warning);
    let mut kinds: Vec<&str> = Vec::new();
    for warning in ordered {
        let word = kind_word(warning.kind);
        if !kinds.contains(&word) {
            kinds.push(word);
        }
    }
    let level = if warnings.iter().any(|w| w.level == AlertLevel::Warning) { "경보" } else { "주의보" };
    format!("{province} {} {level}", kinds.join("·"))
}

#[async_trait]
impl WarningsListener for RoomKeeper {
    async fn warnings_in_force(&self, in_force: &[StoredWarning]) -> anyhow::Result<()> {
        let mut by_province: BTreeMap<&str, Vec<StoredWarning>> = BTreeMap::new();
        for warning in in_force {
            by_province.entry(warning.province.as_str()).or_default().push(warning.clone());
        }
        let mut changed = Vec::new();
        for (province, warnings) in &by_province {
            let (room_id, opened) = self.open_or_join(province, warnings).await?;
            if opened {
                tracing::info!(province, room = %room_id, "alert room opened");
                self.announce_opening(room_id.clone(), province.to_string());
            }
            changed.push(room_id);
        }
        let now = now_ms();
        let open: Vec<(String, String)> =
            sqlx::query_as("select id, province from chat_rooms where status = 'open'")
                .fetch_all(self.store.db().pool())
                .await?;
        for (room_id, province) in open {
            if !by_province.contains_key(province.as_str()) {
                sqlx::query("update chat_rooms set status = 'read_only', closed_at = $2 where id = $1")
                    .bind(&room_id)
                    .bind(now)
                    .execute(self.store.db().pool())
                    .await?;
                tracing::info!(%province, room = %room_id, "alert room turned read-only");
                changed.push(room_id);
            }
        }
        let expired_before = now - self.keep_closed_days * 24 * 3600 * 1000;
        let expired: Vec<String> = sqlx::query_scalar(
            "delete from chat_rooms where status = 'read_only' and closed_at < $1 returning id",
        )
        .bind(expired_before)
        .fetch_all(self.store.db().pool())
        .await?;
        changed.extend(expired);
        for room_id in changed {
            let event = serde_json::to_vec(&ChatEvent::RoomChanged { room_id: room_id.clone() })?;
            if let Err(err) = self.bus.publish(topics::CHAT, &room_id, &event).await {
                tracing::warn!(error = %err, "could not announce a room change");
            }
        }
        Ok(())
    }
}

impl RoomKeeper {
    /// The open room of `province` with `warnings` joined to it; whether it was just opened.
    async fn open_or_join(
        &self,
        province: &str,
        warnings: &[StoredWarning],
    ) -> anyhow::Result<(String, bool)> {
        let name = room_name(province, warnings);
        let (name, now) = (&name, now_ms());
        let fresh_id = uuid::Uuid::now_v7().to_string();
        let fresh_id = &fresh_id;
        let outcome = self
            .store
            .db()
            .write(|tx| Box::pin(Self::open_or_join_in(tx, province, warnings, name, fresh_id, now)))
            .await?;
        Ok(outcome)
    }

    async fn open_or_join_in(
        tx: &mut WriteTx<'_, '_>,
        province: &str,
        warnings: &[StoredWarning],
        name: &str,
        fresh_id: &str,
        now: i64,
    ) -> Result<(String, bool), sqlx::Error> {
        let existing: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "select id from chat_rooms where province = $1 and status = '{}' {}",
            RoomStatus::Open.as_str(),
            tx.lock_rows(RowLock::Wait)
        )))
        .bind(province)
        .fetch_optional(&mut **tx)
        .await?;
        let opened = existing.is_none();
        let room_id = match existing {
            Some(id) => {
                sqlx::query("update chat_rooms set name = $2 where id = $1")
                    .bind(&id)
                    .bind(name)
                    .execute(&mut **tx)
                    .await?;
                id
            }
            None => {
                sqlx::query(
                    "insert into chat_rooms (id, province, name, status, epoch, next_offset, opened_at) \
                     values ($1, $2, $3, 'open', $4, 1, $5)",
                )
                .bind(fresh_id)
                .bind(province)
                .bind(name)
                .bind(uuid::Uuid::new_v4().simple().to_string())
                .bind(now)
                .execute(&mut **tx)
                .await?;
                fresh_id.to_owned()
            }
        };
        for warning in warnings {
            sqlx::query(
                "insert into chat_room_warnings (room_id, warning_key) values ($1, $2) \
                 on conflict (room_id, warning_key) do nothing",
            )
            .bind(&room_id)
            .bind(&warning.key)
            .execute(&mut **tx)
            .await?;
        }
        Ok((room_id, opened))
    }

    /// Tells every user last seen in `province` that its room opened, page by page, as
    /// background work (shutdown waits for it).
    fn announce_opening(&self, room_id: String, province: String) {
        let (locations, notifier) = (self.locations.clone(), self.notifier.clone());
        let store = self.store.clone();
        self.tasks.spawn_work("alert room notices", move |_drain| async move {
            let Ok(Some(room)) = store.room(&room_id).await else { return };
            let payload = serde_json::json!({
                "room_id": room.id,
                "name": room.name,
                "province": room.province,
                "destination": super::model::destination(&room.id),
            });
            let mut after = String::new();
            loop {
                let users = match locations.users_in(&province, &after, NOTIFY_PAGE).await {
                    Ok(users) => users,
                    Err(err) => {
                        tracing::warn!(error = %err, "could not list the users of a province");
                        return;
                    }
                };
                for user_id in &users {
                    if let Err(err) = notifier.notify(user_id, "alert_room.opened", payload.clone()).await {
                        tracing::warn!(error = %err, "could not tell a user of a new alert room");
                    }
                }
                match users.last() {
                    Some(last) if users.len() as i64 == NOTIFY_PAGE => after = last.clone(),
                    _ => return,
                }
            }
        });
    }
}
