//! The gate in this process, for the embedded mode: a map under one lock. It starts empty, so
//! after a restart every day is stale until rebuilt from the database, as after a Redis loss.

use super::gate::{Admission, CouponGate, DAY_TTL, DayKey, GateDay};
use async_trait::async_trait;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Instant;

struct Entry {
    epoch: String,
    remaining: i64,
    users: BTreeSet<String>,
    expires: Instant,
}

#[derive(Default)]
pub struct MemoryGate {
    days: Mutex<HashMap<DayKey, Entry>>,
}

impl MemoryGate {
    fn with_day<T>(&self, key: &DayKey, epoch: &str, act: impl FnOnce(&mut Entry) -> T) -> Option<T> {
        let mut days = self.days.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry =
            days.get_mut(key).filter(|entry| entry.epoch == epoch && entry.expires > Instant::now())?;
        Some(act(entry))
    }
}

#[async_trait]
impl CouponGate for MemoryGate {
    async fn admit(&self, key: &DayKey, epoch: &str, user_id: &str) -> anyhow::Result<Admission> {
        let admission = self.with_day(key, epoch, |entry| {
            if entry.users.contains(user_id) {
                Admission::AlreadyHolds
            } else if entry.remaining <= 0 {
                Admission::SoldOut
            } else {
                entry.remaining -= 1;
                entry.users.insert(user_id.to_owned());
                Admission::Admitted
            }
        });
        Ok(admission.unwrap_or(Admission::Stale))
    }

    async fn give_back(
        &self,
        key: &DayKey,
        epoch: &str,
        user_id: &str,
        still_holds: bool,
    ) -> anyhow::Result<()> {
        self.with_day(key, epoch, |entry| {
            entry.remaining += 1;
            if !still_holds {
                entry.users.remove(user_id);
            }
        });
        Ok(())
    }

    async fn rebuild(&self, key: &DayKey, state: &GateDay) -> anyhow::Result<()> {
        let mut days = self.days.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        // Days past their time go as new ones come.
        days.retain(|_, entry| entry.expires > now);
        days.insert(
            key.clone(),
            Entry {
                epoch: state.epoch.clone(),
                remaining: state.remaining,
                users: state.users.iter().cloned().collect(),
                expires: now + DAY_TTL,
            },
        );
        Ok(())
    }

    async fn read(&self, key: &DayKey) -> anyhow::Result<Option<GateDay>> {
        let days = self.days.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(days.get(key).filter(|entry| entry.expires > Instant::now()).map(|entry| GateDay {
            epoch: entry.epoch.clone(),
            remaining: entry.remaining,
            users: entry.users.iter().cloned().collect(),
        }))
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}
