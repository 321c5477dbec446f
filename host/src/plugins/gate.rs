//! The activation gate: every version is measured on its world's golden corpus
//! (`plugins/corpus/`, built into the binary) under production limits, and the result kept as
//! its scorecard. Only a version that passes every case is activated, unless an admin forces it
//! (which the audit log records with the reason).

use super::World;
use super::bindings::{Mission, PhotoFeatures, UserContext, WeatherSnapshot};
use super::dto::{DecisionDto, MissionDto, SlotDto, UserContextDto, VisionErrorDto, WeatherDto};
use super::engine::PluginEngine;
use super::generator::LoadedGenerator;
use super::policy::{LoadedPolicy, Vision, VisionAnswer};
use super::records::Scorecard;
use crate::photos;
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

const GENERATOR_CORPUS: &str = include_str!("../../../plugins/corpus/mission-generator.json");
const POLICY_CORPUS: &str = include_str!("../../../plugins/corpus/verification-policy.json");
const PHOTOS: &[(&str, &[u8])] = &[
    ("coffee.png", include_bytes!("../../../plugins/corpus/photos/coffee.png")),
    ("chelsea.png", include_bytes!("../../../plugins/corpus/photos/chelsea.png")),
    ("grass.png", include_bytes!("../../../plugins/corpus/photos/grass.png")),
];
/// Seed of the components' random sources during the gate: fixed, so scorecards reproduce.
const GATE_SEED: u64 = 0x00c0_ffee;

#[derive(Deserialize)]
struct GeneratorCorpus {
    cases: Vec<GeneratorCase>,
}

#[derive(Deserialize)]
struct GeneratorCase {
    name: String,
    weather: Vec<WeatherDto>,
    user: UserContextDto,
    expect: GeneratorExpect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GeneratorExpect {
    min_missions: usize,
    #[serde(default)]
    indoor_slots: Vec<SlotDto>,
    #[serde(default)]
    mentions_any: HashMap<SlotDto, Vec<String>>,
}

#[derive(Deserialize)]
struct PolicyCorpus {
    cases: Vec<PolicyCase>,
}

#[derive(Deserialize)]
struct PolicyCase {
    name: String,
    photo: String,
    mission: MissionDto,
    features: FeatureOverrides,
    vision: CannedVision,
    expect: DecisionDto,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FeatureOverrides {
    capture_age_seconds: Option<i64>,
    gps_distance_m: Option<f32>,
    #[serde(default)]
    reused: bool,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "snake_case")]
enum CannedVision {
    Answer(String),
    Error(VisionErrorDto),
}

/// A fake model that answers every question with the case's canned answer. Like the real one,
/// the host checks the answer against the schema the policy sends.
struct CorpusVision(CannedVision);

#[async_trait]
impl Vision for CorpusVision {
    async fn grade(
        &self,
        _photo: u64,
        _prompt: &str,
        json_schema: &str,
        _max_tokens: u32,
    ) -> Result<VisionAnswer, super::bindings::VisionError> {
        use super::bindings::VisionError;
        match &self.0 {
            CannedVision::Error(error) => Err((*error).into()),
            CannedVision::Answer(text) => {
                let schema = crate::vision::schema::AnswerSchema::parse(json_schema)
                    .map_err(|_| VisionError::InvalidAnswer)?;
                let value = schema.validate(text).map_err(|_| VisionError::InvalidAnswer)?;
                Ok(VisionAnswer { content: value.to_string(), tokens: 0 })
            }
        }
    }
}

/// The corpus texts and their digest: a scorecard names the corpus it was measured on.
pub fn corpus_digest(world: World) -> String {
    let text = match world {
        World::MissionGenerator => GENERATOR_CORPUS,
        World::VerificationPolicy => POLICY_CORPUS,
    };
    super::inspect::sha256_hex(text.as_bytes())[..16].to_owned()
}

/// Peaks over the cases, and the failures.
#[derive(Default)]
struct Tally {
    passed: u32,
    total: u32,
    fuel_peak: u64,
    time_peak_us: u64,
    memory_peak_bytes: u64,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, name: &str, started: Instant, outcome: Result<(u64, usize), String>) {
        self.total += 1;
        self.time_peak_us = self.time_peak_us.max(started.elapsed().as_micros() as u64);
        match outcome {
            Ok((fuel, memory)) => {
                self.passed += 1;
                self.fuel_peak = self.fuel_peak.max(fuel);
                self.memory_peak_bytes = self.memory_peak_bytes.max(memory as u64);
            }
            Err(why) => self.failures.push(format!("{name}: {why}")),
        }
    }

    fn scorecard(self, world: World, size_bytes: u64) -> Scorecard {
        Scorecard {
            corpus: corpus_digest(world),
            passed: self.passed,
            total: self.total,
            pass_rate: if self.total == 0 { 0.0 } else { f64::from(self.passed) / f64::from(self.total) },
            fuel_peak: self.fuel_peak,
            time_peak_us: self.time_peak_us,
            memory_peak_bytes: self.memory_peak_bytes,
            size_bytes,
            failures: self.failures,
            created_at: crate::db::now_ms(),
        }
    }
}

