//! Plugin call benchmark: instantiate + call latency of the bundled generator and of each
//! generator named on the command line (the minimal one, `plugins/minimal-generator`: no
//! standard library, no WASI imports, one fixed mission; the Python example), calls per second
//! with one task per core, compile time, the memory one loaded (compiled, pre-linked) version
//! holds, and, through a running embedded server, the share of a generator dry-run request's
//! time spent in the plugin call. Release build:
//!
//! `cargo run --release --example plugin_bench -- target/plugins/wasm32-wasip2/plugin/minimal_generator.wasm target/plugins/python/generator_python.wasm`

use std::sync::Arc;
use std::time::{Duration, Instant};
use weatherwise::language::Language;
use weatherwise::missions::GenerationContext;
use weatherwise::plugins::generator::LoadedGenerator;
use weatherwise::plugins::inspect::{self, Loaded};
use weatherwise::plugins::{Limits, PluginEngine, bundled};
use weatherwise::weather::{Precipitation, Sky, Slot, SlotWeather};

const CALLS: usize = 5_000;

fn weather() -> Vec<SlotWeather> {
    [Slot::Morning, Slot::Lunch, Slot::Evening]
        .into_iter()
        .map(|slot| SlotWeather {
            slot,
            temperature_c: -3.0,
            sky: Sky::Clear,
            precipitation: Precipitation::None,
            precipitation_mm: 0.0,
            wind_speed_ms: 2.0,
            humidity_pct: 30,
            pm10: Some(20),
            pm25: Some(10),
            alerts: Vec::new(),
            stale: false,
        })
        .collect()
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

async fn measure(engine: &Arc<PluginEngine>, label: &str, bytes: &[u8], region: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let (report, loaded) = inspect::load(engine, label, bytes)?;
    let compile = started.elapsed();
    let Loaded::Generator(generator) = loaded else { anyhow::bail!("{label} is not a generator") };
    let generator = Arc::new(generator);
    let weather = Arc::new(weather());
    let user = GenerationContext {
        region: region.into(),
        local_date: "2026-11-23".into(),
        recent_mission_keys: Vec::new(),
        language: Language::Ko,
    };
    for _ in 0..200 {
        generator.generate(engine, &weather, &user, 0).await?;
    }
    let mut samples = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let call = Instant::now();
        generator.generate(engine, &weather, &user, 0).await?;
        samples.push(call.elapsed());
    }
    samples.sort();
    let throughput = parallel_rate(engine, &generator, &weather, &user).await?;
    println!(
        "{label}: {} bytes, compile {:.1} ms, instantiate+call p50 {:.1} µs p99 {:.1} µs, {:.0} calls/s on {} tasks",
        report.size_bytes,
        compile.as_secs_f64() * 1000.0,
        percentile(&samples, 0.5).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        throughput,
        std::thread::available_parallelism().map_or(2, |n| n.get()),
    );
    Ok(())
}

async fn parallel_rate(
    engine: &Arc<PluginEngine>,
    generator: &Arc<LoadedGenerator>,
    weather: &Arc<Vec<SlotWeather>>,
    user: &GenerationContext,
) -> anyhow::Result<f64> {
    let tasks = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (engine, generator, weather, user) =
                (engine.clone(), generator.clone(), weather.clone(), user.clone());
            tokio::spawn(async move {
                for _ in 0..CALLS / 2 {
                    generator.generate(&engine, &weather, &user, 0).await?;
                }
                Ok::<_, anyhow::Error>(())
            })
        })
        .collect();
    for handle in handles {
        handle.await??;
    }
    Ok((tasks * (CALLS / 2)) as f64 / started.elapsed().as_secs_f64())
}

