//! MissionService: each Asia/Seoul day, at most three per user (one per slot), made by the active
//! generator component from the day's weather and stored so the day's set never changes.

pub mod model;
pub mod routes;
pub mod store;
pub mod today;

pub use model::{GenerationContext, Mission, MissionContent, MissionDay, MissionState, MissionView};
pub use store::MissionStore;

/// What the mission routes and today's generation need.
pub struct MissionService {
    pub store: MissionStore,
    /// The profile's language choice is read on the first request of the day.
    pub users: std::sync::Arc<dyn crate::accounts::UserStore>,
    /// A mission's page lists its verifications.
    pub verifications: crate::verification::VerificationStore,
    pub weather: crate::weather::WeatherService,
    /// Where the user asked for missions: the province that hears of its alert rooms.
    pub locations: crate::accounts::locations::LastLocations,
    pub plugins: std::sync::Arc<crate::plugins::registry::PluginRegistry>,
    /// Shown with each mission as the attempts it has left.
    pub max_daily_attempts: i64,
}
