//! The `[weather]` section of the configuration.

use crate::config::Secret;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeatherConfig {
    /// `fixture` (replayed recordings, no network: the default), `kma` or `open-meteo`.
    pub provider: String,
    /// The root of KMA's short-term forecast service.
    pub kma_base_url: String,
    /// The public-data portal's service key, encoded or decoded; required by `kma`.
    pub kma_service_key: Option<Secret<String>>,
    /// Open-Meteo's host.
    pub open_meteo_base_url: String,
    /// For `fixture`: a recorded `getVilageFcst` answer or a `{"weather":[…]}` file to replay
    /// instead of the bundled recording.
    pub fixture: Option<PathBuf>,
    /// Deadline of each request to a provider.
    pub timeout_ms: u64,
    /// Largest answer read from a provider.
    pub max_response_bytes: usize,
    /// How long a fetched day is served as fresh (within its local hour).
    pub cache_ttl_secs: u64,
    /// How long the last good day is kept to be served, marked stale, while the provider fails.
    pub stale_ttl_secs: u64,
}

impl Default for WeatherConfig {
    fn default() -> Self {
        Self {
            provider: "fixture".into(),
            kma_base_url: "https://apis.data.go.kr/1360000/VilageFcstInfoService_2.0".into(),
            kma_service_key: None,
            open_meteo_base_url: "https://api.open-meteo.com".into(),
            fixture: None,
            timeout_ms: 5_000,
            max_response_bytes: 2 * 1024 * 1024,
            cache_ttl_secs: 3600,
            stale_ttl_secs: 24 * 3600,
        }
    }
}

impl WeatherConfig {
    pub fn validate(&self) -> Result<(), String> {
        match self.provider.as_str() {
            "fixture" | "open-meteo" => {}
            "kma" if self.kma_service_key.as_ref().is_some_and(|key| !key.expose().is_empty()) => {}
            "kma" => return Err("weather.kma_service_key is required by the kma provider".into()),
            _ => return Err("weather.provider must be `fixture`, `kma` or `open-meteo`".into()),
        }
        if self.timeout_ms == 0 || self.max_response_bytes == 0 || self.cache_ttl_secs == 0 {
            return Err(
                "weather: timeout_ms, max_response_bytes and cache_ttl_secs must be above zero".into()
            );
        }
        if self.stale_ttl_secs < self.cache_ttl_secs {
            return Err("weather.stale_ttl_secs must be at least cache_ttl_secs".into());
        }
        Ok(())
    }
}
