//! Open-Meteo's forecast API (no key): `/v1/forecast` with `hourly=` fields for one local day.
//!
//! WMO weather codes map to the product's sky and precipitation; the sky comes from
//! `cloud_cover` when given (KMA's tenths: up to 5 clear, 6–8 mostly cloudy, 9–10 overcast),
//! else from the code. The vocabulary has no fog or thunder: fog (45/48) is an overcast dry
//! sky, thunderstorms (95/96/99) are showers under an overcast sky.

use super::fetch::{self, FetchError};
use super::grid::cell_center;
use super::model::{Precipitation, Sky};
use super::provider::{DayRequest, ProviderDay, ProviderError, WeatherProvider};
use super::slots::{self, HourWeather, Hours};
use async_trait::async_trait;
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;
use url::Url;

const HOURLY: &str =
    "temperature_2m,relative_humidity_2m,precipitation,weather_code,cloud_cover,wind_speed_10m";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpenMeteoError {
    /// `{"error":true,"reason":…}`, with HTTP 400.
    #[error("Open-Meteo rejected the request: {0}")]
    Rejected(String),
    #[error("Open-Meteo answered HTTP {0}")]
    Http(u16),
    #[error("Open-Meteo unreachable: {0}")]
    Transport(String),
    #[error("Open-Meteo answer larger than {0} bytes")]
    TooLarge(usize),
    #[error("unreadable Open-Meteo answer: {0}")]
    Unreadable(String),
}

/// Sky and precipitation of a WMO weather code; `None` for a code outside the table.
pub fn wmo(code: u16) -> Option<(Sky, Precipitation)> {
    use Precipitation as P;
    Some(match code {
        0 | 1 => (Sky::Clear, P::None),
        2 => (Sky::MostlyCloudy, P::None),
        3 | 45 | 48 => (Sky::Overcast, P::None),
        51..=57 => (Sky::Overcast, P::Drizzle),
        61..=67 => (Sky::Overcast, P::Rain),
        71..=77 | 85 | 86 => (Sky::Overcast, P::Snow),
        80..=82 | 95 | 96 | 99 => (Sky::Overcast, P::Shower),
        _ => return None,
    })
}

