//! Storing a chat message at its room's next offset.
//!
//! A message costs two statements: one takes the offset of an open room whose sender is not
//! muted (updating the room's row locks it for the transaction, so offsets are given out one
//! at a time, consecutive, in commit order), one inserts the message. Why a send was refused is
//! read only when it was, and nothing has been written then.
//!
//! Where writes take turns (one writer at a time), every message would otherwise pay for a
//! transaction of its own while all the others wait: so there the messages that arrive while
//! one transaction runs go into the next one together ([`AppendBatcher`]), and one commit
//! answers them all. Where transactions run in parallel, each message is its own.

use super::model::{ChatMessage, RoomStatus};
use crate::db::batches::apply_in_batches;
use crate::db::{Database, KeptConnection, WriteTx};
use crate::tasks::Tasks;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Why a message was not stored.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("no such room")]
    NoSuchRoom,
    #[error("this room is read-only: its alert has ended")]
    ReadOnly,
    #[error("you are muted in this room until {until_ms}")]
    Muted { until_ms: i64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl crate::db::WriteError for AppendError {
    fn database_error(&self) -> Option<&sqlx::Error> {
        match self {
            Self::Database(err) => Some(err),
            _ => None,
        }
    }
}

/// A message to store; `id` and `sent_at_ms` are given before it is.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: String,
    pub room_id: String,
    pub user_id: String,
    pub nickname: String,
    pub text: String,
    pub sent_at_ms: i64,
}

/// Messages waiting before senders wait to enqueue.
const QUEUE_DEPTH: usize = 4096;

type Reply = Result<ChatMessage, AppendError>;

struct Request {
    message: NewMessage,
    reply: oneshot::Sender<Reply>,
}

/// Stores messages in groups, one transaction at a time (see the module's documentation).
#[derive(Debug, Clone)]
pub struct AppendBatcher {
    queue: mpsc::Sender<Request>,
}

