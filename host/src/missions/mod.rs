//! Missions: each Asia/Seoul day, at most three per user (one per slot), made by the active
//! generator component from the day's weather and stored so the day's set never changes.

pub mod model;
pub mod routes;
pub mod store;
pub mod today;

pub use model::{GenerationContext, Mission, MissionContent, MissionDay, MissionState, MissionView};
pub use store::MissionStore;
