//! This instance's open streams, by user. Delivery never waits: a stream that cannot keep up
//! is closed, and its client resumes from the backlog by `Last-Event-ID` without losing an event.

use super::store::Event;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

/// Events one stream may have waiting before it is considered too slow.
const STREAM_QUEUE: usize = 256;

struct Listener {
    id: u64,
    /// The session whose access token opened the stream; the stream ends with it.
    session_id: String,
    sender: mpsc::Sender<Event>,
}

#[derive(Default)]
struct Listeners {
    by_user: HashMap<String, Vec<Listener>>,
    closed: bool,
}

pub struct Hub {
    listeners: Mutex<Listeners>,
    next_id: AtomicU64,
    max_per_user: usize,
}

/// Why a stream could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooManyStreams,
    ShuttingDown,
}

/// One open stream; dropping it unregisters the stream.
pub struct Registration {
    hub: Arc<Hub>,
    user_id: String,
    id: u64,
    pub receiver: mpsc::Receiver<Event>,
}

impl Hub {
    pub fn new(max_per_user: usize) -> Arc<Self> {
        Arc::new(Self { listeners: Mutex::default(), next_id: AtomicU64::new(1), max_per_user })
    }

    fn lock(&self) -> MutexGuard<'_, Listeners> {
        self.listeners.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn register(self: &Arc<Self>, user_id: &str, session_id: &str) -> Result<Registration, Refusal> {
        let mut listeners = self.lock();
        if listeners.closed {
            return Err(Refusal::ShuttingDown);
        }
        let streams = listeners.by_user.entry(user_id.to_owned()).or_default();
        if streams.len() >= self.max_per_user {
            return Err(Refusal::TooManyStreams);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(STREAM_QUEUE);
        streams.push(Listener { id, session_id: session_id.to_owned(), sender });
        Ok(Registration { hub: self.clone(), user_id: user_id.to_owned(), id, receiver })
    }

    /// Hands the event to each of its user's streams here; closes those that are full.
    pub fn deliver(&self, event: &Event) {
        let mut listeners = self.lock();
        let Some(streams) = listeners.by_user.get_mut(&event.user_id) else {
            return;
        };
        streams.retain(|listener| listener.sender.try_send(event.clone()).is_ok());
        if streams.is_empty() {
            listeners.by_user.remove(&event.user_id);
        }
    }

    /// Ends the streams opened with any of `session_ids` (the sessions have ended).
    pub fn end_sessions(&self, user_id: &str, session_ids: &[String]) {
        let mut listeners = self.lock();
        let Some(streams) = listeners.by_user.get_mut(user_id) else {
            return;
        };
        streams.retain(|listener| !session_ids.contains(&listener.session_id));
        if streams.is_empty() {
            listeners.by_user.remove(user_id);
        }
    }

    /// Ends every stream and refuses new ones (graceful shutdown must not wait for them).
    pub fn close(&self) {
        let mut listeners = self.lock();
        listeners.closed = true;
        listeners.by_user.clear();
    }

    /// Streams open here for `user_id`.
    pub fn streams_of(&self, user_id: &str) -> usize {
        self.lock().by_user.get(user_id).map_or(0, Vec::len)
    }

    fn unregister(&self, user_id: &str, id: u64) {
        let mut listeners = self.lock();
        if let Some(streams) = listeners.by_user.get_mut(user_id) {
            streams.retain(|listener| listener.id != id);
            if streams.is_empty() {
                listeners.by_user.remove(user_id);
            }
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.unregister(&self.user_id, self.id);
    }
}
