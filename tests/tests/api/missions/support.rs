//! Helpers of the mission and verification tests: a deployment with fixture weather and a
//! fake vision endpoint, today's missions, photo uploads, and waiting for decisions.

use serde_json::Value;
use std::time::Duration;
use weatherwise::config::Config;
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::{Deployment, Mode, TestApp};

pub const COFFEE: &[u8] = include_bytes!("../../../fixtures/photos/coffee.png");
/// Seoul City Hall.
pub const SEOUL: (f64, f64) = (37.5665, 126.9780);

/// Fixture weather of a cold, dry day; the fake model answering `behaviour`.
pub fn configure(config: &mut Config, vision: Option<&FakeVision>) {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cold-dry-day.json");
    config.weather.fixture = Some(fixture);
    config.vision.base_url = vision.map(FakeVision::base_url);
    config.vision.max_attempts = 2;
    config.vision.backoff_ms = 50;
    config.vision.timeout_ms = 1_500;
    config.verification.poll_ms = 100;
}

pub async fn deployment(mode: Mode, vision: Option<&FakeVision>) -> Deployment {
    let mut deployment = Deployment::new(mode).await;
    configure(&mut deployment.config, vision);
    deployment
}

pub async fn spawn(mode: Mode, behaviour: Behaviour) -> (TestApp, FakeVision) {
    let vision = FakeVision::start(behaviour).await;
    let app = deployment(mode, Some(&vision)).await.start().await;
    (app, vision)
}

pub async fn today(app: &TestApp, token: &str) -> Value {
    let response = app
        .http
        .get(app.api("/missions/today"))
        .query(&[("lat", SEOUL.0), ("lon", SEOUL.1)])
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "today's missions");
    response.json().await.expect("json")
}

/// The id of today's mission whose key contains `needle`.
pub async fn mission_like(app: &TestApp, token: &str, needle: &str) -> (String, Value) {
    let today = today(app, token).await;
    let mission = today["missions"]
        .as_array()
        .expect("missions")
        .iter()
        .find(|m| m["key"].as_str().is_some_and(|k| k.contains(needle)))
        .unwrap_or_else(|| panic!("no {needle} mission in {today}"))
        .clone();
    (mission["id"].as_str().expect("id").to_owned(), mission)
}

/// Any open mission of today (the first).
pub async fn any_mission(app: &TestApp, token: &str) -> String {
    let today = today(app, token).await;
    today["missions"][0]["id"].as_str().expect("a mission today").to_owned()
}

pub async fn submit(
    app: &TestApp,
    token: &str,
    mission: &str,
    bytes: Vec<u8>,
    mime: &str,
) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("photo").mime_str(mime).expect("mime");
    let form = reqwest::multipart::Form::new().part("photo", part);
    app.http
        .post(app.api(&format!("/missions/{mission}/verifications")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("request")
}

/// Submits and returns the verification id (asserting 202).
pub async fn submitted(app: &TestApp, token: &str, mission: &str, bytes: Vec<u8>, mime: &str) -> String {
    let response = submit(app, token, mission, bytes, mime).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 202, "upload answered {body}");
    body["id"].as_str().expect("verification id").to_owned()
}

pub async fn verification(app: &TestApp, token: &str, id: &str) -> Value {
    app.get_json_as(token, &format!("/verifications/{id}")).await
}

/// Polls until the verification leaves the queue (approved, rejected or needs_review).
pub async fn decided(app: &TestApp, token: &str, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let body = verification(app, token, id).await;
        if !matches!(body["state"].as_str(), Some("queued" | "verifying")) {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "verification {id} undecided after 60 s: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.http.get(app.api(path)).bearer_auth(token).send().await.expect("request");
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("json")
}

pub use weatherwise_tests::photos::distinct_jpeg as distinct_photo;
