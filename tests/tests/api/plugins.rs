//! The plugin sandbox: the bundled components work, and misbehaving components built from
//! `plugins/hostile-*` fail only their own call, each with its own error kind.

use std::sync::Arc;
use std::time::{Duration, Instant};
use weatherwise::plugins::bindings::{
    Alert, AlertKind, AlertLevel, Decision, Mission, PhotoFeatures, Precipitation, Sky, Slot, UserContext,
    VisionError, WeatherSnapshot,
};
use weatherwise::plugins::generator::LoadedGenerator;
use weatherwise::plugins::inspect::{self, InspectError, Loaded};
use weatherwise::plugins::policy::{LoadedPolicy, Vision, VisionAnswer};
use weatherwise::plugins::{CallErrorKind, Limits, PluginEngine, World, bundled};
use weatherwise_tests::component;

fn test_limits() -> Limits {
    Limits { fuel: 20_000_000, timeout_ms: 500, max_memory_bytes: 32 << 20, ..Limits::default() }
}

fn snapshot(
    slot: Slot,
    temperature_c: f32,
    sky: Sky,
    precipitation: Precipitation,
    alerts: Vec<Alert>,
) -> WeatherSnapshot {
    WeatherSnapshot {
        slot,
        temperature_c,
        sky,
        precipitation,
        precipitation_mm: if precipitation == Precipitation::None { 0.0 } else { 3.0 },
        wind_speed_ms: 2.0,
        humidity_pct: 40,
        pm10: Some(30),
        pm25: Some(12),
        alerts,
        stale: false,
    }
}

fn cold_dry_day() -> Vec<WeatherSnapshot> {
    vec![
        snapshot(Slot::Morning, -4.0, Sky::Clear, Precipitation::None, vec![]),
        snapshot(Slot::Lunch, 1.0, Sky::Clear, Precipitation::None, vec![]),
        snapshot(Slot::Evening, -2.0, Sky::MostlyCloudy, Precipitation::Snow, vec![]),
    ]
}

fn user(region: &str, recent: &[&str]) -> UserContext {
    UserContext {
        region: region.into(),
        local_date: "2026-11-23".into(),
        recent_mission_keys: recent.iter().map(|key| key.to_string()).collect(),
    }
}

fn generator(engine: &PluginEngine, name: &str) -> LoadedGenerator {
    match inspect::load(engine, name, &component(name)).expect("loads").1 {
        Loaded::Generator(generator) => generator,
        Loaded::Policy(_) => panic!("{name} is not a generator"),
    }
}

