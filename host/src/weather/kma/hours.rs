//! KMA items → hourly weather (local hours).
//!
//! Forecast items are placed at `fcstDate fcstTime`, observations at `baseDate baseTime`.
//! TMP and T1H are the temperature, PCP and RN1 the hour's precipitation in mm; SNO (fresh
//! snow in cm) stands in when precipitation is snowy but PCP gave no amount, at the usual
//! ten-to-one ratio (1 cm of snow ≈ 1 mm of water). Other categories are not used.

use super::codes;
use super::envelope::Item;
use crate::weather::model::Precipitation;
use crate::weather::slots::{HourWeather, Hours};
use chrono::NaiveDateTime;
use std::collections::BTreeMap;

fn local_hour(date: &str, time: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(&format!("{}{}", date.trim(), time.trim()), "%Y%m%d%H%M").ok()
}

fn build(items: &[Item], at: impl Fn(&Item) -> Option<NaiveDateTime>) -> Hours {
    let mut hours = Hours::new();
    let mut snow_cm: BTreeMap<NaiveDateTime, f64> = BTreeMap::new();
    for item in items {
        let Some(hour) = at(item) else { continue };
        let value = item.value.as_str();
        let weather = hours.entry(hour).or_default();
        match item.category.as_str() {
            "TMP" | "T1H" => weather.temperature_c = codes::number(value).or(weather.temperature_c),
            "SKY" => weather.sky = Some(codes::sky(value)),
            "PTY" => weather.precipitation = codes::precipitation(value).or(weather.precipitation),
            "PCP" | "RN1" => weather.precipitation_mm = codes::amount(value).or(weather.precipitation_mm),
            "REH" => weather.humidity_pct = codes::number(value).or(weather.humidity_pct),
            "WSD" => weather.wind_speed_ms = codes::number(value).or(weather.wind_speed_ms),
            "SNO" => {
                if let Some(cm) = codes::amount(value) {
                    snow_cm.insert(hour, cm);
                }
            }
            _ => {}
        }
    }
    for (hour, cm) in snow_cm {
        let Some(weather) = hours.get_mut(&hour) else { continue };
        let snowy = matches!(weather.precipitation, Some(Precipitation::Snow | Precipitation::RainAndSnow));
        if snowy && weather.precipitation_mm.unwrap_or(0.0) <= 0.0 && cm > 0.0 {
            weather.precipitation_mm = Some(cm);
        }
    }
    hours.retain(|_, weather| *weather != HourWeather::default());
    hours
}

/// Hours of `getVilageFcst` or `getUltraSrtFcst` items.
pub fn forecast_hours(items: &[Item]) -> Hours {
    build(items, |item| local_hour(item.fcst_date.as_deref()?, item.fcst_time.as_deref()?))
}

/// The observed hour of `getUltraSrtNcst` items.
pub fn observation_hours(items: &[Item]) -> Hours {
    build(items, |item| local_hour(&item.base_date, &item.base_time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weather::model::Sky;

    fn forecast(category: &str, time: &str, value: &str) -> Item {
        Item {
            base_date: "20261123".into(),
            base_time: "0200".into(),
            category: category.into(),
            fcst_date: Some("20261123".into()),
            fcst_time: Some(time.into()),
            value: value.into(),
        }
    }

    #[test]
    fn categories_fill_their_fields() {
        let items = [
            forecast("TMP", "0600", "-4"),
            forecast("SKY", "0600", "3"),
            forecast("PTY", "0600", "3"),
            forecast("PCP", "0600", "강수없음"),
            forecast("SNO", "0600", "1.0cm"),
            forecast("REH", "0600", "60"),
            forecast("WSD", "0600", "3.1"),
            forecast("POP", "0600", "60"),
            forecast("TMP", "0700", "-999"),
            forecast("UUU", "0800", "1.2"),
        ];
        let hours = forecast_hours(&items);
        let six = hours[&local_hour("20261123", "0600").expect("hour")];
        assert_eq!(six.temperature_c, Some(-4.0));
        assert_eq!(six.sky, Some(Sky::MostlyCloudy));
        assert_eq!(six.precipitation, Some(Precipitation::Snow));
        assert_eq!(six.precipitation_mm, Some(1.0), "snow depth stands in for a missing amount");
        assert_eq!(six.humidity_pct, Some(60.0));
        assert_eq!(six.wind_speed_ms, Some(3.1));
        assert_eq!(hours.len(), 1, "a missing value and unused categories make no hour");
    }

    #[test]
    fn observations_sit_at_their_base_hour() {
        let mut item = forecast("T1H", "", "3.4");
        item.fcst_date = None;
        item.fcst_time = None;
        item.base_time = "1400".into();
        let hours = observation_hours(&[item]);
        assert_eq!(hours[&local_hour("20261123", "1400").expect("hour")].temperature_c, Some(3.4));
    }
}
