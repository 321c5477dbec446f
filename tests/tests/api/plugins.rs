//! The plugin sandbox: the bundled components work, and misbehaving components built from
//! `plugins/hostile-*` fail only their own call, each with its own error kind.

use std::sync::Arc;
use std::time::{Duration, Instant};
use weatherwise::language::Language;
use weatherwise::missions::{GenerationContext, MissionContent};
use weatherwise::plugins::generator::LoadedGenerator;
use weatherwise::plugins::inspect::{self, InspectError, Loaded};
use weatherwise::plugins::policy::LoadedPolicy;
use weatherwise::plugins::{CallErrorKind, Contract, Limits, PluginEngine, World, bundled};
use weatherwise::verification::{Decision, PhotoFeatures};
use weatherwise::vision::{Vision, VisionAnswer, VisionError};
use weatherwise::weather::{Alert, AlertKind, AlertLevel, Precipitation, Sky, Slot, SlotWeather};
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
) -> SlotWeather {
    SlotWeather {
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

fn cold_dry_day() -> Vec<SlotWeather> {
    vec![
        snapshot(Slot::Morning, -4.0, Sky::Clear, Precipitation::None, vec![]),
        snapshot(Slot::Lunch, 1.0, Sky::Clear, Precipitation::None, vec![]),
        snapshot(Slot::Evening, -2.0, Sky::MostlyCloudy, Precipitation::Snow, vec![]),
    ]
}

fn user(region: &str, recent: &[&str]) -> GenerationContext {
    GenerationContext {
        region: region.into(),
        local_date: "2026-11-23".into(),
        recent_mission_keys: recent.iter().map(|key| key.to_string()).collect(),
        language: Language::Ko,
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
    let typhoon = Alert { kind: AlertKind::Typhoon, level: AlertLevel::Warning, area: None };
    let advisory = Alert { kind: AlertKind::HeatWave, level: AlertLevel::Advisory, area: None };
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
    prompts: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl Vision for CountingVision {
    async fn grade(
        &self,
        _photo: u64,
        prompt: &str,
        _schema: &str,
        _max_tokens: u32,
    ) -> Result<VisionAnswer, VisionError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.prompts.lock().expect("prompts").push(prompt.to_owned());
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

fn mission(key: &str) -> MissionContent {
    MissionContent {
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
    Arc::new(CountingVision {
        answer: answer.map(str::to_owned),
        calls: Default::default(),
        prompts: Default::default(),
    })
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
            .verify(&engine, Some(grader.clone()), &mission("cold-tumbler"), features, Language::Ko, 0)
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
        .verify(&engine, Some(grader.clone()), &mission("vision-loop"), photo(), Language::Ko, 0)
        .await
        .expect("verify");
    assert_eq!(grader.calls.load(std::sync::atomic::Ordering::SeqCst), test_limits().max_vision_calls);
    assert_eq!(verified.verdict.reason, format!("{} answers", test_limits().max_vision_calls));
    let err = hostile
        .verify(&engine, Some(vision(Ok("{}"))), &mission("bad-confidence"), photo(), Language::Ko, 0)
        .await
        .expect_err("invalid");
    assert_eq!(err.kind, CallErrorKind::InvalidOutput);
    let err =
        hostile.verify(&engine, None, &mission("spin"), photo(), Language::Ko, 0).await.expect_err("spins");
    assert!(matches!(err.kind, CallErrorKind::OutOfFuel | CallErrorKind::Timeout));

    // A sleep waits in the host, not in wasm: it still counts against the policy's own time
    // (500 ms here), not the much longer budget its vision requests would have.
    let limits = Limits { vision_timeout_ms: 60_000, ..test_limits() };
    let engine = PluginEngine::new(limits).expect("engine");
    let sleeper = policy(&engine, "hostile_policy");
    let started = std::time::Instant::now();
    let err =
        sleeper.verify(&engine, None, &mission("sleep"), photo(), Language::Ko, 0).await.expect_err("sleeps");
    assert_eq!(err.kind, CallErrorKind::Timeout);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "stopped after {:?}", started.elapsed());
}

fn has_hangul(text: &str) -> bool {
    text.chars().any(|c| ('\u{ac00}'..='\u{d7a3}').contains(&c))
}

fn in_language(language: Language, region: &str) -> GenerationContext {
    GenerationContext { language, ..user(region, &[]) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundled_generator_writes_korean_by_default_and_english_on_request() {
    let engine = PluginEngine::new(Limits::default()).expect("engine");
    let (report, loaded) = inspect::load(&engine, "bundled", bundled::GENERATOR).expect("bundled generator");
    assert_eq!(report.contract, Contract::V0_2);
    assert!(
        report.exports.contains(&"weatherwise:plugins/generator@0.2.0".to_owned()),
        "{:?}",
        report.exports
    );
    let Loaded::Generator(generator) = loaded else { panic!("generator") };
    let korean = generator
        .generate(&engine, &cold_dry_day(), &in_language(Language::Ko, "서울특별시"), 0)
        .await
        .expect("ko");
    let english = generator
        .generate(&engine, &cold_dry_day(), &in_language(Language::En, "서울특별시"), 0)
        .await
        .expect("en");
    let keys = |missions: &[MissionContent]| missions.iter().map(|m| m.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&korean.missions), keys(&english.missions), "the same missions, written twice");
    assert_eq!(korean.missions[0].title, "텀블러를 사용하세요");
    assert_eq!(english.missions[0].title, "Bring a tumbler");
    for mission in &korean.missions {
        assert!(has_hangul(&mission.title) && has_hangul(&mission.description), "{mission:?}");
    }
    for mission in &english.missions {
        assert!(!has_hangul(&mission.title) && !has_hangul(&mission.description), "{mission:?}");
    }

    // The 0.1.0 copy kept beside it runs unchanged: English whatever the user reads.
    let (report, loaded) =
        inspect::load(&engine, "v0.1", &component("generator_default_v0_1")).expect("0.1.0 generator");
    assert_eq!(report.contract, Contract::V0_1);
    assert!(
        report.exports.contains(&"weatherwise:plugins/generator@0.1.0".to_owned()),
        "{:?}",
        report.exports
    );
    let Loaded::Generator(old) = loaded else { panic!("generator") };
    let old = old
        .generate(&engine, &cold_dry_day(), &in_language(Language::Ko, "서울특별시"), 0)
        .await
        .expect("0.1.0");
    assert_eq!(keys(&old.missions), keys(&english.missions));
    assert_eq!(old.missions[0].title, "Bring a tumbler");
}

/// Contract 0.2.0 gives each alert its area: the one the warning names, else the user's region.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warning_reaches_a_0_2_generator_with_its_area() {
    let engine = PluginEngine::new(Limits::default()).expect("engine");
    let generator = generator(&engine, "generator_default");
    let warning = |area: Option<&str>| Alert {
        kind: AlertKind::Typhoon,
        level: AlertLevel::Warning,
        area: area.map(str::to_owned),
    };
    let day = |area: Option<&str>| {
        vec![snapshot(Slot::Morning, 24.0, Sky::Overcast, Precipitation::Rain, vec![warning(area)])]
    };
    let named = generator
        .generate(&engine, &day(Some("서울동남권")), &in_language(Language::Ko, "서울특별시"), 0)
        .await
        .expect("generate");
    assert_eq!(named.missions[0].key, "alert-emergency-kit");
    assert!(named.missions[0].description.starts_with("서울동남권에 기상 특보"), "{:?}", named.missions[0]);
    let unnamed = generator
        .generate(&engine, &day(None), &in_language(Language::En, "제주특별자치도"), 0)
        .await
        .expect("generate");
    assert!(unnamed.missions[0].description.contains("for 제주특별자치도:"), "{:?}", unnamed.missions[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundled_policy_asks_and_answers_in_the_language_asked() {
    let engine = PluginEngine::new(Limits::default()).expect("engine");
    let (report, loaded) = inspect::load(&engine, "bundled", bundled::POLICY).expect("bundled policy");
    assert_eq!(report.contract, Contract::V0_2);
    let Loaded::Policy(policy) = loaded else { panic!("policy") };
    let reused = PhotoFeatures { reused: true, ..photo() };
    let yes =
        r#"{"matches":true,"confidence":0.93,"reason":"텀블러가 보여요","text_instructions_seen":false}"#;
    let cases = [
        (
            Language::Ko,
            "이미 제출된 적이 있는 사진이에요.",
            "담당자가 확인할게요. 심사가 제시간에 끝나지 않았어요.",
            "한국어",
        ),
        (
            Language::En,
            "This photo was already submitted before.",
            "Sent to review: the grader timed out.",
            "write it in English",
        ),
    ];
    for (language, reused_reason, timeout_reason, prompt_asks) in cases {
        let refused = policy
            .verify(&engine, Some(vision(Ok(yes))), &mission("cold-tumbler"), reused, language, 0)
            .await
            .expect("verify");
        assert_eq!(
            (refused.verdict.decision, refused.verdict.reason.as_str()),
            (Decision::Rejected, reused_reason)
        );
        let timed_out = policy
            .verify(
                &engine,
                Some(vision(Err(VisionError::Timeout))),
                &mission("cold-tumbler"),
                photo(),
                language,
                0,
            )
            .await
            .expect("verify");
        assert_eq!(
            (timed_out.verdict.decision, timed_out.verdict.reason.as_str()),
            (Decision::NeedsReview, timeout_reason)
        );
        let grader = vision(Ok(yes));
        let approved = policy
            .verify(&engine, Some(grader.clone()), &mission("cold-tumbler"), photo(), language, 0)
            .await;
        assert_eq!(approved.expect("verify").verdict.decision, Decision::Approved);
        let prompts = grader.prompts.lock().expect("prompts").clone();
        assert!(prompts[0].contains(prompt_asks), "{language:?}: {prompts:?}");
        assert!(
            prompts[0].contains("Photo of a reusable tumbler."),
            "the rubric goes to the model: {prompts:?}"
        );
    }

    // The 0.1.0 copy answers in English whatever the language.
    let old = policy_v0_1(&engine);
    let refused = old
        .verify(&engine, Some(vision(Ok(yes))), &mission("cold-tumbler"), reused, Language::Ko, 0)
        .await
        .expect("verify");
    assert_eq!(refused.verdict.reason, "This photo was already submitted before.");
}

fn policy_v0_1(engine: &PluginEngine) -> LoadedPolicy {
    let (report, loaded) =
        inspect::load(engine, "v0.1", &component("policy_default_v0_1")).expect("0.1.0 policy");
    assert_eq!(report.contract, Contract::V0_1);
    match loaded {
        Loaded::Policy(policy) => policy,
        Loaded::Generator(_) => panic!("not a policy"),
    }
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
    weather: &[SlotWeather],
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

/// `inner` with `hogs` more core instances, each holding a linear memory of `pages_each` 64 KiB
/// pages: what a component built from several modules looks like to the sandbox. Sections of a
/// component may follow one another in any order, so they are appended to `inner`.
fn with_memory_hogs(inner: &[u8], hogs: u32, pages_each: u64) -> Vec<u8> {
    use wasm_encoder::{
        Component, InstanceSection, MemorySection, MemoryType, Module, ModuleArg, ModuleSection,
    };
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: pages_each,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut hog = Module::new();
    hog.section(&memories);
    let mut appended = Component::new();
    appended.section(&ModuleSection(&hog));
    let mut instances = InstanceSection::new();
    for _ in 0..hogs {
        instances.instantiate(core_modules_in(inner), Vec::<(&str, ModuleArg)>::new());
    }
    appended.section(&instances);
    let appended = appended.finish();
    // Both start with the same 8-byte preamble (magic, version, layer).
    [inner, &appended[8..]].concat()
}

/// How many core modules a component defines at its top level (sections with id 1).
fn core_modules_in(component: &[u8]) -> u32 {
    let (mut at, mut modules) = (8, 0);
    while at < component.len() {
        let id = component[at];
        let (mut size, mut shift) = (0usize, 0);
        at += 1;
        loop {
            let byte = component[at];
            at += 1;
            size |= usize::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        modules += u32::from(id == 1);
        at += size;
    }
    modules
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_cap_holds_for_all_of_a_components_memories_together() {
    let engine = PluginEngine::new(Limits { max_memory_bytes: 32 << 20, ..test_limits() }).expect("engine");
    let load = |bytes: Vec<u8>| match inspect::load(&engine, "hogs", &bytes).expect("loads").1 {
        Loaded::Generator(generator) => generator,
        Loaded::Policy(_) => panic!("a generator"),
    };
    let minimal = component("minimal_generator");
    // One memory of 20 MiB beside the component's own fits the 32 MiB cap.
    let one = load(with_memory_hogs(&minimal, 1, 320));
    one.generate(&engine, &cold_dry_day(), &user("서울특별시", &[]), 0).await.expect("within the cap");
    // Three of them are each under the cap, and together far over it.
    let three = load(with_memory_hogs(&minimal, 3, 320));
    let err = three
        .generate(&engine, &cold_dry_day(), &user("서울특별시", &[]), 0)
        .await
        .expect_err("over the cap together");
    assert_eq!(err.kind, CallErrorKind::MemoryLimit, "{err:?}");
}
