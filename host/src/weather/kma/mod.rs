//! The Korea Meteorological Administration's short-term forecast (단기예보) and nowcast.
//!
//! A day is read from the `getVilageFcst` run that covers all its slots
//! ([`schedule::vilage_for_day`]). For today, the next six hours of the latest
//! `getUltraSrtFcst` run and the latest `getUltraSrtNcst` observation are laid over it, hour
//! by hour, so the slot under way reflects what is happening; those two are best effort (a
//! failure is logged and the forecast stands), the 3-day forecast is required.

pub mod client;
pub mod codes;
pub mod envelope;
pub mod hours;
pub mod schedule;

pub use client::KmaClient;
pub use envelope::{Item, KmaError, Page};

use super::provider::{DayRequest, ProviderDay, ProviderError, WeatherProvider};
use super::slots::{self, overlay};
use super::time::{seoul_millis, seoul_time};
use async_trait::async_trait;
use chrono::NaiveDate;

pub struct KmaProvider {
    client: KmaClient,
}

impl KmaProvider {
    pub fn new(client: KmaClient) -> Self {
        Self { client }
    }
}

/// The slots of `date` from the items of one `getVilageFcst` run.
pub fn day_from_forecast(
    items: &[Item],
    date: NaiveDate,
) -> Result<Vec<crate::weather::model::SlotWeather>, ProviderError> {
    Ok(slots::summarise(date, &hours::forecast_hours(items))?)
}

#[async_trait]
impl WeatherProvider for KmaProvider {
    fn name(&self) -> &'static str {
        "kma"
    }

    #[tracing::instrument(skip_all, fields(cell = %request.cell.key(), date = %request.date))]
    async fn day(&self, request: &DayRequest) -> Result<ProviderDay, ProviderError> {
        let now = seoul_time(request.now_ms);
        let cell = request.cell;
        let base = schedule::vilage_for_day(request.date, now);
        let today = request.date == now.date();
        let ultra_base = schedule::ultra_forecast(now);
        let (forecast, ultra, observed) = tokio::join!(
            self.client.vilage_forecast(base, cell),
            async {
                if today { Some(self.client.ultra_short_forecast(ultra_base, cell).await) } else { None }
            },
            async { if today { Some(self.client.nowcast(now, cell).await) } else { None } },
        );
        let mut hours = hours::forecast_hours(&forecast?);
        let mut issued = base;
        match ultra {
            Some(Ok(items)) => {
                overlay(&mut hours, &hours::forecast_hours(&items));
                issued = issued.max(ultra_base);
            }
            Some(Err(err)) => {
                tracing::warn!(error = %err, "ultra-short forecast unavailable; using the 3-day run")
            }
            None => {}
        }
        match observed {
            Some(Ok((observed_at, items))) => {
                overlay(&mut hours, &hours::observation_hours(&items));
                issued = issued.max(observed_at);
            }
            Some(Err(err)) => tracing::warn!(error = %err, "nowcast unavailable; using the forecast"),
            None => {}
        }
        Ok(ProviderDay {
            provider: self.name(),
            cell: cell.key(),
            issued_at_ms: seoul_millis(issued.0),
            slots: slots::summarise(request.date, &hours)?,
        })
    }
}
