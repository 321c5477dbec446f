//! Snapshots in the shared state store, so every instance of a deployment shares them:
//!
//! - `weather:fresh:<provider>:<cell>:<date>:<hour>` — the day as fetched during one local
//!   hour, for `cache_ttl`; the next hour asks the provider again;
//! - `weather:last:<provider>:<cell>:<date>` — the latest good day, for `stale_ttl`, served
//!   (marked stale) only when the provider fails.
//!
//! A cache outage is a miss, never a failed request.

use super::model::SlotWeather;
use crate::state::StateStore;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedDay {
    pub cell: String,
    pub issued_at_ms: i64,
    pub fetched_at_ms: i64,
    pub slots: Vec<SlotWeather>,
}

/// The keys of one provider, cell and date.
pub struct Keys {
    pub fresh: String,
    pub last: String,
}

impl Keys {
    /// `hour` is the local hour of asking, `YYYYMMDDHH`.
    pub fn new(provider: &str, cell: &str, date: NaiveDate, hour: &str) -> Self {
        Self {
            fresh: format!("weather:fresh:{provider}:{cell}:{date}:{hour}"),
            last: format!("weather:last:{provider}:{cell}:{date}"),
        }
    }
}

#[derive(Clone)]
pub struct WeatherCache {
    state: Arc<dyn StateStore>,
    fresh_ttl: Duration,
    stale_ttl: Duration,
}

/// What the store holds for one query.
pub struct Lookup {
    pub fresh: Option<CachedDay>,
    pub last: Option<CachedDay>,
}

impl WeatherCache {
    pub fn new(state: Arc<dyn StateStore>, fresh_ttl: Duration, stale_ttl: Duration) -> Self {
        Self { state, fresh_ttl, stale_ttl }
    }

    pub async fn lookup(&self, keys: &Keys) -> Lookup {
        let values = match self.state.get_many(&[&keys.fresh, &keys.last]).await {
            Ok(values) => values,
            Err(err) => {
                tracing::warn!(error = %err, "weather cache unavailable");
                return Lookup { fresh: None, last: None };
            }
        };
        let decode = |value: Option<&Option<String>>| {
            value.and_then(Option::as_deref).and_then(|text| serde_json::from_str::<CachedDay>(text).ok())
        };
        Lookup { fresh: decode(values.first()), last: decode(values.get(1)) }
    }

    pub async fn store(&self, keys: &Keys, day: &CachedDay) {
        let Ok(text) = serde_json::to_string(day) else {
            tracing::warn!("could not encode a weather day");
            return;
        };
        for (key, ttl) in [(&keys.fresh, self.fresh_ttl), (&keys.last, self.stale_ttl)] {
            if let Err(err) = self.state.put(key, &text, ttl).await {
                tracing::warn!(error = %err, "could not cache a weather day");
            }
        }
    }
}
