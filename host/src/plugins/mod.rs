//! The plugin runtime: mission generators and verification policies as sandboxed WebAssembly
//! components. Their contracts are versioned WIT packages (`wit/<version>/plugins.wit`); a
//! component implements one version ([`Contract`]), found from its exports at upload and
//! stored with it. Outside this module only the host's own types are used: [`bindings`] holds
//! one module per contract version, which converts them to that version's types and back.
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
pub mod call_clock;
pub mod calls;
pub mod cli;
pub mod dry_run;
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

/// The versions of the plugin contracts the host runs (`wit/<version>/plugins.wit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Contract {
    /// `weatherwise:plugins@0.1.0`: the first contract; no language, alerts without area.
    #[serde(rename = "0.1.0")]
    V0_1,
    /// `weatherwise:plugins@0.2.0`: the user's language reaches both worlds; alerts name
    /// their area.
    #[serde(rename = "0.2.0")]
    V0_2,
}

impl Contract {
    pub const ALL: [Contract; 2] = [Contract::V0_1, Contract::V0_2];

    /// The WIT package version, e.g. `0.2.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V0_1 => "0.1.0",
            Self::V0_2 => "0.2.0",
        }
    }

    pub fn parse(version: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|contract| contract.as_str() == version)
    }

    /// Reads a contract column, which only [`Contract::as_str`] writes (and whose default for
    /// versions stored before contracts were recorded is `0.1.0`).
    pub fn from_column(text: &str) -> Self {
        Self::parse(text).unwrap_or(Self::V0_1)
    }
}
