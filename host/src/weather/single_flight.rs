//! One provider call per cache key at a time in this process: concurrent misses for the same
//! cell and hour queue behind the first and then read what it stored, instead of each spending
//! provider quota (KMA keys have a daily call limit). Each key carries a value that lives as
//! long as someone holds or waits for the key: what the holder wants those behind it to know
//! (the service leaves the provider's failure there, so a queue does not retry it one by one).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedMutexGuard;

type Turns<T> = Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<T>>>>>;

pub struct SingleFlight<T> {
    turns: Turns<T>,
}

impl<T> Clone for SingleFlight<T> {
    fn clone(&self) -> Self {
        Self { turns: self.turns.clone() }
    }
}

impl<T> Default for SingleFlight<T> {
    fn default() -> Self {
        Self { turns: Arc::default() }
    }
}

/// Holds the key's turn and its value; the key is forgotten when the last one holding or
/// waiting for it is done.
pub struct Turn<T> {
    key: String,
    turns: Turns<T>,
    guard: Option<OwnedMutexGuard<T>>,
}

impl<T: Default> SingleFlight<T> {
    pub async fn turn(&self, key: &str) -> Turn<T> {
        let lock = self.map().entry(key.to_owned()).or_default().clone();
        let guard = lock.lock_owned().await;
        Turn { key: key.to_owned(), turns: self.turns.clone(), guard: Some(guard) }
    }

    /// Keys with a call under way or waiting.
    pub fn pending(&self) -> usize {
        self.map().len()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<T>>>> {
        lock(&self.turns)
    }
}

impl<T> std::ops::Deref for Turn<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.guard.as_deref().expect("held until dropped")
    }
}

impl<T> std::ops::DerefMut for Turn<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_deref_mut().expect("held until dropped")
    }
}

impl<T> Drop for Turn<T> {
    fn drop(&mut self) {
        let mut turns = lock(&self.turns);
        self.guard = None;
        // Clones of the entry are only made under the map's lock, so a count of one (the map's
        // own) means nobody else holds or waits for this key.
        if turns.get(&self.key).is_some_and(|entry| Arc::strong_count(entry) == 1) {
            turns.remove(&self.key);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The map is consistent after any panic: entries are inserted or removed whole.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn one_holder_per_key_and_keys_are_forgotten() {
        let flight = SingleFlight::<()>::default();
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (flight, inside, most) = (flight.clone(), inside.clone(), most.clone());
                tokio::spawn(async move {
                    let _turn = flight.turn("cell").await;
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        let other = flight.turn("another cell").await;
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(most.load(Ordering::SeqCst), 1, "never two holders of one key");
        assert_eq!(flight.pending(), 1, "only the key still held remains");
        drop(other);
        assert_eq!(flight.pending(), 0);
    }

    #[tokio::test]
    async fn the_value_is_seen_by_those_waiting_and_then_forgotten() {
        let flight = SingleFlight::<Option<&str>>::default();
        let mut first = flight.turn("cell").await;
        let waiting = tokio::spawn({
            let flight = flight.clone();
            async move { *flight.turn("cell").await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        *first = Some("the provider failed");
        drop(first);
        assert_eq!(waiting.await.expect("task"), Some("the provider failed"));
        assert_eq!(*flight.turn("cell").await, None, "a new flight starts afresh");
    }
}
