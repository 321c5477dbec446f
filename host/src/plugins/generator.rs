//! Running a mission generator: instantiate from the pre-linked component, call, validate, and
//! apply the safety rule no generator can bypass.

use super::Contract;
use super::bindings;
use super::engine::PluginEngine;
use super::limits::{CallError, CallErrorKind};
use super::sandbox::Sandbox;
use super::validate;
use crate::language::Language;
use crate::missions::{GenerationContext, MissionContent};
use crate::weather::{AlertKind, AlertLevel, SlotWeather};
use std::time::Instant;
use wasmtime::component::Component;

/// Alerts under which a slot gets no outdoor mission (at warning level).
const UNSAFE_OUTDOORS: &[AlertKind] = &[
    AlertKind::HeatWave,
    AlertKind::ColdWave,
    AlertKind::Typhoon,
    AlertKind::HeavyRain,
    AlertKind::HeavySnow,
    AlertKind::StrongWind,
];

/// A generator version, compiled once and pre-linked for the contract version it implements.
pub struct LoadedGenerator {
    pub name: String,
    pub contract: Contract,
    bindings: bindings::Generator,
}

#[derive(Debug)]
pub struct Generated {
    pub missions: Vec<MissionContent>,
    /// The language the missions are written in: the one asked of a generator whose contract
    /// carries it; for one of 0.1.0, which is given none, the one its titles are written in.
    pub language: Language,
    /// Keys of outdoor missions removed because of a warning in their slot.
    pub dropped_for_safety: Vec<String>,
    pub fuel_used: u64,
    pub peak_memory_bytes: usize,
}

impl LoadedGenerator {
    pub fn new(
        engine: &PluginEngine,
        name: &str,
        component: &Component,
        contract: Contract,
    ) -> anyhow::Result<Self> {
        let bindings = bindings::Generator::new(&engine.generator_linker, component, contract)?;
        Ok(Self { name: name.to_owned(), contract, bindings })
    }

    #[tracing::instrument(skip_all, fields(plugin = %self.name))]
    pub async fn generate(
        &self,
        engine: &PluginEngine,
        weather: &[SlotWeather],
        context: &GenerationContext,
        seed: u64,
    ) -> Result<Generated, CallError> {
        let started = Instant::now();
        let outcome = self.call(engine, weather, context, seed).await;
        record_metrics(&self.name, "generate", started, outcome.as_ref().map(|g| g.fuel_used));
        outcome
    }

    async fn call(
        &self,
        engine: &PluginEngine,
        weather: &[SlotWeather],
        context: &GenerationContext,
        seed: u64,
    ) -> Result<Generated, CallError> {
        let mut store = engine.store(Sandbox::new(&self.name, &engine.limits, None, seed))?;
        let run = self.bindings.generate(&mut store, weather, context);
        let result = match tokio::time::timeout(engine.limits.timeout(), run).await {
            Err(_) => return Err(CallError::new(CallErrorKind::Timeout, "wall-time budget spent")),
            Ok(Err(err)) => return Err(engine.classify(&err, &store)),
            Ok(Ok(result)) => result,
        };
        let fuel_used = engine.limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let missions = result.map_err(|message| CallError::new(CallErrorKind::PluginError, message))?;
        validate::missions(&missions)?;
        let (missions, dropped_for_safety) = enforce_safety(missions, weather);
        for key in &dropped_for_safety {
            tracing::warn!(plugin = %self.name, mission = %key, "outdoor mission dropped: weather warning in its slot");
            metrics::counter!("plugin_missions_dropped_for_safety_total", "plugin" => self.name.clone())
                .increment(1);
        }
        let peak_memory_bytes = store.data().peak_memory_bytes;
        let language = match self.contract {
            Contract::V0_1 => {
                let titles: Vec<&str> = missions.iter().map(|mission| mission.title.as_str()).collect();
                Language::of_script(&titles.join(" "))
            }
            Contract::V0_2 => context.language,
        };
        Ok(Generated { missions, language, dropped_for_safety, fuel_used, peak_memory_bytes })
    }
}

/// Removes outdoor missions from slots under a dangerous-weather warning.
pub fn enforce_safety(
    missions: Vec<MissionContent>,
    weather: &[SlotWeather],
) -> (Vec<MissionContent>, Vec<String>) {
    let unsafe_slot = |mission: &MissionContent| {
        weather.iter().filter(|snapshot| snapshot.slot == mission.slot).any(|snapshot| {
            snapshot
                .alerts
                .iter()
                .any(|alert| alert.level == AlertLevel::Warning && UNSAFE_OUTDOORS.contains(&alert.kind))
        })
    };
    let (dropped, kept): (Vec<MissionContent>, Vec<MissionContent>) =
        missions.into_iter().partition(|mission| mission.outdoor && unsafe_slot(mission));
    (kept, dropped.into_iter().map(|mission| mission.key).collect())
}

pub(super) fn record_metrics(
    plugin: &str,
    call: &'static str,
    started: Instant,
    outcome: Result<u64, &CallError>,
) {
    let labels = [("plugin", plugin.to_owned()), ("call", call.to_owned())];
    metrics::histogram!("plugin_call_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    metrics::counter!("plugin_calls_total", &labels).increment(1);
    match outcome {
        Ok(fuel) => metrics::histogram!("plugin_call_fuel", &labels).record(fuel as f64),
        Err(err) => {
            metrics::counter!("plugin_call_errors_total", "plugin" => plugin.to_owned(), "call" => call, "kind" => err.kind.as_str())
                .increment(1);
        }
    }
}
