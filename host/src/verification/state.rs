//! What the verification domain holds: its stores, where photos are prepared and kept, who
//! grades them, and who hears of a decision.

use super::store::VerificationStore;
use super::worker::JobSignal;
use crate::audit::AuditLog;
use crate::config::{RateLimit, VerificationConfig};
use crate::files::FileStore;
use crate::missions::MissionStore;
use crate::notifications::Notifier;
use crate::photos::PhotoPipeline;
use crate::plugins::registry::PluginRegistry;
use crate::points::PointsService;
use crate::state::StateStore;
use crate::vision::VisionService;
use std::sync::Arc;

pub struct Verifier {
    pub verifications: VerificationStore,
    pub missions: MissionStore,
    pub files: Arc<dyn FileStore>,
    pub photos: PhotoPipeline,
    pub vision: VisionService,
    pub plugins: Arc<PluginRegistry>,
    pub points: PointsService,
    pub notifier: Notifier,
    pub audit: AuditLog,
    /// Wakes this instance's workers when an upload queues a job here.
    pub job_signal: JobSignal,
    pub config: VerificationConfig,
    /// Where the per-user upload windows are counted (shared by every instance).
    pub state: Arc<dyn StateStore>,
    pub upload_limit: RateLimit,
}
