//! A mission as proposed, stored and shown, and the states it moves through; who missions are
//! made for.

use crate::language::Language;
use crate::weather::Slot;
use serde::{Deserialize, Serialize};

/// What a mission asks of the user: proposed by the mission generator, stored, shown, and
/// given to the verification policy with the photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MissionContent {
    /// Stable identifier of the kind of mission (`[a-z0-9-]`, 1–48), used to avoid repeats.
    pub key: String,
    pub title: String,
    pub description: String,
    pub points: u32,
    pub slot: Slot,
    /// What the photo must show.
    pub rubric: String,
    /// Whether the mission needs the user outdoors.
    pub outdoor: bool,
}

/// Who missions are being made for, and what the generator needs to know about them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerationContext {
    /// Province-level region name, e.g. `서울특별시`.
    pub region: String,
    /// The local date, `YYYY-MM-DD` (Asia/Seoul).
    pub local_date: String,
    /// Mission keys given to this user in the last days, newest first.
    #[serde(default)]
    pub recent_mission_keys: Vec<String>,
    /// The language to write the missions in (Korean unless asked otherwise).
    #[serde(default)]
    pub language: Language,
}

/// assigned → submitted → verifying → approved | rejected | needs_review; a rejected mission
/// takes another photo while its daily attempts last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissionState {
    Assigned,
    Submitted,
    Verifying,
    Approved,
    Rejected,
    NeedsReview,
}

impl MissionState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::Submitted => "submitted",
            Self::Verifying => "verifying",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::NeedsReview => "needs_review",
        }
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        Ok(match text {
            "assigned" => Self::Assigned,
            "submitted" => Self::Submitted,
            "verifying" => Self::Verifying,
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            "needs_review" => Self::NeedsReview,
            other => anyhow::bail!("unknown mission state {other:?}"),
        })
    }

    /// States in which a new photo is accepted.
    pub const OPEN: [MissionState; 2] = [Self::Assigned, Self::Rejected];
}

pub fn parse_slot(text: &str) -> anyhow::Result<Slot> {
    Slot::parse(text).ok_or_else(|| anyhow::anyhow!("unknown slot {text:?}"))
}

#[derive(Debug, Clone)]
pub struct Mission {
    pub id: String,
    pub user_id: String,
    pub local_date: String,
    pub content: MissionContent,
    /// The language the mission's texts are written in; its verification answers in it too.
    pub language: Language,
    pub state: MissionState,
    pub attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl crate::http::extract::Resource for Mission {
    const NAME: &'static str = "mission";
}

/// The day a user's missions were generated for, and where they were.
#[derive(Debug, Clone)]
pub struct MissionDay {
    pub local_date: String,
    pub region: String,
    pub lat: f64,
    pub lon: f64,
    pub weather_stale: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MissionView {
    pub id: String,
    pub local_date: String,
    pub slot: Slot,
    pub key: String,
    pub title: String,
    pub description: String,
    pub points: u32,
    /// What the photo must show.
    pub rubric: String,
    pub outdoor: bool,
    /// The language of `title`, `description` and `rubric`.
    pub language: Language,
    pub state: MissionState,
    /// Photos submitted today for this mission.
    pub attempts: i64,
    /// Photos it may still take today (0 once approved or under review).
    pub attempts_left: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl MissionView {
    pub fn new(mission: Mission, max_attempts: i64) -> Self {
        let open = MissionState::OPEN.contains(&mission.state);
        Self {
            attempts_left: if open { (max_attempts - mission.attempts).max(0) } else { 0 },
            id: mission.id,
            local_date: mission.local_date,
            slot: mission.content.slot,
            key: mission.content.key,
            title: mission.content.title,
            description: mission.content.description,
            points: mission.content.points,
            rubric: mission.content.rubric,
            outdoor: mission.content.outdoor,
            language: mission.language,
            state: mission.state,
            attempts: mission.attempts,
            created_at: chrono::DateTime::from_timestamp_millis(mission.created_at).unwrap_or_default(),
        }
    }
}
