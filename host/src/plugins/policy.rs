//! Running a verification policy; the vision capability it may import.

use super::bindings::policy_world::VerificationPolicyPre;
use super::bindings::{Mission, PhotoFeatures, Verdict, VisionError};
use super::engine::PluginEngine;
use super::generator::record_metrics;
use super::limits::{CallError, CallErrorKind};
use super::sandbox::{Sandbox, VisionExchange};
use super::validate;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::Component;

/// The host side of `vision.grade`: a model grading a photo the host holds.
#[async_trait]
pub trait Vision: Send + Sync + 'static {
    async fn grade(&self, photo: u64, prompt: &str, json_schema: &str) -> Result<String, VisionError>;
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
    /// Every vision request and answer, in order: enough to replay the call exactly.
    pub exchanges: Vec<VisionExchange>,
    pub fuel_used: u64,
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
    ) -> Result<Verified, CallError> {
        let started = Instant::now();
        let outcome = self.call(engine, vision, mission, photo).await;
        record_metrics(&self.name, "verify", started, outcome.as_ref().map(|v| v.fuel_used));
        outcome
    }

    async fn call(
        &self,
        engine: &PluginEngine,
        vision: Option<Arc<dyn Vision>>,
        mission: &Mission,
        photo: PhotoFeatures,
    ) -> Result<Verified, CallError> {
        let mut store = engine.store(Sandbox::new(&self.name, &engine.limits, vision))?;
        let run = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            instance.weatherwise_plugins_policy().call_verify(&mut store, mission, photo).await
        };
        let result = match tokio::time::timeout(engine.limits.timeout(), run).await {
            Err(_) => return Err(CallError::new(CallErrorKind::Timeout, "wall-time budget spent")),
            Ok(Err(err)) => return Err(engine.classify(&err, &store)),
            Ok(Ok(result)) => result,
        };
        let fuel_used = engine.limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let verdict = result.map_err(|message| CallError::new(CallErrorKind::PluginError, message))?;
        validate::verdict(&verdict)?;
        Ok(Verified { verdict, exchanges: std::mem::take(&mut store.data_mut().exchanges), fuel_used })
    }
}
