//! Live notifications: a durable backlog per user, and Server-Sent Events that resume by
//! `Last-Event-ID` on any instance.
//!
//! `store` keeps each user's events numbered 1, 2, 3 … in commit order (bounded retention),
//! `hub` holds this instance's open streams, `notifier` stores an event, publishes it on the
//! bus and fans what every instance hears out to its local streams, and `routes` serves
//! `GET /notifications/stream`.

pub mod hub;
pub mod notifier;
pub mod routes;
pub mod store;

pub use notifier::Notifier;
pub use store::{Event, NotificationStore};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// Open streams one user may hold on one instance; one more is answered 429.
    pub max_streams_per_user: usize,
    /// Interval of the keep-alive comments that stop proxies from closing an idle stream.
    pub keep_alive_secs: u64,
    /// How often a stream re-checks that its session is live. An ended session's streams are
    /// closed at once on every instance through the bus; this bounds the delay if that
    /// announcement is lost. A stream also ends when its access token expires.
    pub session_check_secs: u64,
    /// Events kept per user for resuming (the newest ones).
    pub keep_per_user: i64,
    /// Events older than this are pruned whatever their number.
    pub keep_days: i64,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            max_streams_per_user: 4,
            keep_alive_secs: 15,
            session_check_secs: 30,
            keep_per_user: 500,
            keep_days: 7,
        }
    }
}

impl NotificationsConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=64).contains(&self.max_streams_per_user) || self.keep_alive_secs == 0 {
            return Err("notifications: max_streams_per_user 1 to 64, keep_alive_secs above zero".into());
        }
        if !(1..=3600).contains(&self.session_check_secs) {
            return Err("notifications: session_check_secs 1 to 3600".into());
        }
        if !(1..=100_000).contains(&self.keep_per_user) || !(1..=365).contains(&self.keep_days) {
            return Err("notifications: keep_per_user 1 to 100000, keep_days 1 to 365".into());
        }
        Ok(())
    }
}
