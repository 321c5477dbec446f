//! The generator corpus: weather a generator must handle and the properties its missions must
//! have, in each language it is given.

use super::{GATE_SEED, GENERATOR_CORPUS, Run, Tally, mentions_any, written_in};
use crate::language::Language;
use crate::missions::{GenerationContext, MissionContent};
use crate::plugins::World;
use crate::plugins::engine::PluginEngine;
use crate::plugins::generator::LoadedGenerator;
use crate::plugins::records::Scorecard;
use crate::weather::{Slot, SlotWeather};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Instant;

#[derive(Deserialize)]
struct GeneratorCorpus {
    cases: Vec<GeneratorCase>,
}

#[derive(Deserialize)]
struct GeneratorCase {
    name: String,
    weather: Vec<SlotWeather>,
    user: GenerationContext,
    expect: GeneratorExpect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GeneratorExpect {
    min_missions: usize,
    #[serde(default)]
    indoor_slots: Vec<Slot>,
    /// Per slot and language, stems of which one must start a word of the mission's texts.
    #[serde(default)]
    mentions_any: HashMap<Slot, HashMap<Language, Vec<String>>>,
}

pub async fn score_generator(
    engine: &PluginEngine,
    generator: &LoadedGenerator,
    size_bytes: u64,
) -> Scorecard {
    let corpus: GeneratorCorpus =
        serde_json::from_str(GENERATOR_CORPUS).expect("the bundled corpus is valid JSON");
    let mut tally = Tally::default();
    for case in &corpus.cases {
        for run in Run::all(generator.contract) {
            let user = GenerationContext { language: run.language, ..case.user.clone() };
            let started = Instant::now();
            let outcome = match generator.generate(engine, &case.weather, &user, GATE_SEED).await {
                Err(err) => Err(err.to_string()),
                // The raw proposal is judged, before the host's own safety rule removes anything.
                Ok(generated) => check_missions(
                    &generated.missions,
                    &generated.dropped_for_safety,
                    &user,
                    run,
                    &case.expect,
                )
                .map(|()| (generated.fuel_used, generated.peak_memory_bytes)),
            };
            tally.record(&run.name(&case.name), started, outcome);
        }
    }
    tally.scorecard(World::MissionGenerator, generator.contract, size_bytes)
}

fn check_missions(
    missions: &[MissionContent],
    dropped_for_safety: &[String],
    user: &GenerationContext,
    run: Run,
    expect: &GeneratorExpect,
) -> Result<(), String> {
    if let Some(key) = dropped_for_safety.first() {
        return Err(format!("proposed outdoor mission `{key}` under a warning"));
    }
    if missions.len() < expect.min_missions {
        return Err(format!("{} missions, at least {} expected", missions.len(), expect.min_missions));
    }
    if let Some(repeat) = missions.iter().find(|m| user.recent_mission_keys.contains(&m.key)) {
        return Err(format!("repeated the recent mission `{}`", repeat.key));
    }
    for mission in missions {
        if mission.outdoor && expect.indoor_slots.contains(&mission.slot) {
            return Err(format!("outdoor mission `{}` in a slot that must stay indoors", mission.key));
        }
        // The title only: a description may name a place, and Korean place names are Hangul
        // in any language.
        if run.judged_on_language && !written_in(&mission.title, run.language) {
            return Err(format!(
                "the title of `{}` is not written in {}",
                mission.key,
                run.language.as_str()
            ));
        }
    }
    for (slot, by_language) in &expect.mentions_any {
        let Some(stems) = by_language.get(&run.language) else { continue };
        let Some(mission) = missions.iter().find(|m| m.slot == *slot) else {
            return Err(format!("no mission for the {} slot", slot.as_str()));
        };
        let text = format!("{} {} {}", mission.title, mission.description, mission.rubric);
        if !mentions_any(&text, stems) {
            return Err(format!("`{}` does not fit the weather (expected one of {stems:?})", mission.key));
        }
    }
    Ok(())
}
