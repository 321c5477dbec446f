//! Weather warnings: KMA's warning feeds ([`feed`]: the API hub's text, the public-data
//! portal's JSON, a recorded fixture), read by the [`poller`] on one instance at a time,
//! recorded once each ([`store`]), and known to every instance ([`active`]) so weather
//! snapshots carry the warnings in force in their province. The alert chat rooms follow them
//! through [`poller::WarningsListener`].

pub mod active;
pub mod config;
pub mod feed;
pub mod feed_error;
pub mod hub_text;
pub mod poller;
pub mod province;
pub mod public_data;
pub mod store;
pub mod warning;

pub use active::ActiveAlerts;
pub use config::AlertsConfig;
pub use poller::{AlertPoller, PollError, PollOutcome, WarningsListener};
pub use store::{StoredWarning, WarningStore};
pub use warning::{Warning, WarningCommand};

use super::model::{Alert, Slot};
use async_trait::async_trait;
use chrono::NaiveDate;

#[async_trait]
pub trait AlertSource: Send + Sync + 'static {
    /// Alerts in force in `region` (a province name from [`super::province_of`]) during one
    /// slot of `date`.
    async fn alerts(&self, region: &str, date: NaiveDate, slot: Slot) -> anyhow::Result<Vec<Alert>>;
}
