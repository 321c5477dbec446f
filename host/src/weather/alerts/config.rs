//! The `[alerts]` section: where weather warnings come from and how often they are read.

use crate::config::Secret;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// `fixture` (a recorded current-warnings feed read at every poll: the default, no
    /// network), `kma-hub` (the API hub's text feed) or `public-data` (the portal's `getPwnCd`).
    pub source: String,
    /// For `fixture`: a current-warnings text file (UTF-8 or EUC-KR) instead of the bundled
    /// one, read again at every poll, so replacing it changes the warnings.
    pub fixture: Option<PathBuf>,
    /// The API hub's current-warnings address.
    pub hub_url: String,
    /// The API hub's `authKey`; required by `kma-hub`.
    pub hub_auth_key: Option<Secret<String>>,
    /// The public-data portal's warning service root.
    pub public_data_url: String,
    /// The portal's service key, encoded or decoded; required by `public-data`.
    pub public_data_service_key: Option<Secret<String>>,
    /// How often the feed is read.
    pub poll_interval_secs: u64,
    /// The poller's lease in the shared state: one instance polls; another takes over within
    /// this long of the holder's death.
    pub lease_secs: u64,
    /// Deadline of one read of the feed.
    pub timeout_ms: u64,
    /// Largest answer read from the feed.
    pub max_response_bytes: usize,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            source: "fixture".into(),
            fixture: None,
            hub_url: "https://apihub.kma.go.kr/api/typ01/url/wrn_now_data.php".into(),
            hub_auth_key: None,
            public_data_url: "https://apis.data.go.kr/1360000/WthrWrnInfoService".into(),
            public_data_service_key: None,
            poll_interval_secs: 3600,
            lease_secs: 30,
            timeout_ms: 10_000,
            max_response_bytes: 1024 * 1024,
        }
    }
}

impl AlertsConfig {
    pub fn validate(&self) -> Result<(), String> {
        let has = |key: &Option<Secret<String>>| key.as_ref().is_some_and(|key| !key.expose().is_empty());
        match self.source.as_str() {
            "fixture" => {}
            "kma-hub" if has(&self.hub_auth_key) => {}
            "kma-hub" => return Err("alerts.hub_auth_key is required by the kma-hub source".into()),
            "public-data" if has(&self.public_data_service_key) => {}
            "public-data" => {
                return Err("alerts.public_data_service_key is required by the public-data source".into());
            }
            _ => return Err("alerts.source must be `fixture`, `kma-hub` or `public-data`".into()),
        }
        if self.poll_interval_secs == 0 || self.timeout_ms == 0 || self.max_response_bytes == 0 {
            return Err("alerts: poll_interval_secs, timeout_ms and max_response_bytes above zero".into());
        }
        if !(3..=3600).contains(&self.lease_secs) {
            return Err("alerts.lease_secs: 3 to 3600".into());
        }
        Ok(())
    }
}
