//! The HTTP client of the short-term forecast service (`VilageFcstInfoService_2.0`).

use super::envelope::{self, Item, KmaError};
use super::schedule::{self, BaseTime};
use crate::config::Secret;
use crate::weather::fetch::{self, FetchError};
use crate::weather::grid::GridCell;
use chrono::NaiveDateTime;
use std::time::Duration;
use url::Url;

/// Rows per page of a 3-day forecast: one run holds up to about 1,000 rows (12 categories
/// for up to 3 days plus TMN/TMX), so one or two pages.
const VILAGE_ROWS: u32 = 1000;
/// Bound on pages read for one query, whatever `totalCount` claims.
const MAX_PAGES: u32 = 4;
const ULTRA_ROWS: u32 = 60;
const NOWCAST_ROWS: u32 = 10;

pub struct KmaClient {
    http: reqwest::Client,
    base: Url,
    service_key: Secret<String>,
    max_bytes: usize,
}

impl KmaClient {
    /// `base_url` is the service root, e.g.
    /// `https://apis.data.go.kr/1360000/VilageFcstInfoService_2.0`. The portal shows each key
    /// twice, encoded and decoded; either may be configured: an encoded one is decoded here so
    /// that the request encodes it exactly once.
    pub fn new(
        base_url: &str,
        service_key: &str,
        timeout: Duration,
        max_bytes: usize,
    ) -> anyhow::Result<Self> {
        let mut base = Url::parse(base_url)?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let service_key = if service_key.contains('%') {
            url::form_urlencoded::parse(format!("k={service_key}").as_bytes())
                .next()
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default()
        } else {
            service_key.to_owned()
        };
        Ok(Self { http: fetch::client(timeout)?, base, service_key: Secret::new(service_key), max_bytes })
    }

    fn url(
        &self,
        operation: &str,
        base: BaseTime,
        cell: GridCell,
        page: u32,
        rows: u32,
    ) -> Result<Url, KmaError> {
        let mut url = self.base.join(operation).map_err(|err| KmaError::InvalidRequest(err.to_string()))?;
        url.query_pairs_mut()
            .append_pair("serviceKey", self.service_key.expose())
            .append_pair("pageNo", &page.to_string())
            .append_pair("numOfRows", &rows.to_string())
            .append_pair("dataType", "JSON")
            .append_pair("base_date", &base.date_param())
            .append_pair("base_time", &base.time_param())
            .append_pair("nx", &cell.nx.to_string())
            .append_pair("ny", &cell.ny.to_string());
        Ok(url)
    }

    async fn page(
        &self,
        operation: &str,
        base: BaseTime,
        cell: GridCell,
        page: u32,
        rows: u32,
    ) -> Result<envelope::Page, KmaError> {
        let url = self.url(operation, base, cell, page, rows)?;
        let (status, body) = fetch::get(&self.http, url, self.max_bytes).await.map_err(|err| match err {
            FetchError::Transport(message) => KmaError::Transport(message),
            FetchError::TooLarge(limit) => KmaError::TooLarge(limit),
        })?;
        match envelope::parse(&body) {
            Ok(page) if status == 200 => Ok(page),
            // A gateway error page with its own envelope says more than the status.
            Err(err) if !matches!(err, KmaError::Unreadable(_)) => Err(err),
            Err(err) if status == 200 => Err(err),
            _ => Err(KmaError::Http(status)),
        }
    }

    async fn all_pages(
        &self,
        operation: &str,
        base: BaseTime,
        cell: GridCell,
        rows: u32,
    ) -> Result<Vec<Item>, KmaError> {
        let mut items = Vec::new();
        for page_no in 1..=MAX_PAGES {
            let page = self.page(operation, base, cell, page_no, rows).await?;
            let last = page.items.len() < rows as usize
                || items.len() + page.items.len() >= page.total_count as usize;
            items.extend(page.items);
            if last {
                break;
            }
        }
        if items.is_empty() {
            return Err(KmaError::NoData);
        }
        Ok(items)
    }

    /// `getVilageFcst`: the 3-day forecast of one run.
    #[tracing::instrument(skip(self))]
    pub async fn vilage_forecast(&self, base: BaseTime, cell: GridCell) -> Result<Vec<Item>, KmaError> {
        self.all_pages("getVilageFcst", base, cell, VILAGE_ROWS).await
    }

    /// `getUltraSrtFcst`: the next six hours of one `HH30` run.
    #[tracing::instrument(skip(self))]
    pub async fn ultra_short_forecast(&self, base: BaseTime, cell: GridCell) -> Result<Vec<Item>, KmaError> {
        self.all_pages("getUltraSrtFcst", base, cell, ULTRA_ROWS).await
    }

    /// `getUltraSrtNcst`: the latest observation at `now` (local), with the hour it is of.
    /// When the hour is not published yet (NODATA), the previous hour is asked once.
    #[tracing::instrument(skip(self))]
    pub async fn nowcast(
        &self,
        now: NaiveDateTime,
        cell: GridCell,
    ) -> Result<(BaseTime, Vec<Item>), KmaError> {
        let base = schedule::nowcast(now);
        match self.all_pages("getUltraSrtNcst", base, cell, NOWCAST_ROWS).await {
            Err(KmaError::NoData) => {
                let earlier = schedule::previous_hour(base);
                let items = self.all_pages("getUltraSrtNcst", earlier, cell, NOWCAST_ROWS).await?;
                Ok((earlier, items))
            }
            other => other.map(|items| (base, items)),
        }
    }
}
