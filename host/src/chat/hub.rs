//! This instance's subscriptions, by room, and the order messages reach them.
//!
//! Messages arrive from two places — this instance's own sends, and the bus from every
//! instance — in no guaranteed order: two senders on two instances commit offsets 5 and 6 and
//! may publish 6 first, and a publish can be lost while the broker restarts. So each room with
//! subscribers here keeps the next offset it will deliver, and delivers strictly in offset
//! order: an older offset is a duplicate and is dropped; a newer one waits, held back, for the
//! ones before it, which are committed already (offsets are given out under the room's row
//! lock) and usually a moment away. A periodic look at each room's head (or too many held
//! back) reads what is missing from the database, an offset missing there being a deleted
//! message; so a lost publish delays delivery by at most the head-check interval.
//!
//! Delivery never waits for a connection: each has a bounded queue, and a connection whose
//! queue is full is told it is too slow and closed (its client resumes from its last offset).

use super::model::ChatMessage;
use super::store::ChatStore;
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What a connection is handed for one of its subscriptions.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// `body` is the message as JSON, serialised once for every subscriber.
    Message {
        subscription: Arc<str>,
        epoch: Arc<str>,
        message: Arc<ChatMessage>,
        body: Bytes,
    },
    Deleted {
        subscription: Arc<str>,
        room_id: Arc<str>,
        message_id: Arc<str>,
        offset: i64,
    },
}

/// A connection's side of the hub: where its frames go, and how it is told it fell behind.
#[derive(Clone)]
pub struct Mailbox {
    pub connection: u64,
    pub sender: mpsc::Sender<Outbound>,
    /// Cancelled when the queue overflowed: the connection closes with an error.
    pub too_slow: CancellationToken,
}

struct Subscriber {
    mailbox: Mailbox,
    subscription: Arc<str>,
    /// Offsets up to this one the client has already (or is being sent by its catch-up).
    have_through: i64,
}

struct RoomFeed {
    epoch: Arc<str>,
    /// The offset delivered next.
    next: i64,
    subscribers: Vec<Subscriber>,
    /// Later messages waiting for `next`, which is on its way (a concurrent sender's, or one
    /// the bus brought out of order) or lost (the head check then reads it).
    held: BTreeMap<i64, Arc<ChatMessage>>,
    /// Offsets of the latest deletions announced here: a deletion arrives twice on the
    /// instance that made it (from itself, then from the bus) and is announced once.
    deleted: VecDeque<i64>,
}

/// Messages held back per room at most; past it the gap is read from the database at once.
const HELD_BACK: usize = 256;
/// Deletions remembered per room, to announce each once.
const DELETIONS_REMEMBERED: usize = 64;
/// Messages a head check reads per room at most.
const CATCH_UP_SLICE: i64 = 1000;

pub struct ChatHub {
    store: ChatStore,
    feeds: tokio::sync::Mutex<HashMap<String, RoomFeed>>,
}

impl ChatHub {
    pub fn new(store: ChatStore) -> Self {
        Self { store, feeds: tokio::sync::Mutex::default() }
    }

    /// Subscribes `mailbox` to a room whose next offset was `room_next` when read, the client
    /// having every offset through `have_through`. Returns the first offset the hub will
    /// deliver to it; what lies between `have_through` and that offset is the caller's to send.
    pub async fn subscribe(
        &self,
        room_id: &str,
        epoch: &str,
        room_next: i64,
        mailbox: Mailbox,
        subscription: Arc<str>,
        have_through: i64,
    ) -> i64 {
        let mut feeds = self.feeds.lock().await;
        let feed = feeds.entry(room_id.to_owned()).or_insert_with(|| RoomFeed {
            epoch: Arc::from(epoch),
            next: room_next,
            subscribers: Vec::new(),
            held: BTreeMap::new(),
            deleted: VecDeque::new(),
        });
        let start = feed.next;
        feed.subscribers.push(Subscriber {
            mailbox,
            subscription,
            have_through: have_through.max(start - 1),
        });
        start
    }

    pub async fn unsubscribe(&self, connection: u64, subscription: &str) {
        let mut feeds = self.feeds.lock().await;
        feeds.retain(|_, feed| {
            feed.subscribers
                .retain(|s| !(s.mailbox.connection == connection && &*s.subscription == subscription));
            !feed.subscribers.is_empty()
        });
    }

    pub async fn disconnect(&self, connection: u64) {
        let mut feeds = self.feeds.lock().await;
        feeds.retain(|_, feed| {
            feed.subscribers.retain(|s| s.mailbox.connection != connection);
            !feed.subscribers.is_empty()
        });
    }

