//! Where warnings are read from: one trait, three sources. Each answer is parsed in full before
//! it is believed: an error page or a key error is a failed poll (the warnings in force stay
//! as they were), never an empty list that would close every room.

use super::config::AlertsConfig;
use super::hub_text::parse_hub_text;
use super::public_data::parse_pwn_cd;
use super::warning::Warning;
use crate::config::Secret;
use crate::weather::fetch;
use anyhow::Context;
use async_trait::async_trait;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

/// The bundled current-warnings feed: a newcomer's first run shows an open room.
const BUNDLED: &[u8] = include_bytes!("../fixtures/alerts/default.txt");

/// One read of a feed: the warnings it lists, and why any row was passed over.
#[derive(Debug, Default)]
pub struct FeedRead {
    pub warnings: Vec<Warning>,
    pub skipped: Vec<String>,
}

#[async_trait]
pub trait WarningFeed: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    /// The warnings the feed lists now.
    async fn current(&self) -> anyhow::Result<FeedRead>;
}

/// The source named by the configuration.
pub fn from_config(config: &AlertsConfig) -> anyhow::Result<Box<dyn WarningFeed>> {
    let timeout = Duration::from_millis(config.timeout_ms);
    let secret =
        |key: &Option<Secret<String>>| key.as_ref().map(|key| key.expose().clone()).unwrap_or_default();
    Ok(match config.source.as_str() {
        "kma-hub" => Box::new(HubFeed {
            http: fetch::client(timeout)?,
            url: Url::parse(&config.hub_url).context("alerts.hub_url")?,
            auth_key: Secret::new(secret(&config.hub_auth_key)),
            max_bytes: config.max_response_bytes,
        }),
        "public-data" => Box::new(PublicDataFeed {
            http: fetch::client(timeout)?,
            url: Url::parse(&format!("{}/getPwnCd", config.public_data_url.trim_end_matches('/')))
                .context("alerts.public_data_url")?,
            service_key: Secret::new(decoded_key(&secret(&config.public_data_service_key))),
            max_bytes: config.max_response_bytes,
        }),
        _ => Box::new(FixtureFeed { path: config.fixture.clone(), max_bytes: config.max_response_bytes }),
    })
}

/// The portal shows each key twice, encoded and decoded; the request must encode it once.
fn decoded_key(key: &str) -> String {
    if key.contains('%') {
        url::form_urlencoded::parse(format!("k={key}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    } else {
        key.to_owned()
    }
}

/// A recorded feed, read again at every poll.
pub struct FixtureFeed {
    path: Option<PathBuf>,
    max_bytes: usize,
}

#[async_trait]
impl WarningFeed for FixtureFeed {
    fn name(&self) -> &'static str {
        "fixture"
    }

    async fn current(&self) -> anyhow::Result<FeedRead> {
        let body = match &self.path {
            None => BUNDLED.to_vec(),
            Some(path) => {
                let size =
                    tokio::fs::metadata(path).await.with_context(|| format!("{}", path.display()))?.len();
                anyhow::ensure!(
                    size <= self.max_bytes as u64,
                    "the alert fixture exceeds {} bytes",
                    self.max_bytes
                );
                tokio::fs::read(path).await.with_context(|| format!("reading {}", path.display()))?
            }
        };
        let parsed = parse_hub_text(&body)?;
        Ok(FeedRead { warnings: parsed.warnings, skipped: parsed.skipped })
    }
}

/// The API hub's current-warnings text (`wrn_now_data.php`).
pub struct HubFeed {
    http: reqwest::Client,
    url: Url,
    auth_key: Secret<String>,
    max_bytes: usize,
}

#[async_trait]
impl WarningFeed for HubFeed {
    fn name(&self) -> &'static str {
        "kma-hub"
    }

    async fn current(&self) -> anyhow::Result<FeedRead> {
        let mut url = self.url.clone();
        url.query_pairs_mut()
            .append_pair("fe", "f")
            .append_pair("tm", "")
            .append_pair("disp", "0")
            .append_pair("help", "1")
            .append_pair("authKey", self.auth_key.expose());
        let (status, body) = fetch::get(&self.http, url, self.max_bytes).await?;
        anyhow::ensure!(status == 200, "the warning feed answered HTTP {status}");
        let parsed = parse_hub_text(&body)?;
        Ok(FeedRead { warnings: parsed.warnings, skipped: parsed.skipped })
    }
}

/// The public-data portal's structured warnings (`WthrWrnInfoService/getPwnCd`).
pub struct PublicDataFeed {
    http: reqwest::Client,
    url: Url,
    service_key: Secret<String>,
    max_bytes: usize,
}

#[async_trait]
impl WarningFeed for PublicDataFeed {
    fn name(&self) -> &'static str {
        "public-data"
    }

    async fn current(&self) -> anyhow::Result<FeedRead> {
        // The service answers a log of announcements, today's unless asked otherwise; what is
        // in force is what was issued and not lifted since, so read the whole history it keeps
        // (six days).
        let today = crate::weather::seoul_date(chrono::Utc::now().timestamp_millis());
        let from = today - chrono::Days::new(5);
        let mut url = self.url.clone();
        url.query_pairs_mut()
            .append_pair("serviceKey", self.service_key.expose())
            .append_pair("pageNo", "1")
            .append_pair("numOfRows", "1000")
            .append_pair("dataType", "JSON")
            .append_pair("fromTmFc", &from.format("%Y%m%d").to_string())
            .append_pair("toTmFc", &today.format("%Y%m%d").to_string());
        let (status, body) = fetch::get(&self.http, url, self.max_bytes).await?;
        anyhow::ensure!(status == 200, "the warning service answered HTTP {status}");
        let parsed = parse_pwn_cd(&body)?;
        Ok(FeedRead { warnings: parsed.warnings, skipped: parsed.skipped })
    }
}
