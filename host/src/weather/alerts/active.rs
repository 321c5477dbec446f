//! The warnings in force as this instance knows them, by province: what weather snapshots
//! carry. Kept in memory so serving weather reads no table; replaced after every poll and
//! reloaded on the poller's announcements.

use super::AlertSource;
use super::store::{StoredWarning, WarningStore};
use crate::weather::model::{Alert, Slot};
use crate::weather::time::{seoul_date, seoul_millis, slot_hours};
use async_trait::async_trait;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

#[derive(Clone)]
pub struct ActiveAlerts {
    store: WarningStore,
    by_province: Arc<RwLock<HashMap<String, Vec<StoredWarning>>>>,
}

impl ActiveAlerts {
    /// Loads the warnings in force.
    pub async fn load(store: WarningStore) -> anyhow::Result<Self> {
        let active = Self { store, by_province: Arc::default() };
        active.reload().await?;
        Ok(active)
    }

    pub async fn reload(&self) -> anyhow::Result<()> {
        let in_force = self.store.in_force().await?;
        self.replace(&in_force);
        Ok(())
    }

    pub fn replace(&self, in_force: &[StoredWarning]) {
        let mut by_province: HashMap<String, Vec<StoredWarning>> = HashMap::new();
        for warning in in_force {
            by_province.entry(warning.province.clone()).or_default().push(warning.clone());
        }
        *self.by_province.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = by_province;
    }

    /// The warnings in force in `province`.
    pub fn of(&self, province: &str) -> Vec<StoredWarning> {
        let by_province = self.by_province.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        by_province.get(province).cloned().unwrap_or_default()
    }
}

#[async_trait]
impl AlertSource for ActiveAlerts {
    /// The warnings in force in `region` that take effect before the slot ends. Days before
    /// today get none: the feed tells what is in force now, not what was.
    async fn alerts(&self, region: &str, date: NaiveDate, slot: Slot) -> anyhow::Result<Vec<Alert>> {
        let now = chrono::Utc::now().timestamp_millis();
        if date < seoul_date(now) {
            return Ok(Vec::new());
        }
        let Some(slot_end) = date.and_hms_opt(slot_hours(slot).end, 0, 0).map(seoul_millis) else {
            return Ok(Vec::new());
        };
        let mut alerts: Vec<Alert> = Vec::new();
        for warning in self.of(region) {
            if warning.effective_at_ms < slot_end
                && !alerts.iter().any(|alert| alert.kind == warning.kind && alert.level == warning.level)
            {
                alerts.push(Alert {
                    kind: warning.kind,
                    level: warning.level,
                    area: Some(warning.area_name),
                });
            }
        }
        Ok(alerts)
    }
}
