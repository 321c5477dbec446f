//! Replayed weather: the embedded default, so the server runs with no network, and the way
//! tests choose the day's weather.
//!
//! Two shapes are read:
//! - a recorded KMA `getVilageFcst` answer (the bundled one is a winter day in Seoul), put
//!   through the same parser as live answers after moving its dates to the day asked: the day
//!   of its first 06:00 forecast becomes the requested date;
//! - `{"weather":[SlotWeather…], "user":…}`, the shape of `fixtures/*.json` used by
//!   `weatherwise plugin run`: its three slots, alerts included, are served for any date.

use super::kma::{self, Item};
use super::model::SlotWeather;
use super::provider::{DayRequest, ProviderDay, ProviderError, WeatherProvider};
use super::time::{SLOTS, seoul_millis};
use anyhow::Context;
use async_trait::async_trait;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use std::path::Path;

/// A recorded `getVilageFcst` answer, 02:00 run, grid 60:127 (Seoul City Hall).
const BUNDLED: &str = include_str!("fixtures/vilage-fcst-seoul.json");

/// Fixture files are small; this bounds what a misconfigured path can make us read.
const MAX_FIXTURE_BYTES: u64 = 4 * 1024 * 1024;

enum Source {
    Forecast { items: Vec<Item>, day: NaiveDate },
    Slots(Vec<SlotWeather>),
}

pub struct FixtureProvider {
    source: Source,
}

impl FixtureProvider {
    /// The bundled recording.
    pub fn bundled() -> anyhow::Result<Self> {
        Self::from_text(BUNDLED).context("the bundled weather fixture")
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let size =
            std::fs::metadata(path).with_context(|| format!("weather fixture {}", path.display()))?.len();
        anyhow::ensure!(size <= MAX_FIXTURE_BYTES, "weather fixture {} is over 4 MiB", path.display());
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading weather fixture {}", path.display()))?;
        Self::from_text(&text).with_context(|| format!("weather fixture {}", path.display()))
    }

    pub fn from_text(text: &str) -> anyhow::Result<Self> {
        #[derive(serde::Deserialize)]
        struct SlotsFile {
            weather: Vec<SlotWeather>,
        }
        let value: serde_json::Value = serde_json::from_str(text).context("not JSON")?;
        if value.get("weather").is_some() {
            let file: SlotsFile =
                serde_json::from_value(value).context("`weather` is not a list of snapshots")?;
            let order: Vec<_> = file.weather.iter().map(|slot| slot.slot).collect();
            anyhow::ensure!(order == SLOTS, "`weather` must hold morning, lunch and evening, in that order");
            return Ok(Self { source: Source::Slots(file.weather) });
        }
        let items = kma::envelope::parse(text.as_bytes()).map_err(anyhow::Error::from)?.items;
        let day = items
            .iter()
            .filter(|item| item.fcst_time.as_deref() == Some("0600"))
            .filter_map(|item| NaiveDate::parse_from_str(item.fcst_date.as_deref()?, "%Y%m%d").ok())
            .min()
            .context("a getVilageFcst answer with no 06:00 forecast")?;
        kma::day_from_forecast(&items, day).context("the recorded day")?;
        Ok(Self { source: Source::Forecast { items, day } })
    }
}

fn shift(date: &str, days: i64) -> String {
    NaiveDate::parse_from_str(date, "%Y%m%d")
        .map(|date| (date + Duration::days(days)).format("%Y%m%d").to_string())
        .unwrap_or_else(|_| date.to_owned())
}

/// The items moved by `days`, as if recorded that many days later.
pub fn redate(items: &[Item], days: i64) -> Vec<Item> {
    items
        .iter()
        .map(|item| Item {
            base_date: shift(&item.base_date, days),
            fcst_date: item.fcst_date.as_deref().map(|date| shift(date, days)),
            ..item.clone()
        })
        .collect()
}

#[async_trait]
impl WeatherProvider for FixtureProvider {
    fn name(&self) -> &'static str {
        "fixture"
    }

    async fn day(&self, request: &DayRequest) -> Result<ProviderDay, ProviderError> {
        let (slots, issued) = match &self.source {
            Source::Slots(slots) => (slots.clone(), request.date.and_hms_opt(0, 0, 0).unwrap_or_default()),
            Source::Forecast { items, day } => {
                let items = redate(items, (request.date - *day).num_days());
                let issued = items
                    .first()
                    .and_then(|item| {
                        NaiveDateTime::parse_from_str(
                            &format!("{}{}", item.base_date, item.base_time),
                            "%Y%m%d%H%M",
                        )
                        .ok()
                    })
                    .unwrap_or_default();
                let slots = kma::day_from_forecast(&items, request.date)?;
                (slots, issued)
            }
        };
        Ok(ProviderDay {
            provider: self.name(),
            cell: request.cell.key(),
            issued_at_ms: seoul_millis(issued),
            slots,
        })
    }
}
