//! `weatherwise plugin …`: what plugin authors and operators run from a shell.

use super::calls::ReplayReport;
use super::dry_run::{PHOTO_HANDLE, StatedFeatures, prepare_photo};
use super::inspect::{self, Loaded};
use super::records::{PolicyVerdict, SqlRecordStore};
use super::registry::PluginRegistry;
use super::store::SqlPluginStore;
use super::{PluginEngine, gate};
use crate::cli::PluginCommand;
use crate::config::Config;
use crate::missions::MissionContent;
use crate::vision::VisionService;
use anyhow::Context;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

fn read(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("reading {}", file.display()))
}

pub async fn run(command: PluginCommand, config: &Config) -> anyhow::Result<()> {
    let engine = PluginEngine::new(config.plugins.clone())?;
    let output = match command {
        PluginCommand::Check { file } => {
            let bytes = read(&file)?;
            let (report, loaded) = inspect::load(&engine, "check", &bytes)?;
            let size = bytes.len() as u64;
            let scorecard = match &loaded {
                Loaded::Generator(generator) => gate::score_generator(&engine, generator, size).await,
                Loaded::Policy(policy) => gate::score_policy(&engine, policy, size).await,
            };
            let mut output = serde_json::to_value(&report)?;
            output["scorecard"] = serde_json::to_value(&scorecard)?;
            output
        }
        PluginCommand::Run { file, weather: Some(weather), .. } => {
            let (_, loaded) = inspect::load(&engine, "run", &read(&file)?)?;
            let Loaded::Generator(generator) = loaded else {
                anyhow::bail!("{} is a verification policy: give --photo and --mission", file.display())
            };
            let fixture: super::dry_run::DryRunRequest = serde_json::from_slice(&read(&weather)?)
                .with_context(|| format!("parsing {}", weather.display()))?;
            let generated =
                generator.generate(&engine, &fixture.weather, &fixture.user, rand::random()).await?;
            serde_json::json!({
                "missions": generated.missions,
                "dropped_for_safety": generated.dropped_for_safety,
                "fuel_used": generated.fuel_used,
            })
        }
        PluginCommand::Run {
            file,
            photo: Some(photo),
            mission: Some(mission),
            vision_url,
            vision_model,
            capture_age_seconds,
            gps_distance_m,
            reused,
            language,
            ..
        } => {
            let (_, loaded) = inspect::load(&engine, "run", &read(&file)?)?;
            let Loaded::Policy(policy) = loaded else {
                anyhow::bail!("{} is a mission generator: give --weather", file.display())
            };
            let mission: MissionContent =
                serde_json::from_slice(&read(&mission)?).context("parsing the mission JSON")?;
            let stated = StatedFeatures { capture_age_seconds, gps_distance_m, reused };
            let (features, image) = prepare_photo(&read(&photo)?, stated)?;
            let mut vision_config = config.vision.clone();
            if let Some(url) = vision_url {
                vision_config.base_url = Some(url);
            }
            if let Some(model) = vision_model {
                vision_config.model = model;
            }
            let service =
                VisionService::from_config(&vision_config, Arc::new(crate::state::MemoryState::new()));
            let grader = service.grader(HashMap::from([(PHOTO_HANDLE, image)]));
            let language = language.unwrap_or_default();
            let verified =
                policy.verify(&engine, Some(grader), &mission, features, language, rand::random()).await?;
            serde_json::json!({
                "verdict": PolicyVerdict::from(verified.verdict),
                "fuel_used": verified.fuel_used,
            })
        }
        PluginCommand::Run { .. } => {
            anyhow::bail!("give --weather (generators) or --photo and --mission (policies)")
        }
        PluginCommand::Replay { call_id } => serde_json::to_value(replay(config, engine, &call_id).await?)?,
    };
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

async fn replay(config: &Config, engine: PluginEngine, call_id: &str) -> anyhow::Result<ReplayReport> {
    let db = crate::db::Database::connect(&config.database_url(), 2).await?;
    let registry = PluginRegistry::open(
        engine,
        Arc::new(SqlPluginStore::new(db.clone())),
        Arc::new(SqlRecordStore::new(db.clone())),
        db,
        Arc::new(crate::bus::InProcessBus::new()),
        crate::tasks::Tasks::new(),
    );
    registry.replay(call_id).await.map_err(anyhow::Error::from)
}
