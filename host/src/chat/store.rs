//! The chat tables: rooms with their warnings, messages with their per-room offsets, mutes.

use super::append::{AppendBatcher, AppendError, NewMessage, append_alone};
use super::model::{ChatMessage, Room, RoomStatus};
use crate::db::{Database, now_ms};
use crate::tasks::Tasks;
use sqlx::AssertSqlSafe;

#[derive(sqlx::FromRow)]
struct RoomRow {
    id: String,
    province: String,
    name: String,
    status: String,
    epoch: String,
    next_offset: i64,
    opened_at: i64,
    closed_at: Option<i64>,
}

impl From<RoomRow> for Room {
    fn from(row: RoomRow) -> Self {
        Self {
            id: row.id,
            province: row.province,
            name: row.name,
            status: RoomStatus::parse(&row.status).unwrap_or(RoomStatus::ReadOnly),
            epoch: row.epoch,
            next_offset: row.next_offset,
            opened_at_ms: row.opened_at,
            closed_at_ms: row.closed_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: String,
    room_id: String,
    offset: i64,
    user_id: String,
    nickname: String,
    body: String,
    sent_at: i64,
}

impl From<MessageRow> for ChatMessage {
    fn from(row: MessageRow) -> Self {
        Self {
            id: row.id,
            room_id: row.room_id,
            offset: row.offset,
            user_id: row.user_id,
            nickname: row.nickname,
            text: row.body,
            sent_at_ms: row.sent_at,
        }
    }
}

const ROOM_COLUMNS: &str = "id, province, name, status, epoch, next_offset, opened_at, closed_at";
const MESSAGE_COLUMNS: &str = r#"id, room_id, "offset", user_id, nickname, body, sent_at"#;

#[derive(Clone)]
pub struct ChatStore {
    db: Database,
    /// Where writes take turns, messages are stored in groups (`append.rs`).
    appends: Option<AppendBatcher>,
}

impl ChatStore {
    pub fn new(db: Database, tasks: &Tasks) -> Self {
        let appends = (!db.parallel_writes()).then(|| AppendBatcher::start(db.clone(), tasks));
        Self { db, appends }
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    pub async fn room(&self, id: &str) -> Result<Option<Room>, sqlx::Error> {
        let row = sqlx::query_as::<_, RoomRow>(AssertSqlSafe(format!(
            "select {ROOM_COLUMNS} from chat_rooms where id = $1"
        )))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(Room::from))
    }

    /// Open rooms, then read-only ones newest first, after the read-only room `before` (a
    /// page cursor), at most `limit` read-only ones.
    pub async fn rooms(&self, before: Option<&str>, limit: usize) -> Result<Vec<Room>, sqlx::Error> {
        let mut rooms: Vec<Room> = if before.is_none() {
            sqlx::query_as::<_, RoomRow>(AssertSqlSafe(format!(
                "select {ROOM_COLUMNS} from chat_rooms where status = 'open' order by opened_at desc, id desc"
            )))
            .fetch_all(self.db.pool())
            .await?
            .into_iter()
            .map(Room::from)
            .collect()
        } else {
            Vec::new()
        };
        let closed = sqlx::query_as::<_, RoomRow>(AssertSqlSafe(format!(
            "select {ROOM_COLUMNS} from chat_rooms where status = 'read_only' and ($1 is null or id < $1) \
             order by id desc limit $2"
        )))
        .bind(before)
        .bind(limit as i64 + 1)
        .fetch_all(self.db.pool())
        .await?;
        rooms.extend(closed.into_iter().map(Room::from));
        Ok(rooms)
    }

    /// The keys of the warnings that joined each of `room_ids`.
    pub async fn warning_keys(&self, room_id: &str) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "select warning_key from chat_room_warnings where room_id = $1 order by warning_key",
        )
        .bind(room_id)
        .fetch_all(self.db.pool())
        .await
    }

    /// Stores a message at the room's next offset (see `append.rs`).
    pub async fn append(
        &self,
        room_id: &str,
        user_id: &str,
        nickname: &str,
        text: &str,
    ) -> Result<ChatMessage, AppendError> {
        let message = NewMessage {
            id: uuid::Uuid::now_v7().to_string(),
            room_id: room_id.to_owned(),
            user_id: user_id.to_owned(),
            nickname: nickname.to_owned(),
            text: text.to_owned(),
            sent_at_ms: now_ms(),
        };
        match &self.appends {
            Some(batcher) => batcher.append(message).await,
            None => append_alone(&self.db, &message).await,
        }
    }

    /// Messages with offsets in `from..until`, oldest first (deleted ones are absent).
    pub async fn range(&self, room_id: &str, from: i64, until: i64) -> Result<Vec<ChatMessage>, sqlx::Error> {
        let rows = sqlx::query_as::<_, MessageRow>(AssertSqlSafe(format!(
            r#"select {MESSAGE_COLUMNS} from chat_messages where room_id = $1 and "offset" >= $2
               and "offset" < $3 order by "offset""#
        )))
        .bind(room_id)
        .bind(from)
        .bind(until)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(ChatMessage::from).collect())
    }

    /// Up to `limit` messages before offset `before` (all when `None`), newest first.
    pub async fn history(
        &self,
        room_id: &str,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, sqlx::Error> {
        let rows = sqlx::query_as::<_, MessageRow>(AssertSqlSafe(format!(
            r#"select {MESSAGE_COLUMNS} from chat_messages where room_id = $1 and "offset" < $2
               order by "offset" desc limit $3"#
        )))
        .bind(room_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit as i64)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(ChatMessage::from).collect())
    }

    /// The next offset of each room in `room_ids` (rooms that no longer exist are absent).
    pub async fn heads(&self, room_ids: &[String]) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let mut heads = Vec::with_capacity(room_ids.len());
        // A bounded number of placeholders a statement.
        for chunk in room_ids.chunks(100) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let sql =
                format!("select id, next_offset from chat_rooms where id in ({})", placeholders.join(", "));
            let mut query = sqlx::query_as::<_, (String, i64)>(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id);
            }
            heads.extend(query.fetch_all(self.db.pool()).await?);
        }
        Ok(heads)
    }

    /// Deletes a message; its offset, if it existed.
    pub async fn delete_message(&self, room_id: &str, message_id: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(r#"delete from chat_messages where room_id = $1 and id = $2 returning "offset""#)
            .bind(room_id)
            .bind(message_id)
            .fetch_optional(self.db.pool())
            .await
    }

    /// Mutes `user_id` in a room until `until_ms` (replacing an earlier mute); false when there
    /// is no such user or room.
    pub async fn mute(
        &self,
        room_id: &str,
        user_id: &str,
        until_ms: i64,
        muted_by: &str,
        reason: &str,
    ) -> Result<bool, sqlx::Error> {
        let muted = sqlx::query(
            "insert into chat_mutes (room_id, user_id, until, muted_by, reason) values ($1, $2, $3, $4, $5) \
             on conflict (room_id, user_id) do update set until = excluded.until, \
             muted_by = excluded.muted_by, reason = excluded.reason",
        )
        .bind(room_id)
        .bind(user_id)
        .bind(until_ms)
        .bind(muted_by)
        .bind(reason)
        .execute(self.db.pool())
        .await;
        match muted {
            Ok(_) => Ok(true),
            // No such user (or room).
            Err(err) if crate::db::is_foreign_key_violation(&err) => Ok(false),
            Err(err) => Err(err),
        }
    }
}
