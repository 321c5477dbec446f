//! The plugin runtime: mission generators and verification policies as sandboxed WebAssembly
//! components (contracts in `wit/plugins.wit`).
//!
//! Invariants:
//! - **plugins never touch the database, the network or the filesystem**: a store gets an empty
//!   WASI context (no preopens, environment, arguments or sockets; a frozen clock and seeded
//!   randomness) and only the imports its world names;
//! - **every call is bounded**: fuel, an epoch deadline, a wall-clock timeout that also covers
//!   host imports, a per-instance memory cap, and host-side validation of the output;
//! - **a failing plugin fails only its call**: traps, timeouts and bad outputs come back as a
//!   [`CallError`] with a kind, and are counted in metrics.

pub mod bindings;
pub mod bundled;
pub mod calls;
pub mod cli;
pub mod dry_run;
pub mod dto;
pub mod engine;
pub mod gate;
pub mod generator;
pub mod inspect;
pub mod limits;
pub mod policy;
pub mod record_routes;
pub mod records;
pub mod registry;
pub mod rng;
pub mod routes;
pub mod sandbox;
pub mod store;
pub mod validate;

pub use engine::PluginEngine;
pub use limits::{CallError, CallErrorKind, Limits};

/// The worlds a component can implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    MissionGenerator,
    VerificationPolicy,
}

impl World {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissionGenerator => "mission-generator",
            Self::VerificationPolicy => "verification-policy",
        }
    }

    /// Reads a world column, which only [`World::as_str`] writes.
    pub fn from_column(text: &str) -> Self {
        if text == Self::VerificationPolicy.as_str() {
            Self::VerificationPolicy
        } else {
            Self::MissionGenerator
        }
    }
}

/// What the plugin admin API needs: the registry, the vision service (for dry-runs of a
/// policy) and the audit log.
#[derive(Clone)]
pub struct PluginsState {
    pub registry: std::sync::Arc<registry::PluginRegistry>,
    pub vision: crate::vision::VisionService,
    pub audit: crate::audit::AuditLog,
}
