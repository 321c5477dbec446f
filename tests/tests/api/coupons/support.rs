//! What the coupon tests share: events opening today, claims as a client sends them (with an
//! idempotency key, retrying what the server says to retry), and the admin's check.

use serde_json::{Value, json};
use std::time::Duration;
use weatherwise_tests::{Session, TestApp};

/// Today in Asia/Seoul, the day coupon events count in.
pub fn today() -> chrono::NaiveDate {
    weatherwise::weather::time::seoul_date(weatherwise::db::now_ms())
}

/// An event open from today's midnight (Asia/Seoul) for `days` days with `quantity` a day.
pub async fn open_event(app: &TestApp, admin: &Session, quantity: i64, days: i64) -> String {
    let body = json!({
        "kind": "americano",
        "title": "Free americano",
        "starts_on": today().to_string(),
        "ends_on": (today() + chrono::Days::new(days as u64 - 1)).to_string(),
        "opens_at": "00:00",
        "daily_quantity": quantity,
    });
    create_event(app, admin, &body).await
}

pub async fn create_event(app: &TestApp, admin: &Session, body: &Value) -> String {
    let response = app.post(admin, "/admin/coupon-events", body).await;
    let status = response.status();
    let created: Value = response.json().await.expect("json");
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("id").to_owned()
}

/// One claim as sent: the status and the body.
pub async fn claim(app: &TestApp, user: &Session, event: &str, key: &str) -> (u16, Value) {
    let response = app
        .http
        .post(app.api(&format!("/coupon-events/{event}/claims")))
        .bearer_auth(&user.access)
        .header("Idempotency-Key", key)
        .send()
        .await
        .expect("claim");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A client for a storm: every connection kept for reuse, as thousands of clients each
/// holding their own would.
pub fn storm_client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(10_000).build().expect("a client")
}

/// A claim's final answer, sent to the API root `api`: a busy (429), unavailable (503) or
/// in-progress (409 `claim_in_progress`) answer is retried with the same key after a pause, as
/// a client told to retry does ([`retry_pause`]). Also counts the retries.
pub async fn claim_to_the_end(
    http: &reqwest::Client,
    api: &str,
    user: &Session,
    event: &str,
    key: &str,
) -> (u16, Value, u32) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    let mut retries = 0;
    loop {
        let sent = http
            .post(format!("{api}/coupon-events/{event}/claims"))
            .bearer_auth(&user.access)
            .header("Idempotency-Key", key)
            .timeout(Duration::from_secs(60))
            .send()
            .await;
        let last = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let busy = [429, 503].contains(&status);
                assert!(
                    !busy || response.headers().contains_key("retry-after"),
                    "{status} without Retry-After"
                );
                let body = response.json().await.unwrap_or(Value::Null);
                if !busy && body["code"] != "claim_in_progress" {
                    return (status, body, retries);
                }
                format!("{status} {}", body["code"])
            }
            // The instance went away mid-request (a fault test): the client tries again.
            Err(err) => err.to_string(),
        };
        assert!(tokio::time::Instant::now() < deadline, "a claim never got a final answer; the last: {last}");
        tokio::time::sleep(retry_pause(retries)).await;
        retries += 1;
    }
}

/// How long a client told to retry waits before its retry number `retries`: from a quarter of
/// the `Retry-After` second the server asks for, doubling to 4 s, each drawn at random from its
/// upper half so that a storm's retries do not come back all at once.
pub fn retry_pause(retries: u32) -> Duration {
    let ceiling = 250u64 << retries.min(4);
    Duration::from_millis(ceiling / 2 + rand::random::<u64>() % (ceiling / 2))
}

/// The admin's end-of-day check of `event` today, retried while the gate cannot be read (a
/// restarted Redis takes a moment to be reconnected to).
pub async fn check(app: &TestApp, admin: &Session, event: &str) -> Value {
    for _ in 0..50 {
        let response = app.get(admin, &format!("/admin/coupon-events/{event}/check")).await;
        match response.status().as_u16() {
            200 => return response.json().await.expect("json"),
            503 => tokio::time::sleep(Duration::from_millis(200)).await,
            status => panic!("the check answered {status}: {}", response.text().await.unwrap_or_default()),
        }
    }
    panic!("the gate stayed unreadable")
}
