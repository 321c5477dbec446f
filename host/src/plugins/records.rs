//! What the platform keeps about plugin calls and versions, one SQL text for both engines:
//! replayable call records, scorecards from the activation gate, shadow candidates and the
//! verdicts they gave.

use super::{Contract, World};
use crate::db::{Database, now_ms};
use crate::language::Language;
use crate::missions::{GenerationContext, MissionContent};
use crate::verification::{self, PhotoFeatures, Verdict};
use crate::vision::VisionError;
use crate::weather::SlotWeather;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Why a call was made; replays and reports filter on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Serving a user (mission generation, photo verification).
    Live,
    /// An admin's dry-run.
    DryRun,
    /// A shadow candidate beside the active policy; its verdict is never applied.
    Shadow,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::DryRun => "dry-run",
            Self::Shadow => "shadow",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "dry-run" => Self::DryRun,
            "shadow" => Self::Shadow,
            _ => Self::Live,
        }
    }
}

/// A policy's decision as the platform's records and admin API write it (the contracts'
/// spelling, `needs-review`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyDecision {
    Approved,
    Rejected,
    NeedsReview,
}

impl From<verification::Decision> for PolicyDecision {
    fn from(decision: verification::Decision) -> Self {
        match decision {
            verification::Decision::Approved => Self::Approved,
            verification::Decision::Rejected => Self::Rejected,
            verification::Decision::NeedsReview => Self::NeedsReview,
        }
    }
}

/// A policy's verdict as the platform's records and admin API write it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyVerdict {
    pub decision: PolicyDecision,
    pub confidence: f32,
    pub reason: String,
}

impl From<Verdict> for PolicyVerdict {
    fn from(verdict: Verdict) -> Self {
        Self { decision: verdict.decision.into(), confidence: verdict.confidence, reason: verdict.reason }
    }
}

/// The inputs of a call, as the host gave them; a component of contract 0.1.0 received them
/// without the language.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "world", rename_all = "kebab-case")]
pub enum CallInput {
    MissionGenerator {
        weather: Vec<SlotWeather>,
        user: GenerationContext,
    },
    VerificationPolicy {
        mission: MissionContent,
        photo: PhotoFeatures,
        /// Absent from records made before contract 0.2.0, whose policies received no language.
        #[serde(default)]
        language: Language,
    },
}

/// A vision request the component made and what the host answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VisionExchange {
    pub photo: u64,
    pub prompt: String,
    pub json_schema: String,
    /// `{"Ok": answer}` or `{"Err": vision-error}`.
    #[schema(value_type = Object)]
    pub answer: Result<String, VisionError>,
    /// Tokens the model spent (0 when the answer came from the cache).
    pub tokens: u32,
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CallOutcome {
    Missions { missions: Vec<MissionContent>, dropped_for_safety: Vec<String> },
    Verdict { verdict: PolicyVerdict },
    Failed { kind: String, message: String },
}

