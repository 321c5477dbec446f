//! Calling components on behalf of the product. Every call gets a fresh seed for the
//! component's random sources and leaves a record: the version, the seed, the inputs, every
//! vision request with its answer, and the outcome. From that record the call can be re-run
//! exactly ([`PluginRegistry::replay`]), which appeals and audits rely on.
//!
//! Verifications on the active policy also run the shadow candidate, if there is one, in the
//! background with the same inputs; its verdict is stored beside the applied one and never
//! applied.

use super::World;
use super::generator::{Generated, LoadedGenerator};
use super::limits::CallError;
use super::policy::{LoadedPolicy, Verified};
use super::records::{
    CallInput, CallOutcome, CallRecord, PolicyDecision, PolicyVerdict, Purpose, ShadowVerdict, VisionExchange,
};
use super::registry::{PluginRegistry, RegistryError};
use crate::language::Language;
use crate::missions::{GenerationContext, MissionContent};
use crate::verification::PhotoFeatures;
use crate::vision::{Vision, VisionAnswer, VisionError};
use crate::weather::SlotWeather;
use async_trait::async_trait;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Which version a call runs on.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The version active when the call starts (it keeps it to the end).
    Active,
    Version(&'a str),
}

/// What a policy call is about: the mission, the photo, and the language to answer in.
#[derive(Clone, Copy)]
struct PolicyCall<'a> {
    mission: &'a MissionContent,
    photo: &'a PhotoFeatures,
    language: Language,
}

/// A finished call: its record id, the version it ran on, and its outcome.
#[derive(Debug)]
pub struct Run<T> {
    pub call_id: String,
    pub sha256: String,
    pub outcome: Result<T, CallError>,
}

/// Captures every exchange between a component and the vision capability.
struct RecordingVision {
    inner: Arc<dyn Vision>,
    exchanges: Mutex<Vec<VisionExchange>>,
}

#[async_trait]
impl Vision for RecordingVision {
    async fn grade(
        &self,
        photo: u64,
        prompt: &str,
        json_schema: &str,
        max_tokens: u32,
    ) -> Result<VisionAnswer, VisionError> {
        let answer = self.inner.grade(photo, prompt, json_schema, max_tokens).await;
        let exchange = VisionExchange {
            photo,
            prompt: prompt.to_owned(),
            json_schema: json_schema.to_owned(),
            answer: answer.as_ref().map(|a| a.content.clone()).map_err(|err| *err),
            tokens: answer.as_ref().map_or(0, |a| a.tokens),
        };
        self.exchanges.lock().unwrap_or_else(|p| p.into_inner()).push(exchange);
        answer
    }
}

/// Answers a replayed call from its record, in order; any request the record does not have is
/// a divergence.
struct ReplayVision {
    recorded: Mutex<VecDeque<VisionExchange>>,
    divergence: Mutex<Option<String>>,
}

impl ReplayVision {
    fn diverge(&self, why: String) -> VisionError {
        self.divergence.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(why);
        VisionError::Unavailable
    }
}

#[async_trait]
impl Vision for ReplayVision {
    async fn grade(
        &self,
        photo: u64,
        prompt: &str,
        json_schema: &str,
        _max_tokens: u32,
    ) -> Result<VisionAnswer, VisionError> {
        let next = self.recorded.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        let Some(exchange) = next else {
            return Err(self.diverge("the component asked the vision model more often than recorded".into()));
        };
        if exchange.photo != photo || exchange.prompt != prompt || exchange.json_schema != json_schema {
            return Err(
                self.diverge("the component asked the vision model something else than recorded".into())
            );
        }
        match exchange.answer {
            Ok(content) => Ok(VisionAnswer { content, tokens: exchange.tokens }),
            Err(error) => Err(error),
        }
    }
}

/// The outcome of re-running a record.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReplayReport {
    pub call_id: String,
    pub sha256: String,
    /// True when the re-run made the same vision requests and reached the same outcome.
    pub identical: bool,
    pub recorded: CallOutcome,
    pub replayed: CallOutcome,
    /// Why the re-run's vision requests differed from the record, if they did.
    pub divergence: Option<String>,
}

fn failed(err: &CallError) -> CallOutcome {
    CallOutcome::Failed { kind: err.kind.as_str().to_owned(), message: err.message.clone() }
}

