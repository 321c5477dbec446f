//! The latest messages of each room, in the shared state (a Redis list in the scaled mode), so
//! a client joining without an offset is served without touching the database.
//!
//! The list is a cache: writers on several instances may push out of offset order, a deletion
//! drops the list, and Redis may lose it. So a read is believed only when its messages are
//! exactly the consecutive offsets just before the requested one; anything else is a miss,
//! answered from the database, which also refills the list.

use super::model::ChatMessage;
use super::store::ChatStore;
use crate::state::StateStore;
use std::sync::Arc;
use std::time::Duration;

/// A room's list lives this long after its latest message.
const KEEP_FOR: Duration = Duration::from_secs(24 * 3600);

#[derive(Clone)]
pub struct RecentMessages {
    state: Arc<dyn StateStore>,
    store: ChatStore,
    keep: usize,
}

fn key(room_id: &str) -> String {
    format!("chat:recent:{room_id}")
}

impl RecentMessages {
    pub fn new(state: Arc<dyn StateStore>, store: ChatStore, keep: usize) -> Self {
        Self { state, store, keep }
    }

    pub async fn push(&self, message: &ChatMessage) {
        let pushed = match serde_json::to_string(message) {
            Ok(line) => self.state.push_capped(&key(&message.room_id), &line, self.keep, KEEP_FOR).await,
            Err(err) => Err(err.into()),
        };
        if let Err(err) = pushed {
            tracing::warn!(error = %err, "could not cache a chat message");
        }
    }

    pub async fn forget(&self, room_id: &str) {
        if let Err(err) = self.state.delete(&key(room_id)).await {
            tracing::warn!(error = %err, "could not drop a room's cached messages");
        }
    }

    /// The latest messages before offset `before` (at most `keep`), oldest first.
    pub async fn before(&self, room_id: &str, before: i64) -> Result<Vec<ChatMessage>, sqlx::Error> {
        let wanted = (before - 1).clamp(0, self.keep as i64);
        if let Some(cached) = self.cached(room_id, before, wanted).await {
            metrics::counter!("chat_recent_reads_total", "from" => "cache").increment(1);
            return Ok(cached);
        }
        metrics::counter!("chat_recent_reads_total", "from" => "database").increment(1);
        let mut latest = self.store.history(room_id, Some(before), self.keep).await?;
        latest.reverse();
        if latest.len() as i64 == wanted {
            // Complete (no deletion among them): worth caching again.
            self.forget(room_id).await;
            for message in &latest {
                self.push(message).await;
            }
        }
        Ok(latest)
    }

    async fn cached(&self, room_id: &str, before: i64, wanted: i64) -> Option<Vec<ChatMessage>> {
        let lines = match self.state.list(&key(room_id)).await {
            Ok(lines) => lines,
            Err(err) => {
                tracing::warn!(error = %err, "could not read a room's cached messages");
                return None;
            }
        };
        let mut messages: Vec<ChatMessage> =
            lines.iter().filter_map(|line| serde_json::from_str::<ChatMessage>(line).ok()).collect();
        messages.retain(|message| message.room_id == room_id && message.offset < before);
        messages.sort_by_key(|message| message.offset);
        messages.dedup_by_key(|message| message.offset);
        let from = messages.len().saturating_sub(wanted as usize);
        let messages = messages.split_off(from);
        let consecutive = messages.len() as i64 == wanted
            && messages.iter().enumerate().all(|(n, message)| message.offset == before - wanted + n as i64);
        consecutive.then_some(messages)
    }
}
