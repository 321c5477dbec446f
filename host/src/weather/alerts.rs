//! The seam for weather alerts. Providers return forecasts only; alerts come from KMA's
//! warning feed, which arrives with the alert scheduler. Until then no source reports any
//! (fixtures may still carry alerts of their own).

use super::model::{Alert, Slot};
use async_trait::async_trait;
use chrono::NaiveDate;

#[async_trait]
pub trait AlertSource: Send + Sync + 'static {
    /// Alerts in force in `region` (a province name from [`super::province_of`]) during one
    /// slot of `date`.
    async fn alerts(&self, region: &str, date: NaiveDate, slot: Slot) -> anyhow::Result<Vec<Alert>>;
}

/// Reports no alerts.
pub struct NoAlerts;

#[async_trait]
impl AlertSource for NoAlerts {
    async fn alerts(&self, _region: &str, _date: NaiveDate, _slot: Slot) -> anyhow::Result<Vec<Alert>> {
        Ok(Vec::new())
    }
}