impl CallOutcome {
    pub fn decision(&self) -> Option<PolicyDecision> {
        match self {
            Self::Verdict { verdict } => Some(verdict.decision),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallRecord {
    pub id: String,
    #[schema(value_type = String)]
    pub world: World,
    pub sha256: String,
    pub purpose: Purpose,
    /// Seed of the component's random sources.
    pub seed: u64,
    pub input: CallInput,
    pub exchanges: Vec<VisionExchange>,
    pub outcome: CallOutcome,
    pub fuel_used: u64,
    pub duration_us: u64,
    pub created_at: i64,
}

/// How a version did on its world's golden corpus.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scorecard {
    /// The contract version the component was measured as: a 0.2.0 component runs every case
    /// in each language.
    #[schema(value_type = String)]
    pub contract: Contract,
    /// Digest of the corpus the version was measured on.
    pub corpus: String,
    pub passed: u32,
    pub total: u32,
    pub pass_rate: f64,
    pub fuel_peak: u64,
    pub time_peak_us: u64,
    pub memory_peak_bytes: u64,
    pub size_bytes: u64,
    /// One line per failed case: its name and what went wrong.
    pub failures: Vec<String>,
    pub created_at: i64,
}

impl Scorecard {
    pub fn passes(&self) -> bool {
        self.total > 0 && self.passed == self.total
    }
}

/// The comparison of one shadow verdict with the verdict that was applied.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShadowVerdict {
    pub id: String,
    /// The record of the active policy's call.
    pub call_id: String,
    pub candidate: String,
    pub active: String,
    pub active_decision: PolicyDecision,
    pub candidate_decision: Option<PolicyDecision>,
    pub candidate_error: Option<String>,
    pub agree: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShadowReport {
    pub candidate: String,
    pub compared: u64,
    pub agreed: u64,
    /// `agreed / compared`; absent before the first comparison.
    pub agreement_rate: Option<f64>,
    /// The most recent disagreements, newest first.
    pub disagreements: Vec<ShadowVerdict>,
}

#[async_trait]
pub trait RecordStore: Send + Sync + 'static {
    async fn insert_call(&self, record: &CallRecord) -> anyhow::Result<()>;
    async fn call(&self, id: &str) -> anyhow::Result<Option<CallRecord>>;
    async fn put_scorecard(&self, sha256: &str, scorecard: &Scorecard) -> anyhow::Result<()>;
    async fn scorecard(&self, sha256: &str) -> anyhow::Result<Option<Scorecard>>;
    /// Sets (or with `None` clears) the shadow candidate of a world.
    async fn set_shadow(&self, world: World, sha256: Option<&str>, actor: Option<&str>)
    -> anyhow::Result<()>;
    async fn shadow(&self, world: World) -> anyhow::Result<Option<String>>;
    async fn insert_shadow_verdict(&self, verdict: &ShadowVerdict) -> anyhow::Result<()>;
    async fn shadow_report(&self, candidate: &str, disagreements: i64) -> anyhow::Result<ShadowReport>;
}

#[derive(Clone)]
pub struct SqlRecordStore {
    db: Database,
}

impl SqlRecordStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

type CallRow = (String, String, String, String, i64, String, String, String, i64, i64, i64);
type ShadowRow = (String, String, String, String, String, Option<String>, Option<String>, i32, i64);

fn decision_of(text: &str) -> Option<PolicyDecision> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

fn decision_text(decision: PolicyDecision) -> String {
    serde_json::to_value(decision).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn to_shadow(row: ShadowRow) -> ShadowVerdict {
    let (
        id,
        call_id,
        candidate,
        active,
        active_decision,
        candidate_decision,
        candidate_error,
        agree,
        created_at,
    ) = row;
    ShadowVerdict {
        id,
        call_id,
        candidate,
        active,
        active_decision: decision_of(&active_decision).unwrap_or(PolicyDecision::NeedsReview),
        candidate_decision: candidate_decision.as_deref().and_then(decision_of),
        candidate_error,
        agree: agree != 0,
        created_at,
    }
}

#[async_trait]
impl RecordStore for SqlRecordStore {
    async fn insert_call(&self, r: &CallRecord) -> anyhow::Result<()> {
        sqlx::query(
            "insert into plugin_calls (id, world, sha256, purpose, seed, input, exchanges, outcome, fuel_used, \
             duration_us, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&r.id)
        .bind(r.world.as_str())
        .bind(&r.sha256)
        .bind(r.purpose.as_str())
        .bind(r.seed as i64)
        .bind(serde_json::to_string(&r.input)?)
        .bind(serde_json::to_string(&r.exchanges)?)
        .bind(serde_json::to_string(&r.outcome)?)
        .bind(i64::try_from(r.fuel_used).unwrap_or(i64::MAX))
        .bind(i64::try_from(r.duration_us).unwrap_or(i64::MAX))
        .bind(r.created_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    async fn call(&self, id: &str) -> anyhow::Result<Option<CallRecord>> {
        let row: Option<CallRow> = sqlx::query_as(
            "select id, world, sha256, purpose, seed, input, exchanges, outcome, fuel_used, duration_us, created_at \
             from plugin_calls where id = $1",
        )
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        let Some((id, world, sha256, purpose, seed, input, exchanges, outcome, fuel, duration, created_at)) =
            row
        else {
            return Ok(None);
        };
        Ok(Some(CallRecord {
            id,
            world: World::from_column(&world),
            sha256,
            purpose: Purpose::parse(&purpose),
            seed: seed as u64,
            input: serde_json::from_str(&input)?,
            exchanges: serde_json::from_str(&exchanges)?,
            outcome: serde_json::from_str(&outcome)?,
            fuel_used: u64::try_from(fuel).unwrap_or(0),
            duration_us: u64::try_from(duration).unwrap_or(0),
            created_at,
        }))
    }

    async fn put_scorecard(&self, sha256: &str, s: &Scorecard) -> anyhow::Result<()> {
        // Instances starting together may score the same version at once: last write wins.
        sqlx::query(
            "insert into plugin_scorecards (sha256, corpus, passed, total, fuel_peak, time_peak_us, \
             memory_peak_bytes, size_bytes, failures, created_at, contract) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             on conflict (sha256) do update set contract = excluded.contract, corpus = excluded.corpus, \
             passed = excluded.passed, \
             total = excluded.total, fuel_peak = excluded.fuel_peak, time_peak_us = excluded.time_peak_us, \
             memory_peak_bytes = excluded.memory_peak_bytes, size_bytes = excluded.size_bytes, \
             failures = excluded.failures, created_at = excluded.created_at",
        )
        .bind(sha256)
        .bind(&s.corpus)
        .bind(s.passed as i32)
        .bind(s.total as i32)
        .bind(i64::try_from(s.fuel_peak).unwrap_or(i64::MAX))
        .bind(i64::try_from(s.time_peak_us).unwrap_or(i64::MAX))
        .bind(i64::try_from(s.memory_peak_bytes).unwrap_or(i64::MAX))
        .bind(i64::try_from(s.size_bytes).unwrap_or(i64::MAX))
        .bind(serde_json::to_string(&s.failures)?)
        .bind(s.created_at)
        .bind(s.contract.as_str())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    async fn scorecard(&self, sha256: &str) -> anyhow::Result<Option<Scorecard>> {
        type Row = (String, String, i32, i32, i64, i64, i64, i64, String, i64);
        let row: Option<Row> = sqlx::query_as(
            "select contract, corpus, passed, total, fuel_peak, time_peak_us, memory_peak_bytes, size_bytes, \
             failures, created_at from plugin_scorecards where sha256 = $1",
        )
        .bind(sha256)
        .fetch_optional(self.db.pool())
        .await?;
        let Some((contract, corpus, passed, total, fuel, time, memory, size, failures, created_at)) = row
        else {
            return Ok(None);
        };
        let (passed, total) = (u32::try_from(passed).unwrap_or(0), u32::try_from(total).unwrap_or(0));
        Ok(Some(Scorecard {
            contract: Contract::from_column(&contract),
            corpus,
            passed,
            total,
            pass_rate: if total == 0 { 0.0 } else { f64::from(passed) / f64::from(total) },
            fuel_peak: u64::try_from(fuel).unwrap_or(0),
            time_peak_us: u64::try_from(time).unwrap_or(0),
            memory_peak_bytes: u64::try_from(memory).unwrap_or(0),
            size_bytes: u64::try_from(size).unwrap_or(0),
            failures: serde_json::from_str(&failures)?,
            created_at,
        }))
    }

    async fn set_shadow(
        &self,
        world: World,
        sha256: Option<&str>,
        actor: Option<&str>,
    ) -> anyhow::Result<()> {
        let Some(sha256) = sha256 else {
            sqlx::query("delete from plugin_shadows where world = $1")
                .bind(world.as_str())
                .execute(self.db.pool())
                .await?;
            return Ok(());
        };
        sqlx::query(
            "insert into plugin_shadows (world, sha256, started_by, started_at) values ($1, $2, $3, $4) \
             on conflict (world) do update set sha256 = excluded.sha256, started_by = excluded.started_by, \
             started_at = excluded.started_at",
        )
        .bind(world.as_str())
        .bind(sha256)
        .bind(actor)
        .bind(now_ms())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    async fn shadow(&self, world: World) -> anyhow::Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("select sha256 from plugin_shadows where world = $1")
            .bind(world.as_str())
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(|(sha,)| sha))
    }

    async fn insert_shadow_verdict(&self, v: &ShadowVerdict) -> anyhow::Result<()> {
        sqlx::query(
            "insert into plugin_shadow_verdicts (id, call_id, candidate, active, active_decision, \
             candidate_decision, candidate_error, agree, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&v.id)
        .bind(&v.call_id)
        .bind(&v.candidate)
        .bind(&v.active)
        .bind(decision_text(v.active_decision))
        .bind(v.candidate_decision.map(decision_text))
        .bind(v.candidate_error.as_deref())
        .bind(i32::from(v.agree))
        .bind(v.created_at)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    async fn shadow_report(&self, candidate: &str, disagreements: i64) -> anyhow::Result<ShadowReport> {
        let (compared, agreed): (i64, Option<i64>) =
            sqlx::query_as("select count(*), sum(agree) from plugin_shadow_verdicts where candidate = $1")
                .bind(candidate)
                .fetch_one(self.db.pool())
                .await?;
        let rows: Vec<ShadowRow> = sqlx::query_as(
            "select id, call_id, candidate, active, active_decision, candidate_decision, candidate_error, agree, \
             created_at from plugin_shadow_verdicts where candidate = $1 and agree = 0 order by id desc limit $2",
        )
        .bind(candidate)
        .bind(disagreements)
        .fetch_all(self.db.pool())
        .await?;
        let (compared, agreed) =
            (u64::try_from(compared).unwrap_or(0), u64::try_from(agreed.unwrap_or(0)).unwrap_or(0));
        Ok(ShadowReport {
            candidate: candidate.to_owned(),
            compared,
            agreed,
            agreement_rate: (compared > 0).then(|| agreed as f64 / compared as f64),
            disagreements: rows.into_iter().map(to_shadow).collect(),
        })
    }
}
