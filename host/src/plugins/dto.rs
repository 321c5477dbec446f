//! JSON shapes of the WIT types, for the admin API and the CLI, with conversions both ways.

use super::bindings::{
    Alert, AlertKind, AlertLevel, Decision, Mission, PhotoFeatures, Precipitation, Sky, Slot, UserContext,
    Verdict, VisionError, WeatherSnapshot,
};
use serde::{Deserialize, Serialize};

macro_rules! mirror_enum {
    ($dto:ident => $wit:ident { $($variant:ident),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "kebab-case")]
        pub enum $dto { $($variant),* }

        impl From<$dto> for $wit {
            fn from(value: $dto) -> Self {
                match value { $($dto::$variant => $wit::$variant),* }
            }
        }

        impl From<$wit> for $dto {
            fn from(value: $wit) -> Self {
                match value { $($wit::$variant => $dto::$variant),* }
            }
        }
    };
}

mirror_enum!(SlotDto => Slot { Morning, Lunch, Evening });
mirror_enum!(SkyDto => Sky { Clear, MostlyCloudy, Overcast, Unknown });
mirror_enum!(PrecipitationDto => Precipitation { None, Rain, RainAndSnow, Snow, Shower, Drizzle });
mirror_enum!(AlertKindDto => AlertKind {
    HeatWave, ColdWave, Typhoon, HeavyRain, HeavySnow, StrongWind, Dry, StormSurge, HighSeas, YellowDust
});
mirror_enum!(AlertLevelDto => AlertLevel { Advisory, Warning });
mirror_enum!(VisionErrorDto => VisionError { BudgetExhausted, Timeout, Unavailable, Refused, InvalidAnswer });
mirror_enum!(DecisionDto => Decision { Approved, Rejected, NeedsReview });

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertDto {
    pub kind: AlertKindDto,
    pub level: AlertLevelDto,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeatherDto {
    pub slot: SlotDto,
    pub temperature_c: f32,
    pub sky: SkyDto,
    pub precipitation: PrecipitationDto,
    #[serde(default)]
    pub precipitation_mm: f32,
    #[serde(default)]
    pub wind_speed_ms: f32,
    #[serde(default)]
    pub humidity_pct: u8,
    #[serde(default)]
    pub pm10: Option<u16>,
    #[serde(default)]
    pub pm25: Option<u16>,
    #[serde(default)]
    pub alerts: Vec<AlertDto>,
    #[serde(default)]
    pub stale: bool,
}

impl From<WeatherDto> for WeatherSnapshot {
    fn from(dto: WeatherDto) -> Self {
        Self {
            slot: dto.slot.into(),
            temperature_c: dto.temperature_c,
            sky: dto.sky.into(),
            precipitation: dto.precipitation.into(),
            precipitation_mm: dto.precipitation_mm,
            wind_speed_ms: dto.wind_speed_ms,
            humidity_pct: dto.humidity_pct.min(100),
            pm10: dto.pm10,
            pm25: dto.pm25,
            alerts: dto
                .alerts
                .into_iter()
                .map(|a| Alert { kind: a.kind.into(), level: a.level.into() })
                .collect(),
            stale: dto.stale,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserContextDto {
    pub region: String,
    pub local_date: String,
    #[serde(default)]
    pub recent_mission_keys: Vec<String>,
}

impl From<UserContextDto> for UserContext {
    fn from(dto: UserContextDto) -> Self {
        Self { region: dto.region, local_date: dto.local_date, recent_mission_keys: dto.recent_mission_keys }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MissionDto {
    pub key: String,
    pub title: String,
    pub description: String,
    pub points: u32,
    pub slot: SlotDto,
    pub rubric: String,
    pub outdoor: bool,
}

impl From<Mission> for MissionDto {
    fn from(m: Mission) -> Self {
        Self {
            key: m.key,
            title: m.title,
            description: m.description,
            points: m.points,
            slot: m.slot.into(),
            rubric: m.rubric,
            outdoor: m.outdoor,
        }
    }
}

impl From<MissionDto> for Mission {
    fn from(m: MissionDto) -> Self {
        Self {
            key: m.key,
            title: m.title,
            description: m.description,
            points: m.points,
            slot: m.slot.into(),
            rubric: m.rubric,
            outdoor: m.outdoor,
        }
    }
}

impl From<&WeatherSnapshot> for WeatherDto {
    fn from(w: &WeatherSnapshot) -> Self {
        Self {
            slot: w.slot.into(),
            temperature_c: w.temperature_c,
            sky: w.sky.into(),
            precipitation: w.precipitation.into(),
            precipitation_mm: w.precipitation_mm,
            wind_speed_ms: w.wind_speed_ms,
            humidity_pct: w.humidity_pct,
            pm10: w.pm10,
            pm25: w.pm25,
            alerts: w
                .alerts
                .iter()
                .map(|a| AlertDto { kind: a.kind.into(), level: a.level.into() })
                .collect(),
            stale: w.stale,
        }
    }
}

impl From<&UserContext> for UserContextDto {
    fn from(u: &UserContext) -> Self {
        Self {
            region: u.region.clone(),
            local_date: u.local_date.clone(),
            recent_mission_keys: u.recent_mission_keys.clone(),
        }
    }
}

/// What the host measured on a photo, as the policy receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhotoFeaturesDto {
    pub handle: u64,
    pub width: u32,
    pub height: u32,
    pub capture_age_seconds: Option<i64>,
    pub gps_distance_m: Option<f32>,
    pub brightness: f32,
    /// 64-bit dHash as 16 hexadecimal digits (a JSON number would lose bits).
    pub perceptual_hash: String,
    pub reused: bool,
}

impl From<&PhotoFeatures> for PhotoFeaturesDto {
    fn from(p: &PhotoFeatures) -> Self {
        Self {
            handle: p.handle,
            width: p.width,
            height: p.height,
            capture_age_seconds: p.capture_age_seconds,
            gps_distance_m: p.gps_distance_m,
            brightness: p.brightness,
            perceptual_hash: format!("{:016x}", p.perceptual_hash),
            reused: p.reused,
        }
    }
}

impl From<&PhotoFeaturesDto> for PhotoFeatures {
    fn from(p: &PhotoFeaturesDto) -> Self {
        Self {
            handle: p.handle,
            width: p.width,
            height: p.height,
            capture_age_seconds: p.capture_age_seconds,
            gps_distance_m: p.gps_distance_m,
            brightness: p.brightness,
            perceptual_hash: u64::from_str_radix(&p.perceptual_hash, 16).unwrap_or(0),
            reused: p.reused,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerdictDto {
    pub decision: DecisionDto,
    pub confidence: f32,
    pub reason: String,
}

impl From<Verdict> for VerdictDto {
    fn from(v: Verdict) -> Self {
        Self { decision: v.decision.into(), confidence: v.confidence, reason: v.reason }
    }
}
