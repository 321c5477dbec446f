//! Weather providers against a local fake replaying recorded KMA and Open-Meteo answers, and
//! `GET /weather` (cache, stale service, errors) in both modes.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;
use std::time::Duration;
use weatherwise::config::Config;
use weatherwise::weather::kma::schedule::BaseTime;
use weatherwise::weather::kma::{KmaClient, KmaError, KmaProvider};
use weatherwise::weather::open_meteo::{OpenMeteoError, OpenMeteoProvider};
use weatherwise::weather::time::{seoul_millis, seoul_time};
use weatherwise::weather::{DayRequest, ProviderError, WeatherProvider, to_grid};
use weatherwise::weather::{Precipitation, Sky, Slot, SlotWeather};
use weatherwise_tests::fake_weather::{FakeWeather, NOWCAST, OPEN_METEO, Reply, ULTRA, VILAGE};
use weatherwise_tests::{Mode, TestApp, assert_problem, both_modes};

both_modes!(
    weather_is_cached_per_cell_and_hour,
    weather_concurrent_misses_ask_the_provider_once,
    weather_is_served_stale_when_the_provider_fails,
    weather_without_a_cached_day_is_unavailable,
    weather_rejects_bad_coordinates_and_dates,
    weather_fixture_is_the_embedded_default,
    weather_fixture_file_chooses_the_day
);

/// A service key as the portal issues it (decoded form): `+`, `/` and `=` must each be encoded
/// exactly once on the wire.
const SERVICE_KEY: &str = "aB3+xY/9k==";
const SEOUL_LAT: f64 = 37.5665;
const SEOUL_LON: f64 = 126.9780;

fn local(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("local time")
}

fn july_14() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 7, 14).expect("date")
}

fn kma_client(fake: &FakeWeather) -> KmaClient {
    KmaClient::new(&fake.kma_base_url(), SERVICE_KEY, Duration::from_secs(5), 2 * 1024 * 1024)
        .expect("client")
}

fn request_at(date: NaiveDate, now: &str) -> DayRequest {
    DayRequest {
        lat: SEOUL_LAT,
        lon: SEOUL_LON,
        cell: to_grid(SEOUL_LAT, SEOUL_LON),
        date,
        now_ms: seoul_millis(local(now)),
    }
}

#[track_caller]
fn assert_slot(
    slot: &SlotWeather,
    which: Slot,
    temperature_c: f32,
    sky: Sky,
    precipitation: Precipitation,
    precipitation_mm: f32,
) {
    assert_eq!(slot.slot, which);
    assert_eq!(slot.temperature_c, temperature_c, "{which:?} temperature");
    assert_eq!(slot.sky, sky, "{which:?} sky");
    assert_eq!(slot.precipitation, precipitation, "{which:?} precipitation");
    assert_eq!(slot.precipitation_mm, precipitation_mm, "{which:?} amount");
    assert!(!slot.stale && slot.alerts.is_empty());
}

#[tokio::test]
async fn kma_day_from_a_recorded_vilage_forecast() {
    let fake = FakeWeather::start().await;
    // Best-effort overlays have nothing to add: only the 3-day run counts.
    fake.set(ULTRA, Reply::Verbatim("nodata-item-empty.json"));
    fake.set(NOWCAST, Reply::Verbatim("nodata-item-empty.json"));
    let provider = KmaProvider::new(kma_client(&fake));
    let day = provider.day(&request_at(july_14(), "2026-07-14 02:30")).await.expect("day");

    assert_eq!(day.provider, "kma");
    assert_eq!(day.cell, "60:127");
    assert_eq!(day.issued_at_ms, seoul_millis(local("2026-07-14 02:00")));
    let [morning, lunch, evening] = &day.slots[..] else { panic!("three slots: {:?}", day.slots) };
    assert_slot(morning, Slot::Morning, 24.0, Sky::Overcast, Precipitation::Rain, 6.5);
    assert_eq!((morning.humidity_pct, morning.wind_speed_ms), (92, 4.3));
    assert_slot(lunch, Slot::Lunch, 28.0, Sky::MostlyCloudy, Precipitation::Shower, 40.0);
    assert_eq!((lunch.humidity_pct, lunch.wind_speed_ms), (75, 5.0));
    assert_slot(evening, Slot::Evening, 24.0, Sky::Clear, Precipitation::None, 0.0);
    assert_eq!((evening.humidity_pct, evening.wind_speed_ms), (80, 3.2));

    let requests = fake.requests(VILAGE);
    assert_eq!(requests.len(), 1, "one page holds the whole run");
    let query = &requests[0].query;
    for (name, value) in [
        ("serviceKey", SERVICE_KEY),
        ("pageNo", "1"),
        ("numOfRows", "1000"),
        ("dataType", "JSON"),
        ("base_date", "20260714"),
        ("base_time", "0200"),
        ("nx", "60"),
        ("ny", "127"),
    ] {
        assert_eq!(query.get(name).map(String::as_str), Some(value), "{name}");
    }
    assert!(
        requests[0].raw_query.contains("serviceKey=aB3%2BxY%2F9k%3D%3D&"),
        "the key is encoded exactly once: {}",
        requests[0].raw_query
    );
    assert_eq!(fake.requests(NOWCAST).len(), 2, "NODATA moved the nowcast back an hour, once");
}

