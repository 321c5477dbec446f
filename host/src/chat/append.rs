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
    /// Shared by every message of a batch that failed.
    #[error(transparent)]
    Database(Arc<sqlx::Error>),
}

impl From<sqlx::Error> for AppendError {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(Arc::new(err))
    }
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
        let messages = &messages;
        db.write_on(kept, |tx| {
            Box::pin(async move {
                let mut outcomes = Vec::with_capacity(messages.len());
                for message in messages {
                    outcomes.push(store(tx, message).await?);
                }
                Ok::<_, sqlx::Error>(outcomes)
            })
        })
        .await
    };
    match outcome {
        Ok(outcomes) => {
            for (request, outcome) in requests.into_iter().zip(outcomes) {
                let _ = request.reply.send(outcome);
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, messages = requests.len(), "storing a batch of chat messages failed");
            let err = Arc::new(err);
            for request in requests {
                let _ = request.reply.send(Err(AppendError::Database(err.clone())));
            }
        }
    }
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
