//! Weather: the day's three slot snapshots (morning, lunch, evening) at a place.
//!
//! - [`model`]: [`SlotWeather`] and its vocabulary (slots, sky, precipitation, alerts): the
//!   host's own types, which providers fill, the cache keeps, `/weather` answers and the
//!   plugin boundary converts for each contract version;
//! - [`provider`]: the [`WeatherProvider`] trait; implementations [`kma`] (short-term forecast
//!   and nowcast, with its envelopes, codes and publication schedule), [`open_meteo`], and
//!   [`fixture`] (replayed recordings: the embedded default);
//! - [`slots`]: hourly weather → slots, one rule for every provider;
//! - [`grid`]: KMA's Lambert grid, whose cells key the cache; [`region`]: the province;
//! - [`time`]: Asia/Seoul dates and slot hours;
//! - [`service`]: [`WeatherService`], the provider behind the shared [`cache`], serving stale
//!   data (marked so) only when the provider fails; [`alerts`]: KMA's warnings, polled,
//!   recorded and joined to every snapshot of their province;
//! - [`routes`]: `GET /weather`.

pub mod alerts;
pub mod cache;
pub mod config;
pub mod fetch;
pub mod fixture;
pub mod grid;
pub mod kma;
pub mod model;
pub mod open_meteo;
pub mod provider;
pub mod region;
pub mod routes;
pub mod service;
pub mod single_flight;
pub mod slots;
pub mod time;

pub use alerts::AlertSource;
pub use config::WeatherConfig;
pub use grid::{GridCell, to_grid};
pub use model::{Alert, AlertKind, AlertLevel, Precipitation, Sky, Slot, SlotWeather};
pub use provider::{DayRequest, ProviderDay, ProviderError, WeatherProvider};
pub use region::province_of;
pub use service::{DayWeather, WeatherError, WeatherService};
pub use time::{seoul_date, slot_of};
