//! The weather of a day as the host knows it: what providers produce, what the cache keeps,
//! what `GET /weather` answers and what mission generators are given (each plugin contract
//! version converts it to its own types at the plugin boundary).
//!
//! The JSON written by these types is the public `/weather` body and the cache format: a
//! field is only ever added with a default, and left out when it says nothing, so old cache
//! entries and clients keep working.

use serde::{Deserialize, Serialize};

/// The part of the local day (Asia/Seoul) a snapshot or a mission belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Slot {
    /// 06:00–11:00
    Morning,
    /// 11:00–16:00
    Lunch,
    /// 16:00–22:00
    Evening,
}

impl Slot {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Morning => "morning",
            Self::Lunch => "lunch",
            Self::Evening => "evening",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Morning, Self::Lunch, Self::Evening].into_iter().find(|slot| slot.as_str() == text)
    }
}

/// Cloud cover (KMA SKY; WMO codes mapped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Sky {
    Clear,
    MostlyCloudy,
    Overcast,
    Unknown,
}

/// Precipitation type (KMA PTY; WMO codes mapped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Precipitation {
    None,
    Rain,
    RainAndSnow,
    Snow,
    Shower,
    Drizzle,
}

/// Kinds of KMA weather alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    HeatWave,
    ColdWave,
    Typhoon,
    HeavyRain,
    HeavySnow,
    StrongWind,
    Dry,
    StormSurge,
    HighSeas,
    YellowDust,
}

/// An advisory (주의보) is weaker than a warning (경보).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AlertLevel {
    Advisory,
    Warning,
}

/// An alert in force for a place during a slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    pub kind: AlertKind,
    pub level: AlertLevel,
    /// The area the alert covers as the warning names it (e.g. `서울동남권`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
}

/// The weather of one slot. Units are SI; unknown measurements are absent.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotWeather {
    pub slot: Slot,
    /// Air temperature in °C.
    pub temperature_c: f32,
    pub sky: Sky,
    pub precipitation: Precipitation,
    /// Millimetres per hour (0 when none).
    #[serde(default)]
    pub precipitation_mm: f32,
    /// Metres per second.
    #[serde(default)]
    pub wind_speed_ms: f32,
    /// Relative humidity, 0–100.
    #[serde(default)]
    pub humidity_pct: u8,
    /// Fine dust PM10 in µg/m³, when known.
    #[serde(default)]
    pub pm10: Option<u16>,
    /// Ultrafine dust PM2.5 in µg/m³, when known.
    #[serde(default)]
    pub pm25: Option<u16>,
    /// Alerts in force; empty most days.
    #[serde(default)]
    pub alerts: Vec<Alert>,
    /// True when only an old snapshot could be served.
    #[serde(default)]
    pub stale: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `/weather` body and the cache entries written before alerts named an area.
    #[test]
    fn the_json_shape_is_unchanged_for_existing_clients_and_cache_entries() {
        let old = r#"{"slot":"lunch","temperature_c":28.0,"sky":"mostly-cloudy","precipitation":"rain-and-snow","precipitation_mm":1.5,"wind_speed_ms":3.0,"humidity_pct":80,"pm10":null,"pm25":12,"alerts":[{"kind":"heat-wave","level":"warning"}],"stale":false}"#;
        let slot: SlotWeather = serde_json::from_str(old).expect("an old entry reads");
        assert_eq!(slot.alerts[0].area, None);
        assert_eq!(serde_json::to_string(&slot).expect("json"), old, "written back byte for byte");
        let with_area = Alert { area: Some("서울동남권".into()), ..slot.alerts[0].clone() };
        assert_eq!(
            serde_json::to_string(&with_area).expect("json"),
            r#"{"kind":"heat-wave","level":"warning","area":"서울동남권"}"#
        );
    }
}