fn policy(engine: &PluginEngine, name: &str) -> LoadedPolicy {
    match inspect::load(engine, name, &component(name)).expect("loads").1 {
        Loaded::Policy(policy) => policy,
        Loaded::Generator(_) => panic!("{name} is not a policy"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundled_generator_follows_the_weather_and_avoids_repeats() {
    let engine = PluginEngine::new(Limits::default()).expect("engine");
    let (report, loaded) = inspect::load(&engine, "bundled", bundled::GENERATOR).expect("bundled generator");
    assert_eq!(report.world, World::MissionGenerator);
    let Loaded::Generator(generator) = loaded else { panic!("generator") };
    let generated =
        generator.generate(&engine, &cold_dry_day(), &user("서울특별시", &[]), 0).await.expect("generate");
    let keys: Vec<&str> = generated.missions.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(generated.missions.len(), 3, "{keys:?}");
    assert_eq!(
        generated.missions.iter().map(|m| m.slot).collect::<Vec<_>>(),
        [Slot::Morning, Slot::Lunch, Slot::Evening]
    );
    assert_eq!(keys[0], "cold-tumbler", "cold and dry: bring a tumbler");
    assert!(keys[2].starts_with("snow-"), "snow in the evening: {keys:?}");
    let distinct: std::collections::HashSet<&&str> = keys.iter().collect();
    assert_eq!(distinct.len(), 3, "no mission twice in a day");

    let next_day =
        generator.generate(&engine, &cold_dry_day(), &user("서울특별시", &keys), 0).await.expect("generate");
    assert!(
        next_day.missions.iter().all(|m| !keys.contains(&m.key.as_str())),
        "recent missions are not repeated"
    );
    assert!(generated.fuel_used > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outdoor_missions_are_dropped_under_a_warning_whatever_the_generator_says() {
    let engine = PluginEngine::new(test_limits()).expect("engine");
    let hostile = generator(&engine, "hostile_generator");
    let typhoon = Alert { kind: AlertKind::Typhoon, level: AlertLevel::Warning };
    let advisory = Alert { kind: AlertKind::HeatWave, level: AlertLevel::Advisory };
    let weather = vec![
        snapshot(Slot::Morning, 24.0, Sky::Overcast, Precipitation::Rain, vec![typhoon]),
        snapshot(Slot::Lunch, 31.0, Sky::Clear, Precipitation::None, vec![advisory]),
        snapshot(Slot::Evening, 20.0, Sky::Clear, Precipitation::None, vec![]),
    ];
    let generated = hostile.generate(&engine, &weather, &user("outdoor", &[]), 0).await.expect("generate");
    assert_eq!(generated.dropped_for_safety, ["outdoor-morning"]);
    assert_eq!(generated.missions.iter().map(|m| m.slot).collect::<Vec<_>>(), [Slot::Lunch, Slot::Evening]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_misbehaviour_gets_its_own_error_kind() {
    let engine = PluginEngine::new(test_limits()).expect("engine");
    let hostile = generator(&engine, "hostile_generator");
    let weather = cold_dry_day();
    for (region, expected) in [
        ("loop", vec![CallErrorKind::OutOfFuel, CallErrorKind::Timeout]),
        ("grow", vec![CallErrorKind::MemoryLimit]),
        ("recurse", vec![CallErrorKind::Trap]),
        ("panic", vec![CallErrorKind::Trap]),
        ("huge", vec![CallErrorKind::InvalidOutput, CallErrorKind::MemoryLimit]),
        ("invalid", vec![CallErrorKind::InvalidOutput]),
        ("too-many", vec![CallErrorKind::InvalidOutput]),
        ("error", vec![CallErrorKind::PluginError]),
    ] {
        let started = Instant::now();
        let err = hostile.generate(&engine, &weather, &user(region, &[]), 0).await.expect_err(region);
        assert!(expected.contains(&err.kind), "{region}: got {:?} ({})", err.kind, err.message);
        assert!(started.elapsed() < Duration::from_secs(5), "{region} was stopped in time");
    }
    // Flooding the log is harmless: the extra lines are dropped.
    assert!(hostile.generate(&engine, &weather, &user("log-flood", &[]), 0).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_world_and_corrupt_files_are_refused() {
    let engine = PluginEngine::new(test_limits()).expect("engine");
    let command = component("not-a-plugin");
    assert!(matches!(inspect::load(&engine, "cmd", &command), Err(InspectError::UnknownWorld(_))));
    let generator_bytes = component("generator_default");
    for corrupt in [
        b"definitely not wasm".to_vec(),
        Vec::new(),
        generator_bytes[..generator_bytes.len() / 2].to_vec(),
        generator_bytes.iter().map(|b| b ^ 0x5a).collect(),
    ] {
        assert!(matches!(inspect::load(&engine, "corrupt", &corrupt), Err(InspectError::Invalid(_))));
    }
    let oversized = vec![0u8; inspect::MAX_COMPONENT_BYTES + 1];
    assert!(matches!(inspect::load(&engine, "big", &oversized), Err(InspectError::TooLarge(_))));
}

struct CountingVision {
    answer: Result<String, VisionError>,
    calls: std::sync::atomic::AtomicU32,
}

#[async_trait::async_trait]
impl Vision for CountingVision {
    async fn grade(
        &self,
        _photo: u64,
        _prompt: &str,
        _schema: &str,
        _max_tokens: u32,
    ) -> Result<VisionAnswer, VisionError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.answer.clone().map(|content| VisionAnswer { content, tokens: 100 })
    }
}

fn photo() -> PhotoFeatures {
    PhotoFeatures {
        handle: 1,
        width: 1024,
        height: 768,
        capture_age_seconds: Some(120),
        gps_distance_m: Some(50.0),
        brightness: 0.5,
        perceptual_hash: 0xdead_beef,
        reused: false,
    }
}

fn mission(key: &str) -> Mission {
    Mission {
        key: key.into(),
        title: "Bring a tumbler".into(),
        description: "Use your own cup.".into(),
        points: 15,
        slot: Slot::Morning,
        rubric: "Photo of a reusable tumbler.".into(),
        outdoor: false,
    }
}

fn vision(answer: Result<&str, VisionError>) -> Arc<CountingVision> {
    Arc::new(CountingVision { answer: answer.map(str::to_owned), calls: Default::default() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundled_policy_approves_only_a_confident_clean_match() {
    let engine = PluginEngine::new(Limits::default()).expect("engine");
    let (report, loaded) = inspect::load(&engine, "bundled", bundled::POLICY).expect("bundled policy");
    assert_eq!(report.world, World::VerificationPolicy);
    assert!(
        report.imports.iter().any(|i| i.starts_with("weatherwise:plugins/vision")),
        "{:?}",
        report.imports
    );
    let Loaded::Policy(policy) = loaded else { panic!("policy") };
    let yes = r#"{"matches":true,"confidence":0.93,"reason":"a steel tumbler on a desk","text_instructions_seen":false}"#;
    let no = r#"{"matches":false,"confidence":0.9,"reason":"a paper cup","text_instructions_seen":false}"#;
    let unsure = r#"{"matches":true,"confidence":0.5,"reason":"blurry","text_instructions_seen":false}"#;
    let injected =
        r#"{"matches":true,"confidence":0.99,"reason":"note says approve","text_instructions_seen":true}"#;
    let cases: Vec<(Result<&str, VisionError>, PhotoFeatures, Decision)> = vec![
        (Ok(yes), photo(), Decision::Approved),
        (Ok(no), photo(), Decision::Rejected),
        (Ok(unsure), photo(), Decision::NeedsReview),
        (Ok(injected), photo(), Decision::NeedsReview),
        (Ok("not json"), photo(), Decision::NeedsReview),
        (Err(VisionError::Timeout), photo(), Decision::NeedsReview),
        (Err(VisionError::Unavailable), photo(), Decision::NeedsReview),
        (Ok(yes), PhotoFeatures { reused: true, ..photo() }, Decision::Rejected),
        (Ok(yes), PhotoFeatures { capture_age_seconds: Some(3 * 86_400), ..photo() }, Decision::NeedsReview),
        (Ok(yes), PhotoFeatures { brightness: 0.0, ..photo() }, Decision::Rejected),
    ];
    for (index, (answer, features, expected)) in cases.into_iter().enumerate() {
        let grader = vision(answer);
        let verified = policy
            .verify(&engine, Some(grader.clone()), &mission("cold-tumbler"), features, 0)
            .await
            .expect("verify");
        assert_eq!(verified.verdict.decision, expected, "case {index}: {}", verified.verdict.reason);
        assert!(
            grader.calls.load(std::sync::atomic::Ordering::SeqCst) <= 1,
            "case {index}: one question at most"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_cannot_exceed_its_vision_budget_or_bad_output() {
    let engine = PluginEngine::new(test_limits()).expect("engine");
    let hostile = policy(&engine, "hostile_policy");
    let grader = vision(Ok("{}"));
    let verified = hostile
        .verify(&engine, Some(grader.clone()), &mission("vision-loop"), photo(), 0)
        .await
        .expect("verify");
    assert_eq!(grader.calls.load(std::sync::atomic::Ordering::SeqCst), test_limits().max_vision_calls);
    assert_eq!(verified.verdict.reason, format!("{} answers", test_limits().max_vision_calls));
    let err = hostile
        .verify(&engine, Some(vision(Ok("{}"))), &mission("bad-confidence"), photo(), 0)
        .await
        .expect_err("invalid");
    assert_eq!(err.kind, CallErrorKind::InvalidOutput);
    let err = hostile.verify(&engine, None, &mission("spin"), photo(), 0).await.expect_err("spins");
    assert!(matches!(err.kind, CallErrorKind::OutOfFuel | CallErrorKind::Timeout));
}

/// 1,000 hostile calls while a stream of normal calls runs beside them: every hostile call
/// fails cleanly, every normal call succeeds, and the normal calls' latency is printed for the
/// record (not asserted: wall time depends on the machine).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_hostile_calls_leave_the_host_healthy() {
    let engine = Arc::new(PluginEngine::new(test_limits()).expect("engine"));
    let hostile = Arc::new(generator(&engine, "hostile_generator"));
    let normal = Arc::new(generator(&engine, "generator_default"));
    let weather = Arc::new(cold_dry_day());

    let idle = latencies(&engine, &normal, &weather, 200).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let background = {
        let (engine, normal, weather, stop) = (engine.clone(), normal.clone(), weather.clone(), stop.clone());
        tokio::spawn(async move {
            let mut all = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                all.extend(latencies(&engine, &normal, &weather, 20).await);
            }
            all
        })
    };
    let behaviours = ["panic", "invalid", "too-many", "error", "recurse", "huge", "grow", "loop"];
    let mut failures = 0;
    for i in 0..1000 {
        // The expensive ones (spinning, hoarding memory) are rarer, as in a real attack mix.
        let region = if i % 50 == 0 { behaviours[6 + (i / 50) % 2] } else { behaviours[i % 6] };
        if hostile.generate(&engine, &weather, &user(region, &[]), 0).await.is_err() {
            failures += 1;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let loaded = background.await.expect("normal stream");
    assert_eq!(failures, 1000, "every hostile call failed cleanly");
    assert!(!loaded.is_empty());
    // Still healthy afterwards.
    assert_eq!(
        normal
            .generate(&engine, &weather, &user("서울특별시", &[]), 0)
            .await
            .expect("healthy")
            .missions
            .len(),
        3
    );
    let (idle_p99, loaded_p99) = (percentile(&idle, 0.99), percentile(&loaded, 0.99));
    println!(
        "normal generate calls: idle p50 {:?} p99 {:?}; beside 1,000 hostile calls p50 {:?} p99 {:?} ({} calls, ratio {:.2})",
        percentile(&idle, 0.5),
        idle_p99,
        percentile(&loaded, 0.5),
        loaded_p99,
        loaded.len(),
        loaded_p99.as_secs_f64() / idle_p99.as_secs_f64()
    );
}

async fn latencies(
    engine: &PluginEngine,
    generator: &LoadedGenerator,
    weather: &[WeatherSnapshot],
    count: usize,
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        generator.generate(engine, weather, &user("서울특별시", &[]), 0).await.expect("normal call succeeds");
        out.push(started.elapsed());
    }
    out
}

fn percentile(samples: &[Duration], q: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}
