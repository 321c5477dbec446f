//! A verification: one photo submitted for one mission, and what was decided about it.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationState {
    /// Waiting for a worker.
    Queued,
    /// The policy is deciding.
    Verifying,
    Approved,
    Rejected,
    /// Waiting for an admin: the policy could not decide, or the user appealed a rejection.
    NeedsReview,
}

impl VerificationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Verifying => "verifying",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::NeedsReview => "needs_review",
        }
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        Ok(match text {
            "queued" => Self::Queued,
            "verifying" => Self::Verifying,
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            "needs_review" => Self::NeedsReview,
            other => anyhow::bail!("unknown verification state {other:?}"),
        })
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Approved | Self::Rejected)
    }
}

/// A decision, by the policy or by an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Rejected,
    NeedsReview,
}

impl Decision {
    pub fn state(self) -> VerificationState {
        match self {
            Self::Approved => VerificationState::Approved,
            Self::Rejected => VerificationState::Rejected,
            Self::NeedsReview => VerificationState::NeedsReview,
        }
    }
}

/// What the host measured on the photo at upload.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PhotoFacts {
    pub sha256: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    /// Mean luma, 0–1.
    pub brightness: f32,
    #[serde(skip)]
    pub dhash: u64,
    /// EXIF capture time, unix milliseconds.
    #[serde(skip)]
    pub captured_at: Option<i64>,
    /// Metres between the EXIF position and where the user was when the missions were made.
    pub gps_distance_m: Option<f64>,
    /// The photo matches an earlier submission.
    pub reused: bool,
}

#[derive(Debug, Clone)]
pub struct Verification {
    pub id: String,
    pub mission_id: String,
    pub user_id: String,
    pub state: VerificationState,
    pub photo: PhotoFacts,
    pub normalised_key: String,
    pub full_key: String,
    pub decision_confidence: Option<f64>,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub call_id: Option<String>,
    pub appeal: Option<String>,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

impl crate::http::extract::Resource for Verification {
    const NAME: &'static str = "verification";
}

impl Verification {
    /// Seconds between the EXIF capture time and the upload.
    pub fn capture_age_seconds(&self) -> Option<i64> {
        self.photo.captured_at.map(|at| (self.created_at - at).div_euclid(1000))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerificationView {
    pub id: String,
    pub mission_id: String,
    pub state: VerificationState,
    /// The policy's (or reviewer's) confidence, 0–1.
    pub confidence: Option<f64>,
    /// Why it was decided so; shown to the user.
    pub reason: Option<String>,
    /// `policy` or `review` once decided.
    pub decided_by: Option<&'static str>,
    pub appeal: Option<String>,
    pub photo: PhotoFacts,
    pub capture_age_seconds: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<Verification> for VerificationView {
    fn from(v: Verification) -> Self {
        let capture_age_seconds = v.capture_age_seconds();
        Self {
            decided_by: v.decided_by.as_deref().map(|by| if by == "policy" { "policy" } else { "review" }),
            id: v.id,
            mission_id: v.mission_id,
            state: v.state,
            confidence: v.decision_confidence,
            reason: v.reason,
            appeal: v.appeal,
            photo: v.photo,
            capture_age_seconds,
            created_at: chrono::DateTime::from_timestamp_millis(v.created_at).unwrap_or_default(),
            decided_at: v.decided_at.and_then(chrono::DateTime::from_timestamp_millis),
        }
    }
}