pub async fn score_generator(
    engine: &PluginEngine,
    generator: &LoadedGenerator,
    size_bytes: u64,
) -> Scorecard {
    let corpus: GeneratorCorpus =
        serde_json::from_str(GENERATOR_CORPUS).expect("the bundled corpus is valid JSON");
    let mut tally = Tally::default();
    for case in corpus.cases {
        let weather: Vec<WeatherSnapshot> = case.weather.into_iter().map(Into::into).collect();
        let user: UserContext = case.user.into();
        let started = Instant::now();
        let outcome = match generator.generate(engine, &weather, &user, GATE_SEED).await {
            Err(err) => Err(err.to_string()),
            // The raw proposal is judged, before the host's own safety rule removes anything.
            Ok(generated) => {
                check_missions(&generated.missions, &generated.dropped_for_safety, &user, &case.expect)
                    .map(|()| (generated.fuel_used, generated.peak_memory_bytes))
            }
        };
        tally.record(&case.name, started, outcome);
    }
    tally.scorecard(World::MissionGenerator, size_bytes)
}

fn check_missions(
    missions: &[Mission],
    dropped_for_safety: &[String],
    user: &UserContext,
    expect: &GeneratorExpect,
) -> Result<(), String> {
    if let Some(key) = dropped_for_safety.first() {
        return Err(format!("proposed outdoor mission `{key}` under a warning"));
    }
    if missions.len() < expect.min_missions {
        return Err(format!("{} missions, at least {} expected", missions.len(), expect.min_missions));
    }
    if let Some(repeat) = missions.iter().find(|m| user.recent_mission_keys.contains(&m.key)) {
        return Err(format!("repeated the recent mission `{}`", repeat.key));
    }
    for mission in missions {
        let slot = SlotDto::from(mission.slot);
        if mission.outdoor && expect.indoor_slots.contains(&slot) {
            return Err(format!("outdoor mission `{}` in a slot that must stay indoors", mission.key));
        }
    }
    for (slot, words) in &expect.mentions_any {
        let Some(mission) = missions.iter().find(|m| SlotDto::from(m.slot) == *slot) else {
            return Err(format!("no mission for the {slot:?} slot"));
        };
        let text = format!("{} {} {}", mission.title, mission.description, mission.rubric).to_lowercase();
        // Whole words or their inflections: "mask" matches "masks", "air" does not match "stairs".
        let mentions =
            |stem: &str| text.split(|c: char| !c.is_alphanumeric()).any(|word| word.starts_with(stem));
        if !words.iter().any(|word| mentions(word)) {
            return Err(format!("`{}` does not fit the weather (expected one of {words:?})", mission.key));
        }
    }
    Ok(())
}

/// Width, height, brightness and perceptual hash of a corpus photo.
type Measurements = (u32, u32, f32, u64);

/// The corpus photos measured once per process.
fn measured_photos() -> &'static HashMap<&'static str, Measurements> {
    static MEASURED: OnceLock<HashMap<&'static str, Measurements>> = OnceLock::new();
    MEASURED.get_or_init(|| {
        PHOTOS
            .iter()
            .map(|(name, bytes)| {
                let m = photos::measure(bytes).expect("the bundled corpus photos decode");
                (*name, (m.width, m.height, m.brightness, m.dhash))
            })
            .collect()
    })
}

pub async fn score_policy(engine: &PluginEngine, policy: &LoadedPolicy, size_bytes: u64) -> Scorecard {
    let corpus: PolicyCorpus = serde_json::from_str(POLICY_CORPUS).expect("the bundled corpus is valid JSON");
    let photos = tokio::task::spawn_blocking(measured_photos).await.expect("measuring the corpus photos");
    let mut tally = Tally::default();
    for (handle, case) in corpus.cases.into_iter().enumerate() {
        let Some(&(width, height, brightness, perceptual_hash)) = photos.get(case.photo.as_str()) else {
            tally.record(&case.name, Instant::now(), Err(format!("unknown corpus photo {}", case.photo)));
            continue;
        };
        let features = PhotoFeatures {
            handle: handle as u64 + 1,
            width,
            height,
            capture_age_seconds: case.features.capture_age_seconds,
            gps_distance_m: case.features.gps_distance_m,
            brightness,
            perceptual_hash,
            reused: case.features.reused,
        };
        let vision: Arc<dyn Vision> = Arc::new(CorpusVision(case.vision.clone()));
        let mission: Mission = case.mission.into();
        let started = Instant::now();
        let outcome = match policy.verify(engine, Some(vision), &mission, features, GATE_SEED).await {
            Err(err) => Err(err.to_string()),
            Ok(verified) => {
                let decision = DecisionDto::from(verified.verdict.decision);
                if decision == case.expect {
                    Ok((verified.fuel_used, verified.peak_memory_bytes))
                } else {
                    Err(format!("decided {decision:?}, expected {:?}", case.expect))
                }
            }
        };
        tally.record(&case.name, started, outcome);
    }
    tally.scorecard(World::VerificationPolicy, size_bytes)
}