fn generated_outcome(outcome: &Result<Generated, CallError>) -> CallOutcome {
    match outcome {
        Ok(g) => CallOutcome::Missions {
            missions: g.missions.clone(),
            dropped_for_safety: g.dropped_for_safety.clone(),
        },
        Err(err) => failed(err),
    }
}

fn verified_outcome(outcome: &Result<Verified, CallError>) -> CallOutcome {
    match outcome {
        Ok(v) => CallOutcome::Verdict { verdict: PolicyVerdict::from(v.verdict.clone()) },
        Err(err) => failed(err),
    }
}

impl PluginRegistry {
    async fn resolve_generator(
        &self,
        target: Target<'_>,
    ) -> Result<(String, Arc<LoadedGenerator>), RegistryError> {
        match target {
            Target::Active => {
                self.generator().ok_or(RegistryError::NothingActive(World::MissionGenerator.as_str()))
            }
            Target::Version(sha) => Ok((sha.to_owned(), self.version_generator(sha).await?)),
        }
    }

    async fn resolve_policy(&self, target: Target<'_>) -> Result<(String, Arc<LoadedPolicy>), RegistryError> {
        match target {
            Target::Active => {
                self.policy().ok_or(RegistryError::NothingActive(World::VerificationPolicy.as_str()))
            }
            Target::Version(sha) => Ok((sha.to_owned(), self.version_policy(sha).await?)),
        }
    }

    /// Generates missions and records the call.
    pub async fn generate(
        &self,
        target: Target<'_>,
        weather: &[SlotWeather],
        user: &GenerationContext,
        purpose: Purpose,
    ) -> Result<Run<Generated>, RegistryError> {
        let (sha256, generator) = self.resolve_generator(target).await?;
        let seed: u64 = rand::random();
        let started = Instant::now();
        let outcome = generator.generate(&self.engine, weather, user, seed).await;
        let record = CallRecord {
            id: uuid::Uuid::now_v7().to_string(),
            world: World::MissionGenerator,
            sha256: sha256.clone(),
            purpose,
            seed,
            input: CallInput::MissionGenerator { weather: weather.to_vec(), user: user.clone() },
            exchanges: Vec::new(),
            outcome: generated_outcome(&outcome),
            fuel_used: outcome.as_ref().map_or(0, |g| g.fuel_used),
            duration_us: started.elapsed().as_micros() as u64,
            created_at: crate::db::now_ms(),
        };
        self.records.insert_call(&record).await?;
        Ok(Run { call_id: record.id, sha256, outcome })
    }

    /// Verifies a photo, records the call, and on the active policy runs the shadow candidate.
    /// `language` is the one the mission is written in, for the verdict's reason.
    pub async fn verify(
        self: &Arc<Self>,
        target: Target<'_>,
        mission: &MissionContent,
        photo: &PhotoFeatures,
        language: Language,
        vision: Arc<dyn Vision>,
        purpose: Purpose,
    ) -> Result<Run<Verified>, RegistryError> {
        let (sha256, policy) = self.resolve_policy(target).await?;
        let call = PolicyCall { mission, photo, language };
        let run = self.verify_on(&sha256, &policy, call, vision.clone(), purpose).await?;
        if let (Target::Active, Some((candidate, shadow))) = (target, self.shadow_policy())
            && candidate != sha256
            && let Ok(verified) = &run.outcome
        {
            self.spawn_shadow(
                &run.call_id,
                &sha256,
                verified.verdict.decision.into(),
                (candidate, shadow),
                call,
                vision,
            );
        }
        Ok(run)
    }

    async fn verify_on(
        &self,
        sha256: &str,
        policy: &LoadedPolicy,
        PolicyCall { mission, photo, language }: PolicyCall<'_>,
        vision: Arc<dyn Vision>,
        purpose: Purpose,
    ) -> Result<Run<Verified>, RegistryError> {
        let seed: u64 = rand::random();
        let recording = Arc::new(RecordingVision { inner: vision, exchanges: Mutex::new(Vec::new()) });
        let started = Instant::now();
        let outcome =
            policy.verify(&self.engine, Some(recording.clone()), mission, *photo, language, seed).await;
        let exchanges = std::mem::take(&mut *recording.exchanges.lock().unwrap_or_else(|p| p.into_inner()));
        let record = CallRecord {
            id: uuid::Uuid::now_v7().to_string(),
            world: World::VerificationPolicy,
            sha256: sha256.to_owned(),
            purpose,
            seed,
            input: CallInput::VerificationPolicy { mission: mission.clone(), photo: *photo, language },
            exchanges,
            outcome: verified_outcome(&outcome),
            fuel_used: outcome.as_ref().map_or(0, |v| v.fuel_used),
            duration_us: started.elapsed().as_micros() as u64,
            created_at: crate::db::now_ms(),
        };
        self.records.insert_call(&record).await?;
        Ok(Run { call_id: record.id, sha256: sha256.to_owned(), outcome })
    }