    /// Takes a stored message (from this instance or the bus) and delivers it in offset order:
    /// a later one waits (bounded) for those before it, which are usually a moment away; the
    /// head check, or a full wait, reads a gap from the database.
    pub async fn accept(&self, message: ChatMessage) -> Result<(), sqlx::Error> {
        let mut feeds = self.feeds.lock().await;
        let Some(feed) = feeds.get_mut(&message.room_id) else {
            return Ok(());
        };
        if message.offset < feed.next {
            return Ok(());
        }
        if message.offset > feed.next {
            feed.held.insert(message.offset, Arc::new(message));
            if feed.held.len() <= HELD_BACK {
                return Ok(());
            }
            let (room_id, until) = match feed.held.first_key_value() {
                Some((offset, held)) => (held.room_id.clone(), *offset),
                None => return Ok(()),
            };
            for earlier in self.store.range(&room_id, feed.next, until).await? {
                feed.deliver(Arc::new(earlier));
            }
            // Offsets the database does not have were deleted.
            feed.next = feed.next.max(until);
        } else {
            feed.deliver(Arc::new(message));
        }
        feed.release_held();
        Ok(())
    }

    /// Reads the head of every room with subscribers here and delivers what was committed but
    /// never heard of (a publish lost on the bus). The database is read without the hub's lock,
    /// so deliveries of every room go on meanwhile: every offset under a head read is
    /// committed, and what was delivered in the meantime is dropped as a duplicate.
    pub async fn catch_up(&self) -> Result<(), sqlx::Error> {
        let rooms: HashMap<String, i64> = {
            let feeds = self.feeds.lock().await;
            feeds.iter().map(|(id, feed)| (id.clone(), feed.next)).collect()
        };
        if rooms.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = rooms.keys().cloned().collect();
        for (room_id, head) in self.store.heads(&ids).await? {
            let Some(&next) = rooms.get(&room_id).filter(|next| **next < head) else { continue };
            // A long gap is read a bounded slice a check.
            let until = head.min(next + CATCH_UP_SLICE);
            let missing = self.store.range(&room_id, next, until).await?;
            let mut feeds = self.feeds.lock().await;
            let Some(feed) = feeds.get_mut(&room_id) else { continue };
            for message in missing {
                feed.deliver(Arc::new(message));
            }
            // Offsets under the head that the database does not have were deleted.
            feed.next = feed.next.max(until);
            feed.release_held();
        }
        Ok(())
    }

    /// Tells a room's subscribers here that a message was deleted.
    pub async fn deleted(&self, room_id: &str, message_id: &str, offset: i64) {
        let mut feeds = self.feeds.lock().await;
        let Some(feed) = feeds.get_mut(room_id) else { return };
        if feed.deleted.contains(&offset) {
            return;
        }
        if feed.deleted.len() == DELETIONS_REMEMBERED {
            feed.deleted.pop_front();
        }
        feed.deleted.push_back(offset);
        let (room, id): (Arc<str>, Arc<str>) = (Arc::from(room_id), Arc::from(message_id));
        feed.subscribers.retain(|subscriber| {
            let frame = Outbound::Deleted {
                subscription: subscriber.subscription.clone(),
                room_id: room.clone(),
                message_id: id.clone(),
                offset,
            };
            subscriber.offer(frame)
        });
    }

    /// Subscriptions open here, by room.
    pub async fn local_counts(&self) -> Vec<(String, u32)> {
        let feeds = self.feeds.lock().await;
        feeds.iter().map(|(id, feed)| (id.clone(), feed.subscribers.len() as u32)).collect()
    }
}

impl RoomFeed {
    /// Delivers the held messages that are now next in line, and drops those already passed.
    fn release_held(&mut self) {
        while let Some(entry) = self.held.first_entry() {
            match (*entry.key()).cmp(&self.next) {
                std::cmp::Ordering::Less => {
                    entry.remove();
                }
                std::cmp::Ordering::Equal => {
                    let message = entry.remove();
                    self.deliver(message);
                }
                std::cmp::Ordering::Greater => return,
            }
        }
    }

    /// Delivers `message` if it is the next offset or later (earlier ones are duplicates);
    /// any offsets skipped belonged to deleted messages.
    fn deliver(&mut self, message: Arc<ChatMessage>) {
        if message.offset < self.next {
            return;
        }
        self.next = message.offset + 1;
        let epoch = self.epoch.clone();
        let body = message.json_body();
        self.subscribers.retain_mut(|subscriber| {
            if message.offset <= subscriber.have_through {
                return true;
            }
            subscriber.have_through = message.offset;
            subscriber.offer(Outbound::Message {
                subscription: subscriber.subscription.clone(),
                epoch: epoch.clone(),
                message: message.clone(),
                body: body.clone(),
            })
        });
    }
}

impl Subscriber {
    /// Queues a frame; false (and the connection told to close) when its queue is full.
    fn offer(&self, frame: Outbound) -> bool {
        match self.mailbox.sender.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.mailbox.too_slow.cancel();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}
