//! Running a verification policy; the vision capability it may import.

use super::bindings::policy_world::VerificationPolicyPre;
use super::bindings::{Mission, PhotoFeatures, Verdict, VisionError};
use super::engine::PluginEngine;
use super::generator::record_metrics;
use super::limits::{CallError, CallErrorKind};
use super::sandbox::Sandbox;
use super::validate;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::Component;

/// The host side of `vision.grade`: a model grading a photo the host holds.
#[async_trait]
pub trait Vision: Send + Sync + 'static {
    /// `max_tokens` is what is left of the call's token budget.
    async fn grade(
        &self,
        photo: u64,
        prompt: &str,
        json_schema: &str,
        max_tokens: u32,
    ) -> Result<VisionAnswer, VisionError>;
}

/// A schema-valid answer of the model, and the tokens it cost.
#[derive(Debug, Clone)]
pub struct VisionAnswer {
    pub content: String,
    pub tokens: u32,
}

/// A verification policy version, compiled once and pre-linked.
#[derive(Clone)]
pub struct LoadedPolicy {
    pub name: String,
    pre: VerificationPolicyPre<Sandbox>,
}

#[derive(Debug)]
pub struct Verified {
    pub verdict: Verdict,
    pub fuel_used: u64,
    pub peak_memory_bytes: usize,
}

impl LoadedPolicy {
    pub fn new(engine: &PluginEngine, name: &str, component: &Component) -> anyhow::Result<Self> {
        let instance_pre = engine.policy_linker.instantiate_pre(component)?;
        Ok(Self { name: name.to_owned(), pre: VerificationPolicyPre::new(instance_pre)? })
    }

    #[tracing::instrument(skip_all, fields(plugin = %self.name))]
    pub async fn verify(
        &self,
        engine: &PluginEngine,
        vision: Option<Arc<dyn Vision>>,
        mission: &Mission,
        photo: PhotoFeatures,
        seed: u64,
    ) -> Result<Verified, CallError> {
        let started = Instant::now();
        let outcome = self.call(engine, vision, mission, photo, seed).await;
        record_metrics(&self.name, "verify", started, outcome.as_ref().map(|v| v.fuel_used));
        outcome
    }

    async fn call(
        &self,
        engine: &PluginEngine,
        vision: Option<Arc<dyn Vision>>,
        mission: &Mission,
        photo: PhotoFeatures,
        seed: u64,
    ) -> Result<Verified, CallError> {
        let timeout = engine.limits.policy_timeout();
        let mut store = engine.store(Sandbox::new(&self.name, &engine.limits, vision, seed))?;
        let run = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            instance.weatherwise_plugins_policy().call_verify(&mut store, mission, photo).await
        };
        let result = match tokio::time::timeout(timeout, run).await {
            Err(_) => return Err(CallError::new(CallErrorKind::Timeout, "wall-time budget spent")),
            Ok(Err(err)) => return Err(engine.classify(&err, &store)),
            Ok(Ok(result)) => result,
        };
        let fuel_used = engine.limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let verdict = result.map_err(|message| CallError::new(CallErrorKind::PluginError, message))?;
        validate::verdict(&verdict)?;
        let peak_memory_bytes = store.data().peak_memory_bytes;
        Ok(Verified { verdict, fuel_used, peak_memory_bytes })
    }
}