    fn spawn_shadow(
        self: &Arc<Self>,
        call_id: &str,
        active: &str,
        active_decision: PolicyDecision,
        (candidate, shadow): (String, Arc<LoadedPolicy>),
        PolicyCall { mission, photo, language }: PolicyCall<'_>,
        vision: Arc<dyn Vision>,
    ) {
        let Ok(permit) = self.shadow_slots.clone().try_acquire_owned() else {
            metrics::counter!("plugin_shadow_skipped_total").increment(1);
            return;
        };
        let registry = self.clone();
        let (call_id, active, mission, photo) =
            (call_id.to_owned(), active.to_owned(), mission.clone(), *photo);
        self.tasks.spawn_work("shadow run", move |_drain| async move {
            let _permit = permit;
            let call = PolicyCall { mission: &mission, photo: &photo, language };
            let run = registry.verify_on(&candidate, &shadow, call, vision, Purpose::Shadow).await;
            let (candidate_decision, candidate_error) = match run {
                Ok(Run { outcome: Ok(verified), .. }) => {
                    (Some(PolicyDecision::from(verified.verdict.decision)), None)
                }
                Ok(Run { outcome: Err(err), .. }) => (None, Some(err.to_string())),
                Err(err) => (None, Some(err.to_string())),
            };
            let agree = candidate_decision == Some(active_decision);
            metrics::counter!("plugin_shadow_comparisons_total", "agree" => agree.to_string()).increment(1);
            let verdict = ShadowVerdict {
                id: uuid::Uuid::now_v7().to_string(),
                call_id,
                candidate,
                active,
                active_decision,
                candidate_decision,
                candidate_error,
                agree,
                created_at: crate::db::now_ms(),
            };
            if let Err(err) = registry.records.insert_shadow_verdict(&verdict).await {
                tracing::warn!(error = %err, "could not store a shadow verdict");
            }
        });
    }

    pub async fn call_record(&self, id: &str) -> Result<CallRecord, RegistryError> {
        self.records.call(id).await?.ok_or_else(|| RegistryError::CallNotFound(id.to_owned()))
    }

    /// Re-runs a recorded call on the same version, with the same seed and inputs, answering
    /// its vision requests from the record.
    pub async fn replay(&self, id: &str) -> Result<ReplayReport, RegistryError> {
        let record = self.call_record(id).await?;
        let (replayed, divergence) = match &record.input {
            CallInput::MissionGenerator { weather, user } => {
                let generator = self.version_generator(&record.sha256).await?;
                let outcome = generator.generate(&self.engine, weather, user, record.seed).await;
                (generated_outcome(&outcome), None)
            }
            CallInput::VerificationPolicy { mission, photo, language } => {
                let policy = self.version_policy(&record.sha256).await?;
                let vision = Arc::new(ReplayVision {
                    recorded: Mutex::new(record.exchanges.iter().cloned().collect()),
                    divergence: Mutex::new(None),
                });
                let outcome = policy
                    .verify(&self.engine, Some(vision.clone()), mission, *photo, *language, record.seed)
                    .await;
                let mut divergence = vision.divergence.lock().unwrap_or_else(|p| p.into_inner()).take();
                let unused = vision.recorded.lock().unwrap_or_else(|p| p.into_inner()).len();
                if divergence.is_none() && unused > 0 {
                    divergence = Some(format!("{unused} recorded vision requests were not made again"));
                }
                (verified_outcome(&outcome), divergence)
            }
        };
        Ok(ReplayReport {
            call_id: record.id,
            sha256: record.sha256,
            identical: divergence.is_none() && replayed == record.outcome,
            recorded: record.outcome,
            replayed,
            divergence,
        })
    }
}
