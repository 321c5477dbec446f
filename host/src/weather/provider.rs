//! The one trait every weather source implements.

use super::grid::GridCell;
use super::kma::KmaError;
use super::model::SlotWeather;
use super::open_meteo::OpenMeteoError;
use super::slots::MissingSlot;
use async_trait::async_trait;
use chrono::NaiveDate;

/// What a provider is asked: the day of one place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayRequest {
    pub lat: f64,
    pub lon: f64,
    /// The KMA grid cell of the point; the cache key, and KMA's own `nx`/`ny`.
    pub cell: GridCell,
    /// The local (Asia/Seoul) date wanted.
    pub date: NaiveDate,
    /// The instant of asking, unix ms: it decides which publications exist yet.
    pub now_ms: i64,
}

/// A provider's answer: the day's three slots in slot order, and where they come from.
#[derive(Debug, Clone)]
pub struct ProviderDay {
    pub provider: &'static str,
    /// `nx:ny` of the grid cell.
    pub cell: String,
    /// When the newest data used was issued (a forecast's base time, an observation's hour),
    /// unix ms.
    pub issued_at_ms: i64,
    pub slots: Vec<SlotWeather>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    #[error(transparent)]
    Kma(#[from] KmaError),
    #[error(transparent)]
    OpenMeteo(#[from] OpenMeteoError),
    #[error(transparent)]
    MissingSlot(#[from] MissingSlot),
    #[error("weather fixture: {0}")]
    Fixture(String),
    #[error("the weather provider took longer than {0} ms")]
    Timeout(u64),
}

#[async_trait]
pub trait WeatherProvider: Send + Sync + 'static {
    /// A short stable name (`kma`, `open-meteo`, `fixture`), in answers and cache keys.
    fn name(&self) -> &'static str;

    /// The day's three slot snapshots, morning, lunch and evening, with no alerts (the
    /// service adds those) and `stale` false.
    async fn day(&self, request: &DayRequest) -> Result<ProviderDay, ProviderError>;
}
