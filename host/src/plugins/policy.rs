//! Running a verification policy, pre-linked for its contract version; the vision capability it
//! may import is [`crate::vision::Vision`].

use super::Contract;
use super::bindings;
use super::engine::PluginEngine;
use super::generator::record_metrics;
use super::limits::{CallError, CallErrorKind};
use super::sandbox::Sandbox;
use super::validate;
use crate::language::Language;
use crate::missions::MissionContent;
use crate::verification::{PhotoFeatures, Verdict};
use crate::vision::Vision;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::Component;

/// A verification policy version, compiled once and pre-linked for the contract version it
/// implements.
pub struct LoadedPolicy {
    pub name: String,
    pub contract: Contract,
    bindings: bindings::Policy,
}

#[derive(Debug)]
pub struct Verified {
    pub verdict: Verdict,
    pub fuel_used: u64,
    pub peak_memory_bytes: usize,
}

impl LoadedPolicy {
    pub fn new(
        engine: &PluginEngine,
        name: &str,
        component: &Component,
        contract: Contract,
    ) -> anyhow::Result<Self> {
        let bindings = bindings::Policy::new(&engine.policy_linker, component, contract)?;
        Ok(Self { name: name.to_owned(), contract, bindings })
    }

    #[tracing::instrument(skip_all, fields(plugin = %self.name))]
    pub async fn verify(
        &self,
        engine: &PluginEngine,
        vision: Option<Arc<dyn Vision>>,
        mission: &MissionContent,
        photo: PhotoFeatures,
        language: Language,
        seed: u64,
    ) -> Result<Verified, CallError> {
        let started = Instant::now();
        let outcome = self.call(engine, vision, mission, photo, language, seed).await;
        record_metrics(&self.name, "verify", started, outcome.as_ref().map(|v| v.fuel_used));
        outcome
    }

    async fn call(
        &self,
        engine: &PluginEngine,
        vision: Option<Arc<dyn Vision>>,
        mission: &MissionContent,
        photo: PhotoFeatures,
        language: Language,
        seed: u64,
    ) -> Result<Verified, CallError> {
        let sandbox = Sandbox::new(&self.name, &engine.limits, vision, seed);
        let clock = sandbox.clock.clone();
        let mut store = engine.store(sandbox)?;
        let run = self.bindings.verify(&mut store, mission, &photo, language);
        // The component's own time and the vision time are budgeted apart, whether it runs or
        // waits in the host (a WASI sleep counts as its own time).
        let limits = &engine.limits;
        let spent = clock.budget_spent(limits.timeout(), Duration::from_millis(limits.vision_timeout_ms));
        let result = tokio::select! {
            outcome = run => match outcome {
                Err(err) => return Err(engine.classify(&err, &store)),
                Ok(result) => result,
            },
            () = spent => return Err(CallError::new(CallErrorKind::Timeout, "wall-time budget spent")),
        };
        let fuel_used = engine.limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let verdict = result.map_err(|message| CallError::new(CallErrorKind::PluginError, message))?;
        validate::verdict(&verdict)?;
        let peak_memory_bytes = store.data().peak_memory_bytes;
        Ok(Verified { verdict, fuel_used, peak_memory_bytes })
    }
}
