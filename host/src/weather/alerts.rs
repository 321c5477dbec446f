//! The seam for weather alerts. Providers return forecasts only; alerts come from KMA's
//! warning feed, which arrives with the alert scheduler. Until then no source reports any
//! (fixtures may still carry alerts of their own).

use crate::plugins::dto::{AlertDto, SlotDto};
use async_trait::async_trait;
use chrono::NaiveDate;

#[async_trait]
pub trait AlertSource: Send + Sync + 'static {
    /// Alerts in force in `region` (a province name from [`super::province_of`]) during one
    /// slot of `date`.
    async fn alerts(&self, region: &str, date: NaiveDate, slot: SlotDto) -> anyhow::Result<Vec<AlertDto>>;
}

/// Reports no alerts.
pub struct NoAlerts;

#[async_trait]
impl AlertSource for NoAlerts {
    async fn alerts(&self, _region: &str, _date: NaiveDate, _slot: SlotDto) -> anyhow::Result<Vec<AlertDto>> {
        Ok(Vec::new())
    }
}
