//! [`WeatherService`]: the configured provider behind the shared cache, and the rules of
//! serving a day: fresh within the hour, stale (and marked so) only when the provider fails,
//! an error when there is nothing to serve.

use super::alerts::AlertSource;
use super::cache::{CachedDay, Keys, WeatherCache};
use super::config::WeatherConfig;
use super::fixture::FixtureProvider;
use super::grid::to_grid;
use super::kma::{KmaClient, KmaProvider};
use super::model::SlotWeather;
use super::open_meteo::OpenMeteoProvider;
use super::provider::{DayRequest, ProviderError, WeatherProvider};
use super::region::province_of;
use super::single_flight::SingleFlight;
use super::time::seoul_time;
use crate::state::StateStore;
use chrono::NaiveDate;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// The weather of one day at one place, ready for the mission generator.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayWeather {
    /// The province-level region (시/도), for `user-context.region`.
    pub region: String,
    /// `nx:ny` of the KMA grid cell.
    pub cell: String,
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// Morning, lunch and evening, in that order.
    pub slots: Vec<SlotWeather>,
    /// True when the provider failed and an earlier answer is served; every slot says so too.
    pub stale: bool,
    pub provider: &'static str,
    /// When the data was issued, unix ms.
    pub issued_at_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum WeatherError {
    /// Coordinates that are not numbers in range, or outside the area forecasts cover.
    #[error("{field} {message}")]
    InvalidPoint { field: &'static str, message: &'static str },
    /// The provider failed and no earlier answer is kept.
    #[error("no weather is available for this place and date right now")]
    Unavailable(#[source] ProviderError),
}

#[derive(Clone)]
pub struct WeatherService {
    provider: Arc<dyn WeatherProvider>,
    alerts: Arc<dyn AlertSource>,
    cache: WeatherCache,
    /// A provider failure is left in the key's turn for those queued behind it.
    in_flight: SingleFlight<Option<ProviderError>>,
    /// Bound on one provider call as a whole (several requests for KMA).
    deadline: Duration,
}

impl WeatherService {
    pub fn new(
        provider: Arc<dyn WeatherProvider>,
        alerts: Arc<dyn AlertSource>,
        cache: WeatherCache,
        deadline: Duration,
    ) -> Self {
        Self { provider, alerts, cache, in_flight: SingleFlight::default(), deadline }
    }

    /// The provider named by the configuration, with `alerts` joined to its snapshots.
    pub fn from_config(
        config: &WeatherConfig,
        state: Arc<dyn StateStore>,
        alerts: Arc<dyn AlertSource>,
    ) -> anyhow::Result<Self> {
        config.validate().map_err(anyhow::Error::msg)?;
        let timeout = Duration::from_millis(config.timeout_ms);
        let provider: Arc<dyn WeatherProvider> = match config.provider.as_str() {
            "kma" => {
                let key =
                    config.kma_service_key.as_ref().map(|key| key.expose().as_str()).unwrap_or_default();
                let client = KmaClient::new(&config.kma_base_url, key, timeout, config.max_response_bytes)?;
                Arc::new(KmaProvider::new(client))
            }
            "open-meteo" => Arc::new(OpenMeteoProvider::new(
                &config.open_meteo_base_url,
                timeout,
                config.max_response_bytes,
            )?),
            _ => match &config.fixture {
                Some(path) => Arc::new(FixtureProvider::from_file(path)?),
                None => Arc::new(FixtureProvider::bundled()?),
            },
        };
        let cache = WeatherCache::new(
            state,
            Duration::from_secs(config.cache_ttl_secs),
            Duration::from_secs(config.stale_ttl_secs),
        );
        // KMA asks at most five times per day (two nowcast hours, one or two forecast pages
        // concurrently with the rest); three deadlines bound them all.
        Ok(Self::new(provider, alerts, cache, timeout * 3))
    }

    pub fn provider_name(&self) -> &'static str {
        self.provider.name()
    }

    /// The day `date` (Asia/Seoul) at a point, as of now.
    pub async fn day(&self, lat: f64, lon: f64, date: NaiveDate) -> Result<DayWeather, WeatherError> {
        self.day_at(lat, lon, date, chrono::Utc::now().timestamp_millis()).await
    }

    /// [`Self::day`] as of `now_ms`.
    #[tracing::instrument(skip(self))]
    pub async fn day_at(
        &self,
        lat: f64,
        lon: f64,
        date: NaiveDate,
        now_ms: i64,
    ) -> Result<DayWeather, WeatherError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(WeatherError::InvalidPoint {
                field: "lat",
                message: "must be a number from -90 to 90",
            });
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(WeatherError::InvalidPoint {
                field: "lon",
                message: "must be a number from -180 to 180",
            });
        }
        let cell = to_grid(lat, lon);
        if !cell.in_domain() {
            return Err(WeatherError::InvalidPoint {
                field: "lat",
                message: "is outside the area forecasts cover (Korea)",
            });
        }
        let region = province_of(lat, lon).to_owned();
        let provider = self.provider.name();
        let hour = seoul_time(now_ms).format("%Y%m%d%H").to_string();
        let keys = Keys::new(provider, &cell.key(), date, &hour);
        let request = DayRequest { lat, lon, cell, date, now_ms };
        let (day, stale) = match self.cache.lookup(&keys).await.fresh {
            Some(day) => (day, false),
            None => {
                let mut turn = self.in_flight.turn(&keys.fresh).await;
                // Whoever had the turn before may have stored the day, or just failed.
                let cached = self.cache.lookup(&keys).await;
                match (cached.fresh, turn.clone()) {
                    (Some(day), _) => (day, false),
                    (None, Some(failed)) => self.fall_back(failed, cached.last)?,
                    (None, None) => match self.fetch(&keys, &request).await {
                        Ok(day) => (day, false),
                        Err(failed) => {
                            *turn = Some(failed.clone());
                            self.fall_back(failed, cached.last)?
                        }
                    },
                }
            }
        };
        let mut slots = day.slots;
        for slot in &mut slots {
            // A snapshot that was stale when cached stays stale.
            slot.stale |= stale;
            match self.alerts.alerts(&region, date, slot.slot).await {
                Ok(alerts) => {
                    for alert in alerts {
                        if !slot.alerts.iter().any(|a| a.kind == alert.kind && a.level == alert.level) {
                            slot.alerts.push(alert);
                        }
                    }
                }
                Err(err) => tracing::warn!(error = %err, "weather alerts unavailable"),
            }
        }
        Ok(DayWeather {
            stale: slots.iter().any(|slot| slot.stale),
            region,
            cell: day.cell,
            date,
            slots,
            provider,
            issued_at_ms: day.issued_at_ms,
        })
    }

    /// Asks the provider and caches its answer.
    async fn fetch(&self, keys: &Keys, request: &DayRequest) -> Result<CachedDay, ProviderError> {
        let fetched = match tokio::time::timeout(self.deadline, self.provider.day(request)).await {
            Ok(result) => result?,
            Err(_) => return Err(ProviderError::Timeout(self.deadline.as_millis() as u64)),
        };
        let day = CachedDay {
            cell: fetched.cell,
            issued_at_ms: fetched.issued_at_ms,
            fetched_at_ms: request.now_ms,
            slots: fetched.slots,
        };
        self.cache.store(keys, &day).await;
        Ok(day)
    }

    /// After a provider failure: the last good day, marked stale, or unavailable.
    fn fall_back(
        &self,
        err: ProviderError,
        last: Option<CachedDay>,
    ) -> Result<(CachedDay, bool), WeatherError> {
        let provider = self.provider.name();
        match last {
            Some(day) => {
                tracing::warn!(error = %err, provider, "weather provider failed; serving the last good day as stale");
                Ok((day, true))
            }
            None => {
                tracing::warn!(error = %err, provider, "weather provider failed with nothing cached");
                Err(WeatherError::Unavailable(err))
            }
        }
    }
}
