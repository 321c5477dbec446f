//! Plugin call benchmark: instantiate + call latency of the bundled generator and of each
//! generator named on the command line (say the minimal test component answering one fixed
//! mission, and the Python example), calls per second with one task per core, and compile time.
//! Release build:
//!
//! `cargo run --release --example plugin_bench -- target/plugins/wasm32-wasip2/plugin/hostile_generator.wasm target/plugins/python/generator_python.wasm`

use std::sync::Arc;
use std::time::{Duration, Instant};
use weatherwise::plugins::bindings::{Precipitation, Sky, Slot, UserContext, WeatherSnapshot};
use weatherwise::plugins::generator::LoadedGenerator;
use weatherwise::plugins::inspect::{self, Loaded};
use weatherwise::plugins::{Limits, PluginEngine, bundled};

const CALLS: usize = 5_000;

fn weather() -> Vec<WeatherSnapshot> {
    [Slot::Morning, Slot::Lunch, Slot::Evening]
        .into_iter()
        .map(|slot| WeatherSnapshot {
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
    let user = UserContext {
        region: region.into(),
        local_date: "2026-11-23".into(),
        recent_mission_keys: Vec::new(),
    };
    for _ in 0..200 {
        generator.generate(engine, &weather, &user).await?;
    }
    let mut samples = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let call = Instant::now();
        generator.generate(engine, &weather, &user).await?;
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
    weather: &Arc<Vec<WeatherSnapshot>>,
    user: &UserContext,
) -> anyhow::Result<f64> {
    let tasks = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (engine, generator, weather, user) =
                (engine.clone(), generator.clone(), weather.clone(), user.clone());
            tokio::spawn(async move {
                for _ in 0..CALLS / 2 {
                    generator.generate(&engine, &weather, &user).await?;
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let engine = Arc::new(PluginEngine::new(Limits::default())?);
    measure(&engine, "bundled generator", bundled::GENERATOR, "서울특별시").await?;
    for path in std::env::args().skip(1) {
        let name =
            std::path::Path::new(&path).file_stem().map_or(path.clone(), |s| s.to_string_lossy().into());
        let label = if name == "hostile_generator" { "minimal generator".to_owned() } else { name };
        measure(&engine, &label, &std::fs::read(&path)?, "calm").await?;
    }
    Ok(())
}
