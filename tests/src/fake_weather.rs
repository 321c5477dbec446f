//! A local stand-in for KMA's short-term forecast service and Open-Meteo, replaying recorded
//! answers from `tests/fixtures/weather/` in their real formats.
//!
//! Recordings are of fixed days; the fake moves their dates to the ones asked (KMA: the
//! requested `base_date`/`base_time`; Open-Meteo: `start_date`), as the live services would
//! answer. Every request is recorded, so tests can count them and check their parameters.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The KMA service root under the fake, as in `https://apis.data.go.kr/…`.
pub const KMA_ROOT: &str = "/1360000/VilageFcstInfoService_2.0";
pub const VILAGE: &str = "getVilageFcst";
pub const ULTRA: &str = "getUltraSrtFcst";
pub const NOWCAST: &str = "getUltraSrtNcst";
pub const OPEN_METEO: &str = "forecast";

/// A recorded file by name.
pub fn recording(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/weather").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[derive(Debug, Clone)]
pub enum Reply {
    /// A recorded JSON answer, re-dated to the request.
    Recorded(&'static str),
    /// A recorded file exactly as it is (error envelopes, XML), with HTTP 200.
    Verbatim(&'static str),
    /// The service is down: 503 with an HTML page, as a gateway answers.
    Down,
    /// Answers after this long (to test deadlines), with an empty JSON object.
    Slow(std::time::Duration),
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub operation: String,
    pub query: HashMap<String, String>,
    pub raw_query: String,
}

#[derive(Default)]
struct Inner {
    standing: HashMap<String, Reply>,
    queued: HashMap<String, VecDeque<Reply>>,
    seen: Vec<Seen>,
}

#[derive(Clone, Default)]
pub struct FakeWeather {
    inner: Arc<Mutex<Inner>>,
    pub address: Option<SocketAddr>,
}

impl FakeWeather {
    /// Starts with KMA and Open-Meteo answering their normal recordings.
    pub async fn start() -> Self {
        let mut fake = Self::default();
        fake.set(VILAGE, Reply::Recorded("vilage-fcst-60-127.json"));
        fake.set(ULTRA, Reply::Recorded("ultra-srt-fcst.json"));
        fake.set(NOWCAST, Reply::Recorded("ultra-srt-ncst.json"));
        fake.set(OPEN_METEO, Reply::Recorded("open-meteo-hourly.json"));
        let router = Router::new()
            .route(&format!("{KMA_ROOT}/{{operation}}"), get(kma))
            .route("/v1/forecast", get(open_meteo))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake weather");
        fake.address = Some(listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        fake
    }

    pub fn kma_base_url(&self) -> String {
        format!("http://{}{KMA_ROOT}", self.address.expect("started"))
    }

    pub fn open_meteo_base_url(&self) -> String {
        format!("http://{}", self.address.expect("started"))
    }

    /// The reply to every request for `operation` from now on.
    pub fn set(&self, operation: &str, reply: Reply) {
        self.inner.lock().expect("lock").standing.insert(operation.into(), reply);
    }

    /// The reply to the next request for `operation` only.
    pub fn push(&self, operation: &str, reply: Reply) {
        self.inner.lock().expect("lock").queued.entry(operation.into()).or_default().push_back(reply);
    }

    pub fn requests(&self, operation: &str) -> Vec<Seen> {
        self.inner.lock().expect("lock").seen.iter().filter(|s| s.operation == operation).cloned().collect()
    }

    pub fn request_count(&self) -> usize {
        self.inner.lock().expect("lock").seen.len()
    }

    fn next_reply(&self, seen: Seen) -> Reply {
        let mut inner = self.inner.lock().expect("lock");
        let operation = seen.operation.clone();
        inner.seen.push(seen);
        if let Some(reply) = inner.queued.get_mut(&operation).and_then(VecDeque::pop_front) {
            return reply;
        }
        inner.standing.get(&operation).cloned().unwrap_or(Reply::Down)
    }
}

fn seen(operation: &str, raw_query: Option<String>) -> Seen {
    let raw_query = raw_query.unwrap_or_default();
    let query = url::form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
    Seen { operation: operation.into(), query, raw_query }
}

fn shift_date(text: &str, days: i64, format: &str) -> String {
    chrono_like::shift(text, days, format)
}

async fn reply(reply: Reply, redate: impl FnOnce(Value) -> Value) -> Response {
    match reply {
        Reply::Recorded(name) => {
            let value: Value = serde_json::from_str(&recording(name)).expect("recorded JSON");
            ([(header::CONTENT_TYPE, "application/json;charset=UTF-8")], redate(value).to_string())
                .into_response()
        }
        Reply::Verbatim(name) => {
            let content_type = if name.ends_with(".xml") {
                "text/xml;charset=UTF-8"
            } else {
                "application/json;charset=UTF-8"
            };
            ([(header::CONTENT_TYPE, content_type)], recording(name)).into_response()
        }
        Reply::Down => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body><h1>503 Service Unavailable</h1></body></html>",
        )
            .into_response(),
        Reply::Slow(delay) => {
            tokio::time::sleep(delay).await;
            ([(header::CONTENT_TYPE, "application/json")], "{}").into_response()
        }
    }
}

async fn kma(
    State(fake): State<FakeWeather>,
    Path(operation): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let request = seen(&operation, raw);
    let asked = format!(
        "{}{}",
        request.query.get("base_date").map(String::as_str).unwrap_or_default(),
        request.query.get("base_time").map(String::as_str).unwrap_or_default()
    );
    let next = fake.next_reply(request);
    reply(next, move |mut value| {
        let Some(items) = value.pointer_mut("/response/body/items/item").and_then(Value::as_array_mut) else {
            return value;
        };
        // The recording moves by the distance from its base time to the one asked, so its
        // forecast hours keep their distance from the base.
        let recorded = items
            .first()
            .map(|item| {
                format!(
                    "{}{}",
                    item["baseDate"].as_str().unwrap_or(""),
                    item["baseTime"].as_str().unwrap_or("")
                )
            })
            .unwrap_or_default();
        let minutes = chrono_like::minutes_between(&recorded, &asked);
        for item in items {
            for (date, time) in [("baseDate", "baseTime"), ("fcstDate", "fcstTime")] {
                let (Some(d), Some(t)) = (item[date].as_str(), item[time].as_str()) else { continue };
                let (d, t) = chrono_like::shift_minutes(d, t, minutes);
                item[date] = Value::String(d);
                item[time] = Value::String(t);
            }
        }
        value
    })
    .await
}

async fn open_meteo(State(fake): State<FakeWeather>, RawQuery(raw): RawQuery) -> Response {
    let request = seen(OPEN_METEO, raw);
    let start = request.query.get("start_date").cloned().unwrap_or_default();
    let next = fake.next_reply(request);
    reply(next, move |mut value| {
        let Some(times) = value.pointer_mut("/hourly/time").and_then(Value::as_array_mut) else {
            return value;
        };
        let recorded = times.first().and_then(Value::as_str).map(|t| t[..10].to_owned()).unwrap_or_default();
        let days = chrono_like::days_between(&recorded, &start, "%Y-%m-%d");
        for time in times {
            if let Some(text) = time.as_str().map(str::to_owned) {
                *time =
                    Value::String(format!("{}{}", shift_date(&text[..10], days, "%Y-%m-%d"), &text[10..]));
            }
        }
        value
    })
    .await
}

/// Date arithmetic on the text forms the services use.
mod chrono_like {
    use chrono::{Duration, NaiveDate, NaiveDateTime};

    pub fn days_between(from: &str, to: &str, format: &str) -> i64 {
        match (NaiveDate::parse_from_str(from, format), NaiveDate::parse_from_str(to, format)) {
            (Ok(from), Ok(to)) => (to - from).num_days(),
            _ => 0,
        }
    }

    fn at(text: &str) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M").ok()
    }

    pub fn minutes_between(from: &str, to: &str) -> i64 {
        match (at(from), at(to)) {
            (Some(from), Some(to)) => (to - from).num_minutes(),
            _ => 0,
        }
    }

    /// `YYYYMMDD`, `HHmm` moved by `minutes`.
    pub fn shift_minutes(date: &str, time: &str, minutes: i64) -> (String, String) {
        match at(&format!("{date}{time}")) {
            Some(moment) => {
                let moved = moment + Duration::minutes(minutes);
                (moved.format("%Y%m%d").to_string(), moved.format("%H%M").to_string())
            }
            None => (date.to_owned(), time.to_owned()),
        }
    }

    pub fn shift(text: &str, days: i64, format: &str) -> String {
        NaiveDate::parse_from_str(text, format)
            .map(|date| (date + Duration::days(days)).format(format).to_string())
            .unwrap_or_else(|_| text.to_owned())
    }
}
