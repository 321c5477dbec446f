//! Who is online in each room: this instance's subscriptions, plus what the other instances
//! last said of theirs on the bus (forgotten after three silent periods, as that instance is
//! gone).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When an instance last spoke, and its subscriptions by room.
type Heard = (Instant, HashMap<String, u32>);

pub struct Presence {
    instance: String,
    others: Mutex<HashMap<String, Heard>>,
    forget_after: Duration,
}

impl Presence {
    pub fn new(instance: String, period: Duration) -> Self {
        Self { instance, others: Mutex::default(), forget_after: period * 3 }
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Another instance's counts (this instance's own announcements are ignored).
    pub fn heard(&self, instance: &str, rooms: Vec<(String, u32)>) {
        if instance == self.instance {
            return;
        }
        let mut others = self.others.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        others.insert(instance.to_owned(), (Instant::now(), rooms.into_iter().collect()));
    }

    /// Online in `room_id`: `local` here, plus the others' latest counts.
    pub fn online(&self, room_id: &str, local: u32) -> u32 {
        let mut others = self.others.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        others.retain(|_, (at, _)| at.elapsed() < self.forget_after);
        local + others.values().map(|(_, rooms)| rooms.get(room_id).copied().unwrap_or(0)).sum::<u32>()
    }
}
