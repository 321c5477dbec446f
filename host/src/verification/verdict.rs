//! What a verification policy is shown about a photo, and what it decides: the host's own
//! types, which each plugin contract version converts at the plugin boundary.

use super::model::Decision;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the host measured on a photo; a policy never sees its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhotoFeatures {
    /// The handle under which the policy's vision requests name the photo.
    pub handle: u64,
    pub width: u32,
    pub height: u32,
    /// Seconds between the EXIF capture time and the upload, when the photo has one.
    pub capture_age_seconds: Option<i64>,
    /// Metres between the EXIF position and the user's location, when both are known.
    pub gps_distance_m: Option<f32>,
    /// Mean luma, 0 (black) to 1 (white).
    pub brightness: f32,
    /// 64-bit dHash, written as 16 hexadecimal digits (a JSON number would lose bits).
    #[serde(serialize_with = "hash_to_hex", deserialize_with = "hash_from_hex")]
    #[schema(value_type = String)]
    pub perceptual_hash: u64,
    /// True when the photo matches an earlier submission.
    pub reused: bool,
}

fn hash_to_hex<S: Serializer>(hash: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format!("{hash:016x}"))
}

/// A malformed hash reads as 0 rather than making a whole call record unreadable.
fn hash_from_hex<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let text = String::deserialize(deserializer)?;
    Ok(u64::from_str_radix(&text, 16).unwrap_or(0))
}

/// A policy's decision about a photo.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub decision: Decision,
    /// 0–1.
    pub confidence: f32,
    /// Shown to the user and to reviewers.
    pub reason: String,
}
