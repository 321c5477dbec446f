//! The policy corpus: labelled photos, what the host measured besides the photo, what the
//! (fake) vision model answers, the decision a sound policy reaches and, for components given
//! a language, words their own reasons must use in it.

use super::{GATE_SEED, POLICY_CORPUS, Run, Tally, mentions_any};
use crate::language::Language;
use crate::missions::MissionContent;
use crate::photos;
use crate::plugins::World;
use crate::plugins::engine::PluginEngine;
use crate::plugins::policy::LoadedPolicy;
use crate::plugins::records::{PolicyDecision, Scorecard};
use crate::verification::PhotoFeatures;
use crate::vision::{Vision, VisionAnswer, VisionError};
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

const PHOTOS: &[(&str, &[u8])] = &[
    ("coffee.png", include_bytes!("../../../../plugins/corpus/photos/coffee.png")),
    ("chelsea.png", include_bytes!("../../../../plugins/corpus/photos/chelsea.png")),
    ("grass.png", include_bytes!("../../../../plugins/corpus/photos/grass.png")),
];

#[derive(Deserialize)]
struct PolicyCorpus {
    cases: Vec<PolicyCase>,
}

#[derive(Deserialize)]
struct PolicyCase {
    name: String,
    photo: String,
    mission: MissionContent,
    features: FeatureOverrides,
    vision: CannedVision,
    expect: PolicyDecision,
    /// Per language, stems of which one must start a word of the reason (for cases where the
    /// policy writes the reason itself rather than passing on the model's).
    #[serde(default)]
    reason_mentions: HashMap<Language, Vec<String>>,
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
    Error(VisionError),
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
    ) -> Result<VisionAnswer, VisionError> {
        match &self.0 {
            CannedVision::Error(error) => Err(*error),
            CannedVision::Answer(text) => {
                let schema = crate::vision::schema::AnswerSchema::parse(json_schema)
                    .map_err(|_| VisionError::InvalidAnswer)?;
                let value = schema.validate(text).map_err(|_| VisionError::InvalidAnswer)?;
                Ok(VisionAnswer { content: value.to_string(), tokens: 0 })
            }
        }
    }
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
    for (handle, case) in corpus.cases.iter().enumerate() {
        for run in Run::all(policy.contract) {
            let name = run.name(&case.name);
            let Some(&(width, height, brightness, perceptual_hash)) = photos.get(case.photo.as_str()) else {
                tally.record(&name, Instant::now(), Err(format!("unknown corpus photo {}", case.photo)));
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
            let started = Instant::now();
            let outcome = match policy
                .verify(engine, Some(vision), &case.mission, features, run.language, GATE_SEED)
                .await
            {
                Err(err) => Err(err.to_string()),
                Ok(verified) => {
                    let decision = PolicyDecision::from(verified.verdict.decision);
                    let stems = case.reason_mentions.get(&run.language).filter(|_| run.judged_on_language);
                    if decision != case.expect {
                        Err(format!("decided {decision:?}, expected {:?}", case.expect))
                    } else if let Some(stems) = stems
                        && !mentions_any(&verified.verdict.reason, stems)
                    {
                        Err(format!(
                            "the reason {:?} does not say why in {} (expected one of {stems:?})",
                            verified.verdict.reason,
                            run.language.as_str()
                        ))
                    } else {
                        Ok((verified.fuel_used, verified.peak_memory_bytes))
                    }
                }
            };
            tally.record(&name, started, outcome);
        }
    }
    tally.scorecard(World::VerificationPolicy, policy.contract, size_bytes)
}
