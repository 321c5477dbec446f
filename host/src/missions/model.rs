//! A mission as stored and shown, and the states it moves through.

use crate::plugins::dto::{MissionDto, SlotDto};
use serde::Serialize;

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

pub fn slot_name(slot: SlotDto) -> &'static str {
    match slot {
        SlotDto::Morning => "morning",
        SlotDto::Lunch => "lunch",
        SlotDto::Evening => "evening",
    }
}

pub fn parse_slot(text: &str) -> anyhow::Result<SlotDto> {
    Ok(match text {
        "morning" => SlotDto::Morning,
        "lunch" => SlotDto::Lunch,
        "evening" => SlotDto::Evening,
        other => anyhow::bail!("unknown slot {other:?}"),
    })
}

#[derive(Debug, Clone)]
pub struct Mission {
    pub id: String,
    pub user_id: String,
    pub local_date: String,
    pub content: MissionDto,
    pub state: MissionState,
    pub attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
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
    pub slot: SlotDto,
    pub key: String,
    pub title: String,
    pub description: String,
    pub points: u32,
    /// What the photo must show.
    pub rubric: String,
    pub outdoor: bool,
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
            state: mission.state,
            attempts: mission.attempts,
            created_at: chrono::DateTime::from_timestamp_millis(mission.created_at).unwrap_or_default(),
        }
    }
}
