//! In-process bus: per topic, one multi-consumer queue per group. Messages published while a
//! topic has no group are dropped, as nobody in this process could ever read them.

use super::{EventBus, Message, Subscription};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::mpsc;

/// Bound of each group's queue: publishers wait (back-pressure) instead of growing memory.
const GROUP_QUEUE: usize = 10_000;

/// One group's queue. The bus keeps a receiver of its own so the queue outlives a moment with
/// no member; `receiver_count` above one means somebody is listening.
struct GroupQueue {
    sender: async_channel::Sender<Message>,
    receiver: async_channel::Receiver<Message>,
}

#[derive(Default)]
pub struct InProcessBus {
    groups: Mutex<HashMap<String, HashMap<String, GroupQueue>>>,
}

impl InProcessBus {
    pub fn new() -> Self {
        Self::default()
    }

    fn listening_groups(&self, topic: &str) -> Vec<async_channel::Sender<Message>> {
        let groups = self.groups.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(by_group) = groups.get(topic) else {
            return Vec::new();
        };
        by_group
            .values()
            .filter(|queue| queue.receiver.receiver_count() > 1)
            .map(|queue| queue.sender.clone())
            .collect()
    }
}

#[async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, topic: &str, key: &str, payload: &[u8]) -> anyhow::Result<()> {
        let message = Message { topic: topic.to_owned(), key: key.to_owned(), payload: payload.to_vec() };
        for sender in self.listening_groups(topic) {
            sender.send(message.clone()).await?;
        }
        Ok(())
    }

    async fn subscribe(&self, topic: &str, group: &str) -> anyhow::Result<Subscription> {
        let receiver = {
            let mut groups = self.groups.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let queue =
                groups.entry(topic.to_owned()).or_default().entry(group.to_owned()).or_insert_with(|| {
                    let (sender, receiver) = async_channel::bounded(GROUP_QUEUE);
                    GroupQueue { sender, receiver }
                });
            // Members of one group compete for the same queue.
            queue.receiver.clone()
        };
        let (tx, rx) = mpsc::channel(1);
        let worker = tokio::spawn(async move {
            while let Ok(message) = receiver.recv().await {
                if tx.send(message).await.is_err() {
                    break;
                }
            }
        });
        Ok(Subscription::new(rx, Some(worker)))
    }

    async fn ping(&self) -> anyhow::Result<()> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "in-process"
    }
}
