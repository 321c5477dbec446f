//! Missions benchmark: the share of the generator component in a first "today's missions"
//! request, and upload→verdict throughput with a model that answers at once.
//!
//!   cargo run --release -p weatherwise-tests --example missions_bench -- [embedded|scaled] [users]
//!
//! Prints one line per figure; `bench/missions.sh` runs it and keeps the figures.

use std::time::{Duration, Instant};
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::photos::distinct_jpeg;
use weatherwise_tests::{Deployment, Mode};

const CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mode = match args.next().as_deref() {
        Some("scaled") => Mode::Scaled,
        _ => Mode::Embedded,
    };
    let users: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(400);
    let vision = FakeVision::start(Behaviour::grade(true, 0.95)).await;
    let mut deployment = Deployment::new(mode).await;
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/cold-dry-day.json");
    deployment.config.weather.fixture = Some(fixture);
    deployment.config.vision.base_url = Some(vision.base_url());
    deployment.config.verification.poll_ms = 50;
    deployment.config.log.filter = "error".into();
    let app = deployment.start().await;
    let base = app.api("");
    let state = app.state().clone();
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;

    let mut tokens = Vec::with_capacity(users);
    for _ in 0..users {
        tokens.push(app.user().await.access);
    }

    // First request of the day for every user: weather, the generator component, storage.
    let started = Instant::now();
    let mut latencies = run_concurrently(tokens.iter().cloned(), |token| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let begun = Instant::now();
            let response = http
                .get(format!("{base}/missions/today?lat=37.5665&lon=126.978"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), 200);
            let body: serde_json::Value = response.json().await.expect("json");
            (begun.elapsed(), body["missions"][0]["id"].as_str().map(str::to_owned))
        }
    })
    .await;
    let generation_wall = started.elapsed();
    let plugin_us: Vec<i64> = sqlx::query_scalar(
        "select duration_us from plugin_calls where purpose = 'live' and world = 'mission-generator'",
    )
    .fetch_all(state.adapters.db.pool())
    .await?;
    let request_us: u128 = latencies.iter().map(|(d, _)| d.as_micros()).sum();
    let plugin_total: i64 = plugin_us.iter().sum();
    let mut sorted: Vec<Duration> = latencies.iter().map(|(d, _)| *d).collect();
    sorted.sort();
    println!(
        "generation: {users} first requests in {:.2} s = {:.0} req/s; request p50 {:.2} ms p99 {:.2} ms; \
         generator call p50 {:.0} µs; generator share of request time {:.2} %",
        generation_wall.as_secs_f64(),
        users as f64 / generation_wall.as_secs_f64(),
        ms(sorted[sorted.len() / 2]),
        ms(sorted[sorted.len() * 99 / 100]),
        percentile(&plugin_us, 50),
        100.0 * plugin_total as f64 / request_us as f64,
    );

    // Upload→verdict: a distinct photo per user, decided by the workers.
    let photos: Vec<(String, String, Vec<u8>)> = tokens
        .iter()
        .zip(latencies.drain(..))
        .enumerate()
        .map(|(n, (token, (_, mission)))| {
            (token.clone(), mission.expect("a mission"), distinct_jpeg(n as u64))
        })
        .collect();
    let started = Instant::now();
    let uploads = run_concurrently(photos.into_iter(), |(token, mission, bytes)| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let begun = Instant::now();
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name("p.jpg")
                .mime_str("image/jpeg")
                .expect("mime");
            let response = http
                .post(format!("{base}/missions/{mission}/verifications"))
                .bearer_auth(&token)
                .multipart(reqwest::multipart::Form::new().part("photo", part))
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), 202);
            begun.elapsed()
        }
    })
    .await;
    let uploaded = started.elapsed();
    loop {
        let open: i64 =
            sqlx::query_scalar("select count(*) from verifications where state in ('queued', 'verifying')")
                .fetch_one(state.adapters.db.pool())
                .await?;
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let verdicts = started.elapsed();
    let approved: i64 = sqlx::query_scalar("select count(*) from verifications where state = 'approved'")
        .fetch_one(state.adapters.db.pool())
        .await?;
    let mut sorted = uploads;
    sorted.sort();
    println!(
        "verification: {users} uploads (640x480 JPEG) accepted in {:.2} s, upload p50 {:.2} ms p99 {:.2} ms; \
         all decided after {:.2} s = {:.1} verdicts/s; approved {approved}",
        uploaded.as_secs_f64(),
        ms(sorted[sorted.len() / 2]),
        ms(sorted[sorted.len() * 99 / 100]),
        verdicts.as_secs_f64(),
        users as f64 / verdicts.as_secs_f64(),
    );
    Ok(())
}

async fn run_concurrently<I, T, F, Fut, R>(items: I, task: F) -> Vec<R>
where
    I: Iterator<Item = T>,
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = R>,
{
    use futures::StreamExt;
    futures::stream::iter(items.map(task)).buffered(CONCURRENCY).collect().await
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn percentile(values: &[i64], p: usize) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() * p / 100).copied().unwrap_or_default() as f64
}
