//! `ChatService`: sending, moderating, and keeping this instance's subscribers in step with
//! every other instance through the bus.

use super::append::AppendError;
use super::config::ChatConfig;
use super::hub::ChatHub;
use super::model::{ChatEvent, ChatMessage};
use super::presence::Presence;
use super::recent::RecentMessages;
use super::store::ChatStore;
use crate::audit::AuditLog;
use crate::bus::topics::SessionsEnded;
use crate::bus::{EventBus, topics};
use crate::state::StateStore;
use crate::tasks::Tasks;
use crate::weather::alerts::WarningStore;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use unicode_normalization::UnicodeNormalization;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Invalid(String),
    #[error("too many messages; wait {} s", .0.as_secs().max(1))]
    RateLimited(Duration),
    #[error(transparent)]
    Refused(#[from] AppendError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The connections open here, by id: who they belong to, and how to end them.
#[derive(Default)]
struct Connections {
    open: Mutex<HashMap<u64, (String, String, CancellationToken)>>,
}

pub struct ChatService {
    pub store: ChatStore,
    pub hub: ChatHub,
    pub recent: RecentMessages,
    pub presence: Presence,
    pub warnings: WarningStore,
    pub config: ChatConfig,
    bus: Arc<dyn EventBus>,
    state: Arc<dyn StateStore>,
    audit: AuditLog,
    connections: Connections,
    next_connection: AtomicU64,
    /// Events waiting to be published, and the receiving end the publisher takes at start.
    outbox: mpsc::Sender<Publication>,
    outbox_receiver: Mutex<Option<mpsc::Receiver<Publication>>>,
}

/// An event for the `chat` topic: its key (the room) and payload.
type Publication = (String, Vec<u8>);

/// Events waiting to be published per instance; past it new ones are dropped (and found by the
/// other instances' head checks), so a broker outage costs bounded memory.
const OUTBOX: usize = 10_000;
/// Publishes in flight at once: the broker's acknowledgements overlap.
const PUBLISHING: usize = 256;

impl ChatService {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: ChatStore,
        warnings: WarningStore,
        bus: Arc<dyn EventBus>,
        state: Arc<dyn StateStore>,
        audit: AuditLog,
        config: ChatConfig,
    ) -> Arc<Self> {
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let (outbox, outbox_receiver) = mpsc::channel(OUTBOX);
        Arc::new(Self {
            outbox,
            outbox_receiver: Mutex::new(Some(outbox_receiver)),
            hub: ChatHub::new(store.clone()),
            recent: RecentMessages::new(state.clone(), store.clone(), config.recent_messages),
            presence: Presence::new(instance, Duration::from_secs(config.presence_secs)),
            store,
            warnings,
            config,
            bus,
            state,
            audit,
            connections: Connections::default(),
            next_connection: AtomicU64::new(1),
        })
    }

    /// The text of a message as stored: NFC, without surrounding blank lines, within bounds,
    /// no control characters but line breaks and tabs.
    pub fn normalize(&self, raw: &str) -> Result<String, SendError> {
        let text: String = raw.nfc().collect();
        let text = text.trim().to_owned();
        if text.is_empty() {
            return Err(SendError::Invalid("a message needs some text".into()));
        }
        if text.chars().count() > self.config.max_text_chars {
            return Err(SendError::Invalid(format!(
                "a message is at most {} characters",
                self.config.max_text_chars
            )));
        }
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(SendError::Invalid("a message cannot hold control characters".into()));
        }
        Ok(text)
    }

    /// Stores a message, then hands it to this instance's subscribers and to the others.
    pub async fn send(
        &self,
        user_id: &str,
        nickname: &str,
        room_id: &str,
        raw_text: &str,
    ) -> Result<ChatMessage, SendError> {
        let text = self.normalize(raw_text)?;
        let limit = self.config.sends_per_user;
        let window = self
            .state
            .hit(&format!("rate:chat-send:{user_id}"), Duration::from_secs(limit.window_secs))
            .await?;
        if window.count > limit.limit {
            return Err(SendError::RateLimited(window.resets_in));
        }
        let message = self.store.append(room_id, user_id, nickname, &text).await?;
        metrics::counter!("chat_messages_total").increment(1);
        self.recent.push(&message).await;
        if let Err(err) = self.hub.accept(message.clone()).await {
            tracing::warn!(error = %err, "delivering a message here failed; the head check retries");
        }
        // Not waiting for the broker: a slow or restarting broker must not hold up senders.
        self.publish(&ChatEvent::Message { message: message.clone() });
        Ok(message)
    }

    /// Hands an event to the publisher without waiting for the broker: a message is stored and
    /// delivered here already, and the other instances find any message whose publication is
    /// lost (a full outbox, a broker outage) by their head checks.
    fn publish(&self, event: &ChatEvent) {
        let room_id = match event {
            ChatEvent::Message { message } => message.room_id.clone(),
            ChatEvent::Deleted { room_id, .. } | ChatEvent::RoomChanged { room_id } => room_id.clone(),
            ChatEvent::Presence { .. } => "presence".to_owned(),
        };
        let Ok(payload) = serde_json::to_vec(event) else { return };
        if self.outbox.try_send((room_id, payload)).is_err() {
            metrics::counter!("chat_publishes_dropped_total").increment(1);
        }
    }

    /// Deletes a message for everyone; false when there is no such message.
    pub async fn delete_message(
        &self,
        admin_id: &str,
        room_id: &str,
        message_id: &str,
    ) -> anyhow::Result<bool> {
        let Some(offset) = self.store.delete_message(room_id, message_id).await? else {
            return Ok(false);
        };
        self.recent.forget(room_id).await;
        self.hub.deleted(room_id, message_id, offset).await;
        self.publish(&ChatEvent::Deleted { room_id: room_id.into(), message_id: message_id.into(), offset });
        self.audit.record(Some(admin_id), "chat.message.delete", message_id, room_id).await?;
        Ok(true)
    }

    /// Mutes a user in a room; false when there is no such user.
    pub async fn mute(
        &self,
        admin_id: &str,
        room_id: &str,
        user_id: &str,
        until_ms: i64,
        reason: &str,
    ) -> anyhow::Result<bool> {
        if !self.store.mute(room_id, user_id, until_ms, admin_id, reason).await? {
            return Ok(false);
        }
        let detail = format!("room {room_id} until {until_ms}: {reason}");
        self.audit.record(Some(admin_id), "chat.mute", user_id, &detail).await?;
        Ok(true)
    }

    /// Registers a connection of `user_id` on `session_id`; the token is cancelled when the
    /// session ends.
    pub fn open_connection(&self, user_id: &str, session_id: &str) -> (u64, CancellationToken) {
        let id = self.next_connection.fetch_add(1, Ordering::Relaxed);
        let ended = CancellationToken::new();
        let mut open = self.connections.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        open.insert(id, (user_id.to_owned(), session_id.to_owned(), ended.clone()));
        metrics::gauge!("chat_connections_open").set(open.len() as f64);
        (id, ended)
    }

    pub async fn close_connection(&self, id: u64) {
        {
            let mut open = self.connections.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            open.remove(&id);
            metrics::gauge!("chat_connections_open").set(open.len() as f64);
        }
        self.hub.disconnect(id).await;
    }

    fn end_sessions(&self, ended: &SessionsEnded) {
        let open = self.connections.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (user, session, token) in open.values() {
            if *user == ended.user_id && ended.session_ids.contains(session) {
                token.cancel();
            }
        }
    }

    /// Ends every connection here (shutdown: clients reconnect elsewhere and resume).
    pub fn close_all(&self) {
        let open = self.connections.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (_, _, token) in open.values() {
            token.cancel();
        }
    }

    /// Follows the chat and session topics, checks room heads and announces presence, until
    /// the tasks stop.
    pub async fn start(self: &Arc<Self>, tasks: &Tasks) -> anyhow::Result<()> {
        let instance = self.presence.instance().to_owned();
        let service = self.clone();
        self.bus.subscribe(topics::CHAT, &format!("chat-{instance}")).await?.follow(
            tasks,
            "chat follower",
            move |event: ChatEvent| {
                let service = service.clone();
                async move { service.apply(event).await }
            },
        );
        let service = self.clone();
        self.bus.subscribe(topics::SESSIONS, &format!("chat-sessions-{instance}")).await?.follow(
            tasks,
            "chat session follower",
            move |ended: SessionsEnded| {
                service.end_sessions(&ended);
                std::future::ready(())
            },
        );
        let outbox = self.outbox_receiver.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        if let Some(outbox) = outbox {
            let bus = self.bus.clone();
            tasks.spawn_follower("chat publisher", move |stop| publish_from(outbox, bus, stop));
        }
        let service = self.clone();
        tasks.spawn_follower("chat heads and presence", move |stop| async move {
            let mut heads = tokio::time::interval(Duration::from_millis(service.config.head_check_ms));
            let mut presence = tokio::time::interval(Duration::from_secs(service.config.presence_secs));
            heads.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    _ = heads.tick() => {
                        if let Err(err) = service.hub.catch_up().await {
                            tracing::warn!(error = %err, "checking room heads failed");
                        }
                    }
                    _ = presence.tick() => service.announce_presence().await,
                }
            }
        });
        Ok(())
    }

    async fn apply(&self, event: ChatEvent) {
        match event {
            ChatEvent::Message { message } => {
                if let Err(err) = self.hub.accept(message).await {
                    tracing::warn!(error = %err, "delivering a message failed; the head check retries");
                }
            }
            ChatEvent::Deleted { room_id, message_id, offset } => {
                self.hub.deleted(&room_id, &message_id, offset).await;
            }
            ChatEvent::Presence { instance, rooms } => self.presence.heard(&instance, rooms),
            ChatEvent::RoomChanged { .. } => {}
        }
    }

    async fn announce_presence(&self) {
        let rooms = self.hub.local_counts().await;
        let event = ChatEvent::Presence { instance: self.presence.instance().to_owned(), rooms };
        if let Ok(payload) = serde_json::to_vec(&event) {
            let _ = self.bus.publish(topics::CHAT, "presence", &payload).await;
        }
    }

    /// Users online in a room, on every instance.
    pub async fn online(&self, room_id: &str) -> u32 {
        let local = self.hub.local_counts().await;
        let here = local.iter().find(|(id, _)| id == room_id).map_or(0, |(_, count)| *count);
        self.presence.online(room_id, here)
    }
}

/// Publishes what the outbox holds, up to [`PUBLISHING`] at once, until `stop`.
async fn publish_from(
    mut outbox: mpsc::Receiver<Publication>,
    bus: Arc<dyn EventBus>,
    stop: CancellationToken,
) {
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            next = outbox.recv(), if in_flight.len() < PUBLISHING => {
                let Some((key, payload)) = next else { break };
                let bus = bus.clone();
                in_flight.spawn(async move {
                    if let Err(err) = bus.publish(topics::CHAT, &key, &payload).await {
                        metrics::counter!("chat_publishes_failed_total").increment(1);
                        tracing::warn!(error = %err, "could not publish a chat event; instances catch up by head checks");
                    }
                });
            }
        }
    }
}