#[tokio::test]
async fn kma_encoded_service_key_is_not_encoded_twice() {
    let fake = FakeWeather::start().await;
    let client = KmaClient::new(&fake.kma_base_url(), "aB3%2BxY%2F9k%3D%3D", Duration::from_secs(5), 1 << 21)
        .expect("client");
    client.nowcast(local("2026-07-14 14:20"), to_grid(SEOUL_LAT, SEOUL_LON)).await.expect("nowcast");
    let seen = &fake.requests(NOWCAST)[0];
    assert_eq!(seen.query["serviceKey"], SERVICE_KEY);
    assert!(seen.raw_query.contains("serviceKey=aB3%2BxY%2F9k%3D%3D&"), "{}", seen.raw_query);
}

#[tokio::test]
async fn kma_today_lays_the_nowcast_and_ultra_short_forecast_over_the_run() {
    let fake = FakeWeather::start().await;
    let provider = KmaProvider::new(kma_client(&fake));
    let day = provider.day(&request_at(july_14(), "2026-07-14 14:50")).await.expect("day");

    // The 14:00 observation (rain, 3.5 mm) and the 14:30 run (15–20 h) replace the 02:00 run
    // where they speak.
    let [morning, lunch, evening] = &day.slots[..] else { panic!("three slots") };
    assert_slot(morning, Slot::Morning, 24.0, Sky::Overcast, Precipitation::Rain, 6.5);
    assert_slot(lunch, Slot::Lunch, 28.0, Sky::MostlyCloudy, Precipitation::Rain, 40.0);
    assert_eq!(lunch.wind_speed_ms, 6.1);
    assert_slot(evening, Slot::Evening, 25.0, Sky::Clear, Precipitation::Rain, 2.0);
    assert_eq!((evening.humidity_pct, evening.wind_speed_ms), (75, 3.0));
    assert_eq!(day.issued_at_ms, seoul_millis(local("2026-07-14 14:30")));

    let ultra = &fake.requests(ULTRA)[0].query;
    assert_eq!((ultra["base_date"].as_str(), ultra["base_time"].as_str()), ("20260714", "1430"));
    assert_eq!(ultra["numOfRows"], "60");
    let nowcast = fake.requests(NOWCAST);
    assert_eq!(nowcast.len(), 1);
    assert_eq!(nowcast[0].query["base_time"], "1400");
    assert_eq!(fake.requests(VILAGE)[0].query["base_time"], "0200", "the run that covers the whole day");
}

#[tokio::test]
async fn kma_nowcast_nodata_falls_back_to_the_previous_hour() {
    let fake = FakeWeather::start().await;
    fake.push(NOWCAST, Reply::Verbatim("nodata-item-empty.json"));
    let (base, items) = kma_client(&fake)
        .nowcast(local("2026-07-14 14:20"), to_grid(SEOUL_LAT, SEOUL_LON))
        .await
        .expect("nowcast");
    assert_eq!(base, BaseTime(local("2026-07-14 13:00")));
    assert_eq!(items.len(), 8);
    let t1h = items.iter().find(|item| item.category == "T1H").expect("T1H");
    assert_eq!((t1h.base_time.as_str(), t1h.value.as_str()), ("1300", "25.1"));
    let asked: Vec<String> = fake.requests(NOWCAST).iter().map(|s| s.query["base_time"].clone()).collect();
    assert_eq!(asked, ["1400", "1300"], "the fake saw the hour, then the hour before");
    assert!(fake.requests(NOWCAST).iter().all(|s| s.query["numOfRows"] == "10"));
}