/// Cloud cover in percent to KMA's three skies.
pub fn sky_of_cloud_cover(percent: f64) -> Sky {
    match percent {
        p if !(0.0..=100.0).contains(&p) => Sky::Unknown,
        p if p <= 50.0 => Sky::Clear,
        p if p <= 80.0 => Sky::MostlyCloudy,
        _ => Sky::Overcast,
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    error: bool,
    reason: Option<String>,
    #[serde(default)]
    hourly_units: HashMap<String, String>,
    hourly: Option<Hourly>,
}

#[derive(Deserialize)]
struct Hourly {
    time: Vec<String>,
    temperature_2m: Option<Vec<Option<f64>>>,
    relative_humidity_2m: Option<Vec<Option<f64>>>,
    precipitation: Option<Vec<Option<f64>>>,
    weather_code: Option<Vec<Option<u16>>>,
    cloud_cover: Option<Vec<Option<f64>>>,
    wind_speed_10m: Option<Vec<Option<f64>>>,
}

/// Hourly weather from an answer body.
pub fn parse(status: u16, body: &[u8]) -> Result<Hours, OpenMeteoError> {
    let answer: Answer = match serde_json::from_slice(body) {
        Ok(answer) => answer,
        Err(_) if status != 200 => return Err(OpenMeteoError::Http(status)),
        Err(err) => return Err(OpenMeteoError::Unreadable(err.to_string())),
    };
    if answer.error {
        return Err(OpenMeteoError::Rejected(answer.reason.unwrap_or_default()));
    }
    if status != 200 {
        return Err(OpenMeteoError::Http(status));
    }
    let hourly = answer.hourly.ok_or_else(|| OpenMeteoError::Unreadable("no `hourly`".into()))?;
    // Asked in m/s; converted should a server answer in its default km/h.
    let wind_factor = match answer.hourly_units.get("wind_speed_10m").map(String::as_str) {
        None | Some("m/s") => 1.0,
        Some("km/h") => 1.0 / 3.6,
        Some(other) => return Err(OpenMeteoError::Unreadable(format!("wind speed in {other}"))),
    };
    let length = hourly.time.len();
    let column = |values: &Option<Vec<Option<f64>>>, index: usize| -> Option<f64> {
        values.as_ref().and_then(|values| values.get(index).copied().flatten()).filter(|v| v.is_finite())
    };
    for (name, len) in [
        ("temperature_2m", hourly.temperature_2m.as_ref().map(Vec::len)),
        ("relative_humidity_2m", hourly.relative_humidity_2m.as_ref().map(Vec::len)),
        ("precipitation", hourly.precipitation.as_ref().map(Vec::len)),
        ("weather_code", hourly.weather_code.as_ref().map(Vec::len)),
        ("cloud_cover", hourly.cloud_cover.as_ref().map(Vec::len)),
        ("wind_speed_10m", hourly.wind_speed_10m.as_ref().map(Vec::len)),
    ] {
        if len.is_some_and(|len| len != length) {
            return Err(OpenMeteoError::Unreadable(format!("`{name}` has a length other than `time`'s")));
        }
    }
    let mut hours = Hours::new();
    for (index, time) in hourly.time.iter().enumerate() {
        let at = NaiveDateTime::parse_from_str(time, "%Y-%m-%dT%H:%M")
            .map_err(|_| OpenMeteoError::Unreadable(format!("time {time:?}")))?;
        let code =
            hourly.weather_code.as_ref().and_then(|codes| codes.get(index).copied().flatten()).and_then(wmo);
        let sky = column(&hourly.cloud_cover, index).map(sky_of_cloud_cover).or(code.map(|(sky, _)| sky));
        let precipitation = code.map(|(_, kind)| kind);
        hours.insert(
            at,
            HourWeather {
                temperature_c: column(&hourly.temperature_2m, index),
                sky,
                precipitation,
                precipitation_mm: column(&hourly.precipitation, index).map(|mm| mm.max(0.0)),
                humidity_pct: column(&hourly.relative_humidity_2m, index),
                wind_speed_ms: column(&hourly.wind_speed_10m, index).map(|speed| speed * wind_factor),
            },
        );
    }
    Ok(hours)
}

pub struct OpenMeteoProvider {
    http: reqwest::Client,
    base: Url,
    max_bytes: usize,
}

impl OpenMeteoProvider {
    /// `base_url` is the host, e.g. `https://api.open-meteo.com`.
    pub fn new(base_url: &str, timeout: Duration, max_bytes: usize) -> anyhow::Result<Self> {
        Ok(Self { http: fetch::client(timeout)?, base: Url::parse(base_url)?, max_bytes })
    }

    /// The request for one local day at a point.
    pub fn url(&self, lat: f64, lon: f64, date: NaiveDate) -> Result<Url, OpenMeteoError> {
        let mut url =
            self.base.join("v1/forecast").map_err(|err| OpenMeteoError::Unreadable(err.to_string()))?;
        let day = date.format("%Y-%m-%d").to_string();
        url.query_pairs_mut()
            .append_pair("latitude", &format!("{lat:.4}"))
            .append_pair("longitude", &format!("{lon:.4}"))
            .append_pair("hourly", HOURLY)
            .append_pair("wind_speed_unit", "ms")
            .append_pair("timezone", "Asia/Seoul")
            .append_pair("start_date", &day)
            .append_pair("end_date", &day);
        Ok(url)
    }

    /// Hourly weather of one local day at a point.
    #[tracing::instrument(skip(self))]
    pub async fn hours(&self, lat: f64, lon: f64, date: NaiveDate) -> Result<Hours, OpenMeteoError> {
        let (status, body) = fetch::get(&self.http, self.url(lat, lon, date)?, self.max_bytes)
            .await
            .map_err(|err| match err {
                FetchError::Transport(message) => OpenMeteoError::Transport(message),
                FetchError::TooLarge(limit) => OpenMeteoError::TooLarge(limit),
            })?;
        parse(status, &body)
    }
}

#[async_trait]
impl WeatherProvider for OpenMeteoProvider {
    fn name(&self) -> &'static str {
        "open-meteo"
    }

    /// Asks about the centre of the request's grid cell, so one cached answer is right for
    /// every point of the cell.
    async fn day(&self, request: &DayRequest) -> Result<ProviderDay, ProviderError> {
        let (lat, lon) = cell_center(request.cell);
        let hours = self.hours(lat, lon, request.date).await?;
        Ok(ProviderDay {
            provider: self.name(),
            cell: request.cell.key(),
            // Open-Meteo models run hourly; the answer is as fresh as the moment of asking.
            issued_at_ms: request.now_ms,
            slots: slots::summarise(request.date, &hours)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wmo_codes() {
        use Precipitation as P;
        let expect = |code: u16, sky: Sky, kind: P| assert_eq!(wmo(code), Some((sky, kind)), "code {code}");
        expect(0, Sky::Clear, P::None);
        expect(1, Sky::Clear, P::None);
        expect(2, Sky::MostlyCloudy, P::None);
        expect(3, Sky::Overcast, P::None);
        expect(45, Sky::Overcast, P::None);
        expect(48, Sky::Overcast, P::None);
        for code in [51, 53, 55, 56, 57] {
            expect(code, Sky::Overcast, P::Drizzle);
        }
        for code in [61, 63, 65, 66, 67] {
            expect(code, Sky::Overcast, P::Rain);
        }
        for code in [71, 73, 75, 77, 85, 86] {
            expect(code, Sky::Overcast, P::Snow);
        }
        for code in [80, 81, 82, 95, 96, 99] {
            expect(code, Sky::Overcast, P::Shower);
        }
        assert_eq!(wmo(4), None);
        assert_eq!(wmo(100), None);
    }

    #[test]
    fn cloud_cover_in_tenths() {
        assert_eq!(sky_of_cloud_cover(0.0), Sky::Clear);
        assert_eq!(sky_of_cloud_cover(50.0), Sky::Clear);
        assert_eq!(sky_of_cloud_cover(75.0), Sky::MostlyCloudy);
        assert_eq!(sky_of_cloud_cover(95.0), Sky::Overcast);
        assert_eq!(sky_of_cloud_cover(-1.0), Sky::Unknown);
    }

    #[test]
    fn errors_and_units() {
        let error =
            br#"{"error":true,"reason":"Cannot initialize WeatherVariable from invalid String value"}"#;
        assert!(matches!(parse(400, error), Err(OpenMeteoError::Rejected(r)) if r.starts_with("Cannot")));
        assert_eq!(parse(502, b"<html>Bad gateway</html>"), Err(OpenMeteoError::Http(502)));
        let kmh = br#"{"hourly_units":{"wind_speed_10m":"km/h"},"hourly":{"time":["2026-11-23T06:00"],"wind_speed_10m":[36.0]}}"#;
        let hours = parse(200, kmh).expect("hours");
        let speed = hours.values().next().and_then(|h| h.wind_speed_ms).expect("wind");
        assert!((speed - 10.0).abs() < 1e-9, "{speed}");
        let ragged = br#"{"hourly":{"time":["2026-11-23T06:00"],"temperature_2m":[1.0,2.0]}}"#;
        assert!(matches!(parse(200, ragged), Err(OpenMeteoError::Unreadable(_))));
    }
}