/// Resident memory of this process, from `/proc/self/statm`.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// Loads the same component `n` times as separate versions (each compiled and pre-linked, as
/// the registry keeps them) and reports the resident memory each one adds.
fn memory_per_version(engine: &PluginEngine, label: &str, bytes: &[u8]) -> anyhow::Result<()> {
    const VERSIONS: usize = 20;
    let before = rss_bytes();
    let mut kept = Vec::with_capacity(VERSIONS);
    for i in 0..VERSIONS {
        kept.push(inspect::load(engine, &format!("{label}-{i}"), bytes)?.1);
    }
    let per_version = rss_bytes().saturating_sub(before) / VERSIONS as u64;
    println!(
        "{label}: {:.0} KiB resident per loaded version ({VERSIONS} loaded)",
        per_version as f64 / 1024.0
    );
    drop(kept);
    Ok(())
}

/// Serves an embedded instance and sends generator dry-runs over HTTP: the request's wall time
/// (client side) beside the plugin call's own time (from the call's record).
async fn request_share() -> anyhow::Result<()> {
    use weatherwise::accounts::UserStore as _;
    const REQUESTS: usize = 500;
    let dir = tempfile::tempdir()?;
    let mut config = weatherwise::config::Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    config.http.listen = "127.0.0.1:0".parse()?;
    config.log.filter = "error".into();
    let app = weatherwise::app::App::build(config).await?;
    let users = weatherwise::accounts::SqlUsers::new(app.state().adapters.db.clone());
    let listener = app.bind().await?;
    let base = format!("http://{}/api/v1", listener.local_addr()?);
    tokio::spawn(app.serve(listener, std::future::pending()));
    let http = reqwest::Client::new();
    let credentials = serde_json::json!({"email": "bench@example.com", "password": "bench password 1"});
    let mut signup = credentials.clone();
    signup["nickname"] = "bench".into();
    http.post(format!("{base}/auth/signup")).json(&signup).send().await?.error_for_status()?;
    users.set_role_by_email("bench@example.com", weatherwise::accounts::Role::Admin).await?;
    let login: serde_json::Value =
        http.post(format!("{base}/auth/login")).json(&credentials).send().await?.json().await?;
    let Some(token) = login["access_token"].as_str().map(str::to_owned) else {
        anyhow::bail!("logging in failed: {login}")
    };
    let body: serde_json::Value = serde_json::from_str(include_str!("../../fixtures/cold-dry-day.json"))?;
    let (mut request_us, mut plugin_us) = (Vec::with_capacity(REQUESTS), Vec::with_capacity(REQUESTS));
    for i in 0..REQUESTS + 50 {
        let started = Instant::now();
        let answer: serde_json::Value = http
            .post(format!("{base}/admin/plugins/active/dry-run"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let elapsed = started.elapsed();
        let id = answer["call_id"].as_str().unwrap_or_default();
        let record: serde_json::Value = http
            .get(format!("{base}/admin/plugin-calls/{id}"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        if i >= 50 {
            request_us.push(elapsed.as_secs_f64() * 1e6);
            plugin_us.push(record["duration_us"].as_f64().unwrap_or(0.0));
        }
    }
    let total_request: f64 = request_us.iter().sum();
    let total_plugin: f64 = plugin_us.iter().sum();
    request_us.sort_by(f64::total_cmp);
    plugin_us.sort_by(f64::total_cmp);
    println!(
        "generator dry-run over HTTP (embedded, {REQUESTS} sequential): request p50 {:.0} µs, plugin call p50 {:.0} µs; \
         plugin share of request time {:.1} %",
        request_us[REQUESTS / 2],
        plugin_us[REQUESTS / 2],
        100.0 * total_plugin / total_request
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let engine = Arc::new(PluginEngine::new(Limits::default())?);
    memory_per_version(&engine, "bundled generator", bundled::GENERATOR)?;
    memory_per_version(&engine, "bundled policy", bundled::POLICY)?;
    measure(&engine, "bundled generator", bundled::GENERATOR, "서울특별시").await?;
    for path in std::env::args().skip(1) {
        let name =
            std::path::Path::new(&path).file_stem().map_or(path.clone(), |s| s.to_string_lossy().into());
        let label = if name == "hostile_generator" { "minimal generator".to_owned() } else { name };
        measure(&engine, &label, &std::fs::read(&path)?, "calm").await?;
    }
    request_share().await?;
    Ok(())
}
