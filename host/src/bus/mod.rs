//! The event bus: in-process for the embedded mode, Kafka when instances must share events.
//!
//! Semantics both implementations honour (the contract suite checks them):
//! - a message published after `subscribe` returns reaches that subscription's group;
//! - within one consumer group each message is handed to exactly one member;
//! - every group gets every message;
//! - per key, messages keep their publication order.

mod in_process;
mod kafka;

pub use in_process::InProcessBus;
pub use kafka::KafkaBus;

use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Topics the host publishes to; the Kafka adapter creates them at start-up.
pub mod topics {
    /// Account lifecycle (`account.signed_up`, `account.deleted`), keyed by user id.
    pub const ACCOUNTS: &str = "accounts";

    /// Plugin activations (`plugin.activated`), keyed by world; every instance listens.
    pub const PLUGINS: &str = "plugins";

    /// Community notifications (`post.voted`), keyed by the user to notify.
    pub const COMMUNITY: &str = "community";

    /// Stored user notifications, keyed by user id; every instance listens and fans them out
    /// to its own streams.
    pub const NOTIFICATIONS: &str = "notifications";

    /// Ended sessions (logout, password change, refresh-token reuse, deletion), keyed by user
    /// id; every instance listens and closes the sessions' event streams.
    pub const SESSIONS: &str = "sessions";

    /// Chat (`ChatEvent`: messages, deletions, room changes, presence), keyed by room, so one
    /// room's events keep their order; every instance listens.
    pub const CHAT: &str = "chat";

    /// Weather warnings changed (the poller's announcement); every instance reloads them.
    pub const ALERTS: &str = "alerts";

    pub const ALL: &[&str] = &[ACCOUNTS, PLUGINS, COMMUNITY, NOTIFICATIONS, SESSIONS, CHAT, ALERTS];

    /// A message on [`SESSIONS`].
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
    pub struct SessionsEnded {
        pub user_id: String,
        pub session_ids: Vec<String>,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub key: String,
    pub payload: Vec<u8>,
}

/// A stream of messages for one group member; dropping it leaves the group.
pub struct Subscription {
    receiver: mpsc::Receiver<Message>,
    _worker: Option<tokio::task::JoinHandle<()>>,
}

impl Subscription {
    pub(crate) fn new(
        receiver: mpsc::Receiver<Message>,
        worker: Option<tokio::task::JoinHandle<()>>,
    ) -> Self {
        Self { receiver, _worker: worker }
    }

    /// The next message, or `None` once the bus is closed.
    pub async fn next(&mut self) -> Option<Message> {
        self.receiver.recv().await
    }

    /// Hands every message that reads as JSON `T` to `apply`, one at a time in order, from a
    /// follower named `name`, until the tasks stop or the bus closes. An unreadable message is
    /// logged and skipped: one bad publisher must not stop a topic.
    pub fn follow<T, F, Fut>(mut self, tasks: &crate::tasks::Tasks, name: &'static str, mut apply: F)
    where
        T: serde::de::DeserializeOwned + Send,
        F: FnMut(T) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        tasks.spawn_follower(name, move |stop| async move {
            loop {
                let message = tokio::select! {
                    message = self.next() => message,
                    () = stop.cancelled() => break,
                };
                let Some(message) = message else { break };
                match serde_json::from_slice::<T>(&message.payload) {
                    Ok(event) => apply(event).await,
                    Err(err) => {
                        tracing::warn!(error = %err, follower = name, "an unreadable message on the bus")
                    }
                }
            }
        });
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(worker) = &self._worker {
            worker.abort();
        }
    }
}

#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    async fn publish(&self, topic: &str, key: &str, payload: &[u8]) -> anyhow::Result<()>;
    /// Joins consumer group `group` on `topic`; returns once the membership is effective.
    async fn subscribe(&self, topic: &str, group: &str) -> anyhow::Result<Subscription>;
    async fn ping(&self) -> anyhow::Result<()>;
    fn backend(&self) -> &'static str;
}

/// Picks the implementation from the URL scheme: `memory://` or `kafka://host:port,…`.
pub async fn connect(url: &str, topic_prefix: &str, partitions: i32) -> anyhow::Result<Arc<dyn EventBus>> {
    if url.starts_with("memory:") {
        Ok(Arc::new(InProcessBus::new()))
    } else if let Some(brokers) = url.strip_prefix("kafka://") {
        Ok(Arc::new(KafkaBus::connect(brokers, topic_prefix, partitions, topics::ALL).await?))
    } else {
        anyhow::bail!("bus.url must start with memory: or kafka://")
    }
}
