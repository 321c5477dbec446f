//! `Notifier`: what other domains call to tell a user something.
//!
//! An event is stored first (so a stream can always replay it), then published on the
//! `notifications` topic keyed by user. Every instance follows that topic in a consumer group of
//! its own and hands each event to its local streams, so a user hears of it wherever they are
//! connected.

use super::NotificationsConfig;
use super::hub::{Hub, Refusal, Registration};
use super::store::{Event, NotificationStore};
use crate::bus::topics::SessionsEnded;
use crate::bus::{EventBus, topics};
use crate::db::Database;
use crate::tasks::Tasks;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;

/// Longest kind (`verification.decided`, `points.credited`, `post.voted` …).
pub const MAX_KIND_BYTES: usize = 64;
/// Largest payload, as JSON text.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;

#[derive(Clone)]
pub struct Notifier {
    store: NotificationStore,
    bus: Arc<dyn EventBus>,
    hub: Arc<Hub>,
    keep_alive: Duration,
    session_check: Duration,
}

impl Notifier {
    /// The notifier, following the bus from now on (until `tasks` stop their followers).
    pub async fn start(
        db: Database,
        bus: Arc<dyn EventBus>,
        config: &NotificationsConfig,
        tasks: &Tasks,
    ) -> anyhow::Result<Self> {
        let notifier = Self {
            store: NotificationStore::new(db, config.keep_per_user, config.keep_days),
            bus,
            hub: Hub::new(config.max_streams_per_user),
            keep_alive: Duration::from_secs(config.keep_alive_secs),
            session_check: Duration::from_secs(config.session_check_secs),
        };
        notifier.follow(tasks).await?;
        notifier.follow_ended_sessions(tasks).await?;
        Ok(notifier)
    }

    /// Stores `kind` with `payload` for `user_id`, announces it to every instance, and returns
    /// its event id (the number a stream sends as `id:` and a client sends back as `Last-Event-ID`).
    pub async fn notify(
        &self,
        user_id: &str,
        kind: &str,
        payload: serde_json::Value,
    ) -> anyhow::Result<String> {
        let valid_kind = !kind.is_empty()
            && kind.len() <= MAX_KIND_BYTES
            && kind.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        anyhow::ensure!(valid_kind, "a notification kind is 1 to {MAX_KIND_BYTES} of [A-Za-z0-9._-]");
        anyhow::ensure!(
            payload.to_string().len() <= MAX_PAYLOAD_BYTES,
            "a notification payload is at most {MAX_PAYLOAD_BYTES} bytes of JSON"
        );
        let event = self.store.append(user_id, kind, &payload).await.context("storing a notification")?;
        let message = serde_json::to_vec(&event)?;
        if let Err(err) = self.bus.publish(topics::NOTIFICATIONS, user_id, &message).await {
            // Stored, so a reconnecting stream replays it; streams here need not wait for that.
            tracing::warn!(error = %err, kind, "could not publish a notification; delivering locally");
            self.hub.deliver(&event);
        }
        Ok(event.seq.to_string())
    }

    pub fn store(&self) -> &NotificationStore {
        &self.store
    }

    /// Opens a local stream for `user_id`, ending when `session_id` does.
    pub fn register(&self, user_id: &str, session_id: &str) -> Result<Registration, Refusal> {
        self.hub.register(user_id, session_id)
    }

    /// Streams open on this instance for `user_id`.
    pub fn streams_of(&self, user_id: &str) -> usize {
        self.hub.streams_of(user_id)
    }

    /// How often an idle stream sends a keep-alive comment.
    pub fn keep_alive(&self) -> Duration {
        self.keep_alive
    }

    /// How often a stream asks whether its session is still live, in case the announcement of
    /// its end was lost.
    pub fn session_check(&self) -> Duration {
        self.session_check
    }

    /// Ends this instance's streams (at shutdown; clients reconnect elsewhere and resume).
    pub fn close(&self) {
        self.hub.close();
    }

    /// Every instance hands the events it hears to its own streams.
    async fn follow(&self, tasks: &Tasks) -> anyhow::Result<()> {
        self.follow_topic(tasks, topics::NOTIFICATIONS, |hub, event: Event| hub.deliver(&event)).await
    }

    /// Every instance hears of ended sessions and closes their streams here.
    async fn follow_ended_sessions(&self, tasks: &Tasks) -> anyhow::Result<()> {
        self.follow_topic(tasks, topics::SESSIONS, |hub, ended: SessionsEnded| {
            hub.end_sessions(&ended.user_id, &ended.session_ids);
        })
        .await
    }

    /// Follows `topic` in a consumer group of this instance's own (so every instance hears
    /// every message) and applies each readable message to the hub.
    async fn follow_topic<T, F>(&self, tasks: &Tasks, topic: &'static str, apply: F) -> anyhow::Result<()>
    where
        T: serde::de::DeserializeOwned + Send,
        F: Fn(&Hub, T) + Send + 'static,
    {
        let group = format!("{topic}-{}", uuid::Uuid::new_v4().simple());
        let hub = Arc::downgrade(&self.hub);
        self.bus.subscribe(topic, &group).await?.follow(tasks, topic, move |message: T| {
            if let Some(hub) = hub.upgrade() {
                apply(&hub, message);
            }
            std::future::ready(())
        });
        Ok(())
    }
}