impl AppendBatcher {
    pub fn start(db: Database, tasks: &Tasks) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        // The queue outlives a run of the batcher: one that panics is started again on it.
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        tasks.spawn_supervised_work("chat appends", move |drain| {
            let (db, receiver) = (db.clone(), receiver.clone());
            async move {
                let mut receiver = receiver.lock().await;
                apply_in_batches(&mut receiver, drain, |requests, kept| {
                    let db = db.clone();
                    Box::pin(async move { store_batch(&db, kept, requests).await })
                })
                .await;
            }
        });
        Self { queue }
    }

    pub async fn append(&self, message: NewMessage) -> Reply {
        let (reply, answer) = oneshot::channel();
        let closed = || AppendError::from(sqlx::Error::PoolClosed);
        self.queue.send(Request { message, reply }).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

/// Stores one message in its own transaction.
pub async fn append_alone(db: &Database, message: &NewMessage) -> Reply {
    db.write(|tx| Box::pin(async move { store(tx, message).await? })).await
}

/// Stores the messages of one batch in one transaction and answers each sender.
async fn store_batch(db: &Database, kept: &mut KeptConnection, requests: Vec<Request>) {
    let outcome = {
        let messages: Vec<&NewMessage> = requests.iter().map(|request| &request.message).collect();
        store_together(db, kept, &messages).await
    };
    match outcome {
        Ok(outcomes) => {
            for (request, outcome) in requests.into_iter().zip(outcomes) {
                let _ = request.reply.send(outcome);
            }
        }
        Err(err) if requests.len() > 1 => {
            // One message that cannot be stored (its sender deleted meanwhile) must not fail
            // its neighbours: each goes again on its own.
            tracing::warn!(error = %err, messages = requests.len(), "a batch of chat messages failed; storing them one by one");
            for request in requests {
                let outcome = store_together(db, kept, &[&request.message]).await;
                let _ = request.reply.send(match outcome {
                    Ok(mut outcomes) => {
                        outcomes.pop().unwrap_or_else(|| Err(sqlx::Error::RowNotFound.into()))
                    }
                    Err(err) => Err(err.into()),
                });
            }
        }
        Err(err) => {
            if let Some(request) = requests.into_iter().next() {
                let _ = request.reply.send(Err(err.into()));
            }
        }
    }
}

/// One transaction storing `messages`, in order; a refusal is an answer, not a failure.
async fn store_together(
    db: &Database,
    kept: &mut KeptConnection,
    messages: &[&NewMessage],
) -> Result<Vec<Reply>, sqlx::Error> {
    db.write_on(kept, |tx| {
        Box::pin(async move {
            let mut outcomes = Vec::with_capacity(messages.len());
            for message in messages {
                outcomes.push(store(tx, message).await?);
            }
            Ok(outcomes)
        })
    })
    .await
}

/// The statements of one message: `Err` for a database failure (the transaction is lost),
/// `Ok(Err)` for a refusal (nothing was written).
async fn store(
    tx: &mut WriteTx<'_, '_>,
    message: &NewMessage,
) -> Result<Result<ChatMessage, AppendError>, sqlx::Error> {
    let NewMessage { id, room_id, user_id, nickname, text, sent_at_ms } = message;
    let offset: Option<i64> = sqlx::query_scalar(
        "update chat_rooms set next_offset = next_offset + 1 where id = $1 and status = 'open' \
         and not exists (select 1 from chat_mutes where room_id = $1 and user_id = $2 and until > $3) \
         returning next_offset - 1",
    )
    .bind(room_id)
    .bind(user_id)
    .bind(sent_at_ms)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(offset) = offset else {
        return refusal(tx, message).await.map(Err);
    };
    sqlx::query(
        r#"insert into chat_messages (room_id, "offset", id, user_id, nickname, body, sent_at)
           values ($1, $2, $3, $4, $5, $6, $7)"#,
    )
    .bind(room_id)
    .bind(offset)
    .bind(id)
    .bind(user_id)
    .bind(nickname)
    .bind(text)
    .bind(sent_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(Ok(ChatMessage {
        id: id.clone(),
        room_id: room_id.clone(),
        offset,
        user_id: user_id.clone(),
        nickname: nickname.clone(),
        text: text.clone(),
        sent_at_ms: *sent_at_ms,
    }))
}

/// Why the room refused `message`.
async fn refusal(tx: &mut WriteTx<'_, '_>, message: &NewMessage) -> Result<AppendError, sqlx::Error> {
    let room: Option<(String, Option<i64>)> = sqlx::query_as(
        "select status, (select max(until) from chat_mutes where room_id = $1 and user_id = $2 and until > $3) \
         from chat_rooms where id = $1",
    )
    .bind(&message.room_id)
    .bind(&message.user_id)
    .bind(message.sent_at_ms)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match room {
        None => AppendError::NoSuchRoom,
        Some((status, _)) if status != RoomStatus::Open.as_str() => AppendError::ReadOnly,
        Some((_, Some(until_ms))) => AppendError::Muted { until_ms },
        // The mute ended, or the room opened, between the two statements (possible only where
        // transactions run in parallel): the sender is told of a mute that ends now, and may
        // send again at once.
        Some((_, None)) => AppendError::Muted { until_ms: message.sent_at_ms },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn database() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Database::connect(&crate::db::embedded_url(dir.path()), 2).await.expect("connect");
        db.migrate().await.expect("migrate");
        sqlx::query(
            "insert into users (id, nickname, nickname_key, created_at, updated_at) values ('u1', 'a', 'a', 0, 0); \
             insert into chat_rooms (id, province, name, status, epoch, opened_at) values ('r1', 'p', 'n', 'open', 'e', 0)",
        )
        .execute(db.pool())
        .await
        .expect("seed");
        (dir, db)
    }

    fn message(id: &str, user_id: &str) -> NewMessage {
        NewMessage {
            id: id.into(),
            room_id: "r1".into(),
            user_id: user_id.into(),
            nickname: "a".into(),
            text: "hello".into(),
            sent_at_ms: 1,
        }
    }

    #[tokio::test]
    async fn a_message_that_cannot_be_stored_does_not_fail_its_batch() {
        let (_dir, db) = database().await;
        let mut requests = Vec::new();
        let mut answers = Vec::new();
        // The middle sender does not exist (deleted while sending): its row breaks a foreign key.
        for (id, user) in [("m1", "u1"), ("m2", "gone"), ("m3", "u1")] {
            let (reply, answer) = oneshot::channel();
            requests.push(Request { message: message(id, user), reply });
            answers.push(answer);
        }
        store_batch(&db, &mut KeptConnection::default(), requests).await;
        let mut outcomes = Vec::new();
        for answer in answers {
            outcomes.push(answer.await.expect("answered"));
        }
        assert_eq!(outcomes[0].as_ref().expect("stored").offset, 1);
        assert!(matches!(outcomes[1], Err(AppendError::Database(_))), "{:?}", outcomes[1]);
        assert_eq!(outcomes[2].as_ref().expect("stored").offset, 2, "offsets stay consecutive");
        let stored: Vec<(String, i64)> =
            sqlx::query_as(r#"select id, "offset" from chat_messages order by "offset""#)
                .fetch_all(db.pool())
                .await
                .expect("read");
        assert_eq!(stored, [("m1".to_owned(), 1), ("m3".to_owned(), 2)]);
    }

    #[tokio::test]
    async fn refusals_are_answers_and_write_nothing() {
        let (_dir, db) = database().await;
        sqlx::query("insert into chat_mutes (room_id, user_id, until, muted_by, reason) values ('r1', 'u1', 99, 'u1', 'x')")
            .execute(db.pool())
            .await
            .expect("mute");
        let muted = append_alone(&db, &message("m1", "u1")).await;
        assert!(matches!(muted, Err(AppendError::Muted { until_ms: 99 })), "{muted:?}");
        let missing =
            append_alone(&db, &NewMessage { room_id: "nowhere".into(), ..message("m2", "u1") }).await;
        assert!(matches!(missing, Err(AppendError::NoSuchRoom)), "{missing:?}");
        sqlx::query("update chat_rooms set status = 'read_only'").execute(db.pool()).await.expect("close");
        let closed = append_alone(&db, &message("m3", "u1")).await;
        assert!(matches!(closed, Err(AppendError::ReadOnly)), "{closed:?}");
        let next: i64 = sqlx::query_scalar("select next_offset from chat_rooms")
            .fetch_one(db.pool())
            .await
            .expect("room");
        assert_eq!(next, 1, "no offset was taken");
    }
}