#[tokio::test]
async fn kma_item_as_a_single_object() {
    let fake = FakeWeather::start().await;
    fake.set(NOWCAST, Reply::Recorded("ultra-srt-ncst-one-item.json"));
    let (_, items) = kma_client(&fake)
        .nowcast(local("2026-07-14 14:20"), to_grid(SEOUL_LAT, SEOUL_LON))
        .await
        .expect("nowcast");
    assert_eq!(items.len(), 1);
    assert_eq!((items[0].category.as_str(), items[0].value.as_str()), ("PTY", "0"));
}

#[tokio::test]
async fn kma_every_error_envelope_has_its_error() {
    let cell = to_grid(SEOUL_LAT, SEOUL_LON);
    let base = BaseTime(local("2026-07-14 02:00"));
    let cases: Vec<(Reply, KmaError)> = vec![
        (Reply::Verbatim("nodata-item-empty.json"), KmaError::NoData),
        (Reply::Verbatim("normal-item-empty.json"), KmaError::NoData),
        (
            Reply::Verbatim("result-10.json"),
            KmaError::InvalidRequest("INVALID_REQUEST_PARAMETER_ERROR".into()),
        ),
        (Reply::Verbatim("result-22.json"), KmaError::QuotaExceeded),
        (Reply::Verbatim("header-only-22.json"), KmaError::QuotaExceeded),
        (Reply::Verbatim("result-30.json"), KmaError::KeyNotRegistered),
        (Reply::Verbatim("service-key-not-registered.xml"), KmaError::KeyNotRegistered),
        (
            Reply::Verbatim("result-99.json"),
            KmaError::Service { code: "99".into(), message: "UNKNOWN_ERROR".into() },
        ),
        (Reply::Down, KmaError::Http(503)),
    ];
    let fake = FakeWeather::start().await;
    let client = kma_client(&fake);
    for (reply, expected) in cases {
        fake.push(VILAGE, reply.clone());
        assert_eq!(client.vilage_forecast(base, cell).await, Err(expected), "{reply:?}");
    }

    // Deadlines and size limits bound what a provider may cost.
    fake.push(VILAGE, Reply::Slow(Duration::from_secs(3)));
    let hasty = KmaClient::new(&fake.kma_base_url(), SERVICE_KEY, Duration::from_millis(300), 1 << 21)
        .expect("client");
    let started = std::time::Instant::now();
    assert!(
        matches!(hasty.vilage_forecast(base, cell).await, Err(KmaError::Transport(m)) if m.contains("timed out"))
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let small =
        KmaClient::new(&fake.kma_base_url(), SERVICE_KEY, Duration::from_secs(5), 4096).expect("client");
    assert_eq!(small.vilage_forecast(base, cell).await, Err(KmaError::TooLarge(4096)));

    // Through the provider, a failing run fails the day.
    fake.push(VILAGE, Reply::Verbatim("result-30.json"));
    let provider = KmaProvider::new(kma_client(&fake));
    let failed = provider.day(&request_at(july_14(), "2026-07-14 02:30")).await;
    assert!(matches!(failed, Err(ProviderError::Kma(KmaError::KeyNotRegistered))), "{failed:?}");
}

#[tokio::test]
async fn open_meteo_day_from_recorded_hours() {
    let fake = FakeWeather::start().await;
    let provider = OpenMeteoProvider::new(&fake.open_meteo_base_url(), Duration::from_secs(5), 1 << 21)
        .expect("provider");
    let day = provider.day(&request_at(july_14(), "2026-07-14 05:00")).await.expect("day");
    assert_eq!((day.provider, day.cell.as_str()), ("open-meteo", "60:127"));
    let [morning, lunch, evening] = &day.slots[..] else { panic!("three slots") };
    assert_slot(morning, Slot::Morning, 23.4, Sky::Overcast, Precipitation::Rain, 3.1);
    assert_eq!((morning.humidity_pct, morning.wind_speed_ms), (92, 3.2));
    assert_slot(lunch, Slot::Lunch, 27.3, Sky::MostlyCloudy, Precipitation::Shower, 12.6);
    assert_eq!((lunch.humidity_pct, lunch.wind_speed_ms), (73, 6.9));
    assert_slot(evening, Slot::Evening, 24.6, Sky::Clear, Precipitation::None, 0.0);

    let query = &fake.requests(OPEN_METEO)[0].query;
    assert_eq!(query["timezone"], "Asia/Seoul");
    assert_eq!(query["wind_speed_unit"], "ms");
    assert_eq!((query["start_date"].as_str(), query["end_date"].as_str()), ("2026-07-14", "2026-07-14"));
    for field in [
        "temperature_2m",
        "relative_humidity_2m",
        "precipitation",
        "weather_code",
        "cloud_cover",
        "wind_speed_10m",
    ] {
        assert!(query["hourly"].split(',').any(|f| f == field), "hourly asks for {field}");
    }
    let lat: f64 = query["latitude"].parse().expect("latitude");
    let lon: f64 = query["longitude"].parse().expect("longitude");
    assert_eq!(to_grid(lat, lon), to_grid(SEOUL_LAT, SEOUL_LON), "asked about the cell's own grid point");

    fake.push(OPEN_METEO, Reply::Verbatim("open-meteo-error.json"));
    let rejected = provider.day(&request_at(july_14(), "2026-07-14 05:00")).await;
    assert!(
        matches!(&rejected, Err(ProviderError::OpenMeteo(OpenMeteoError::Rejected(r))) if r.contains("temperature_3m")),
        "{rejected:?}"
    );
    fake.push(OPEN_METEO, Reply::Down);
    let down = provider.day(&request_at(july_14(), "2026-07-14 05:00")).await;
    assert_eq!(down.err(), Some(ProviderError::OpenMeteo(OpenMeteoError::Http(503))));
}

fn use_kma(config: &mut Config, fake: &FakeWeather) {
    config.weather.provider = "kma".into();
    config.weather.kma_base_url = fake.kma_base_url();
    config.weather.kma_service_key = Some(weatherwise::config::Secret::new(SERVICE_KEY.into()));
}

async fn get_weather(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.http.get(app.api(&format!("/weather?{query}"))).bearer_auth(token).send().await.expect("request")
}

async fn weather_json(app: &TestApp, token: &str, query: &str) -> Value {
    let response = get_weather(app, token, query).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

fn seoul_hour() -> String {
    seoul_time(chrono::Utc::now().timestamp_millis()).format("%Y%m%d%H").to_string()
}

async fn weather_is_cached_per_cell_and_hour(mode: Mode) {
    let fake = FakeWeather::start().await;
    let app = TestApp::spawn_with(mode, |config| use_kma(config, &fake)).await;
    let user = app.new_user().await;
    // Two calls within one local hour; should the hour turn in between, once more.
    for attempt in 0..2 {
        let hour = seoul_hour();
        let before = fake.request_count();
        let first = weather_json(&app, &user.access, &format!("lat={SEOUL_LAT}&lon={SEOUL_LON}")).await;
        let asked = fake.request_count();
        assert!(asked > before, "the first call asks the provider");
        // Another point of the same 5 km cell is the same cached day.
        let second = weather_json(&app, &user.access, "lat=37.5667&lon=126.9782").await;
        if seoul_hour() != hour && attempt == 0 {
            continue;
        }
        assert_eq!(fake.request_count(), asked, "the second call made no request");
        assert_eq!(first["slots"], second["slots"]);
        assert_eq!(first["provider"], "kma");
        assert_eq!(first["region"], "서울특별시");
        assert_eq!(first["cell"], "60:127");
        assert_eq!(first["stale"], false);
        let slots: Vec<&str> = first["slots"]
            .as_array()
            .expect("slots")
            .iter()
            .map(|s| s["slot"].as_str().expect("slot"))
            .collect();
        assert_eq!(slots, ["morning", "lunch", "evening"]);
        break;
    }
    // Another cell is fetched on its own.
    let asked = fake.request_count();
    let busan = weather_json(&app, &user.access, "lat=35.1796&lon=129.0756").await;
    assert_eq!(busan["cell"], "98:76");
    assert_eq!(busan["region"], "부산광역시");
    assert!(fake.request_count() > asked);
    let vilage = fake.requests(VILAGE).pop().expect("a forecast request");
    assert_eq!((vilage.query["nx"].as_str(), vilage.query["ny"].as_str()), ("98", "76"));
}

/// Provider requests made while `calls` run at once for one cell.
async fn requests_during(
    fake: &FakeWeather,
    calls: impl std::future::Future<Output = Vec<u16>>,
) -> (usize, Vec<u16>) {
    let before = fake.request_count();
    let statuses = calls.await;
    (fake.request_count() - before, statuses)
}

async fn weather_concurrent_misses_ask_the_provider_once(mode: Mode) {
    let fake = FakeWeather::start().await;
    let app = TestApp::spawn_with(mode, |config| use_kma(config, &fake)).await;
    let user = app.new_user().await;
    let at_once = |count: usize, point: &'static str| {
        let calls =
            (0..count).map(|_| async { get_weather(&app, &user.access, point).await.status().as_u16() });
        futures::future::join_all(calls)
    };
    // Each attempt uses cells not asked before; should the local hour turn meanwhile, again.
    let cells = [
        [
            "lat=35.1796&lon=129.0756",
            "lat=37.5665&lon=126.9780",
            "lat=35.8714&lon=128.6014",
            "lat=35.1595&lon=126.8526",
        ],
        [
            "lat=36.3504&lon=127.3845",
            "lat=37.4563&lon=126.7052",
            "lat=35.5384&lon=129.3114",
            "lat=33.4996&lon=126.5312",
        ],
    ];
    for (attempt, [alone, crowd, alone_failing, crowd_failing]) in cells.into_iter().enumerate() {
        let hour = seoul_hour();
        fake.set(VILAGE, Reply::Recorded("vilage-fcst-60-127.json"));
        let (one_day, statuses) = requests_during(&fake, at_once(1, alone)).await;
        assert_eq!(statuses, [200]);
        let (thirty, statuses) = requests_during(&fake, at_once(30, crowd)).await;
        assert!(statuses.iter().all(|&status| status == 200), "{statuses:?}");

        // A failing provider: those queued behind the first call share its failure instead of
        // asking again one after another.
        fake.set(VILAGE, Reply::Slow(Duration::from_millis(300)));
        let (one_failure, statuses) = requests_during(&fake, at_once(1, alone_failing)).await;
        assert_eq!(statuses, [503]);
        let (thirty_failing, statuses) = requests_during(&fake, at_once(30, crowd_failing)).await;
        assert!(statuses.iter().all(|&status| status == 503), "{statuses:?}");
        if seoul_hour() != hour && attempt == 0 {
            continue;
        }
        assert!(one_day > 0 && one_failure > 0);
        assert_eq!(thirty, one_day, "thirty concurrent misses cost what one does");
        assert_eq!(thirty_failing, one_failure, "thirty concurrent failures cost what one does");
        return;
    }
    panic!("the local hour turned during both attempts");
}

async fn weather_is_served_stale_when_the_provider_fails(mode: Mode) {
    let fake = FakeWeather::start().await;
    let app = TestApp::spawn_with(mode, |config| {
        use_kma(config, &fake);
        // A fresh answer lives a second, so the next call goes back to the provider.
        config.weather.cache_ttl_secs = 1;
    })
    .await;
    let user = app.new_user().await;
    let query = format!("lat={SEOUL_LAT}&lon={SEOUL_LON}");
    let fresh = weather_json(&app, &user.access, &query).await;
    assert_eq!(fresh["stale"], false);
    assert!(fresh["slots"].as_array().expect("slots").iter().all(|s| s["stale"] == false));

    fake.set(VILAGE, Reply::Down);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let asked = fake.requests(VILAGE).len();
    let stale = weather_json(&app, &user.access, &query).await;
    assert!(fake.requests(VILAGE).len() > asked, "the provider was asked again");
    assert_eq!(stale["stale"], true);
    let slots = stale["slots"].as_array().expect("slots");
    assert_eq!(slots.len(), 3);
    for (old, new) in fresh["slots"].as_array().expect("slots").iter().zip(slots) {
        assert_eq!(new["stale"], true, "every slot is marked");
        assert_eq!(new["temperature_c"], old["temperature_c"]);
        assert_eq!(new["precipitation"], old["precipitation"]);
    }

    // Back up: fresh again, and not marked.
    fake.set(VILAGE, Reply::Recorded("vilage-fcst-60-127.json"));
    let recovered = weather_json(&app, &user.access, &query).await;
    assert_eq!(recovered["stale"], false);
    assert!(recovered["slots"].as_array().expect("slots").iter().all(|s| s["stale"] == false));
}

async fn weather_without_a_cached_day_is_unavailable(mode: Mode) {
    let fake = FakeWeather::start().await;
    fake.set(VILAGE, Reply::Down);
    let app = TestApp::spawn_with(mode, |config| use_kma(config, &fake)).await;
    let user = app.new_user().await;
    let response = get_weather(&app, &user.access, &format!("lat={SEOUL_LAT}&lon={SEOUL_LON}")).await;
    assert_problem(response, 503, "weather_unavailable").await;
    fake.set(VILAGE, Reply::Verbatim("service-key-not-registered.xml"));
    let response = get_weather(&app, &user.access, &format!("lat={SEOUL_LAT}&lon={SEOUL_LON}")).await;
    assert_problem(response, 503, "weather_unavailable").await;
}

async fn weather_rejects_bad_coordinates_and_dates(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.new_user().await;
    let unauthenticated = app.http.get(app.api("/weather?lat=37.5&lon=127")).send().await.expect("request");
    assert_eq!(unauthenticated.status(), 401);
    for (query, field) in [
        ("lon=127", "lat"),
        ("lat=37.5", "lon"),
        ("lat=NaN&lon=127", "lat"),
        ("lat=inf&lon=127", "lat"),
        ("lat=abc&lon=127", "lat"),
        ("lat=200&lon=127", "lat"),
        ("lat=37.5&lon=-181", "lon"),
        ("lat=35.6762&lon=139.6503", "lat"),
        ("lat=37.5&lon=127&date=2020-01-01", "date"),
        ("lat=37.5&lon=127&date=tomorrow", "date"),
    ] {
        let body =
            assert_problem(get_weather(&app, &user.access, query).await, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
}

async fn weather_fixture_is_the_embedded_default(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.new_user().await;
    let day = weather_json(&app, &user.access, "lat=37.7519&lon=128.8761").await;
    assert_eq!(day["provider"], "fixture");
    assert_eq!(day["region"], "강원특별자치도");
    assert_eq!(day["cell"], "92:132");
    let today = weatherwise::weather::seoul_date(chrono::Utc::now().timestamp_millis());
    assert_eq!(day["date"], today.to_string());
    let slots = day["slots"].as_array().expect("slots");
    let temperatures: Vec<f64> = slots.iter().map(|s| s["temperature_c"].as_f64().expect("t")).collect();
    assert_eq!(temperatures, [-4.0, 4.0, 0.0], "the bundled winter day");
    assert_eq!(slots[2]["sky"], "mostly-cloudy");
    assert!(slots.iter().all(|s| s["precipitation"] == "none"));
    // A later day of the 3-day reach is served too.
    let tomorrow = today.succ_opt().expect("date");
    let later = weather_json(&app, &user.access, &format!("lat=37.7519&lon=128.8761&date={tomorrow}")).await;
    assert_eq!(later["date"], tomorrow.to_string());
    assert_eq!(later["slots"].as_array().expect("slots").len(), 3);
}

async fn weather_fixture_file_chooses_the_day(mode: Mode) {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cold-dry-day.json");
    let app = TestApp::spawn_with(mode, |config| config.weather.fixture = Some(fixture)).await;
    let user = app.new_user().await;
    let day = weather_json(&app, &user.access, &format!("lat={SEOUL_LAT}&lon={SEOUL_LON}")).await;
    let slots = day["slots"].as_array().expect("slots");
    assert_eq!(slots[0]["temperature_c"], -4.0);
    assert_eq!(slots[0]["alerts"][0]["kind"], "dry");
    assert_eq!(slots[0]["pm10"], 35);
    assert_eq!(slots[2]["precipitation"], "snow");
    assert_eq!(day["region"], "서울특별시");
    assert_eq!(day["stale"], false);
}
