//! `weatherwise:plugins@0.2.0` (`wit/0.2.0/plugins.wit`): the generated bindings, the host
//! imports, and the conversions from and to the host's types. Beyond 0.1.0 it carries the
//! user's language to both worlds and the area of each alert (the user's region when the
//! source named none).

use super::same_enum;
use crate::language::Language;
use crate::missions::{GenerationContext, MissionContent};
use crate::plugins::sandbox::{LogLevel, Sandbox};
use crate::verification::{self, PhotoFeatures, Verdict};
use crate::{language, vision, weather};
use wasmtime::Store;
use wasmtime::component::{Component, HasSelf, Linker};

mod generator_world {
    wasmtime::component::bindgen!({
        world: "mission-generator",
        path: "../wit/0.2.0",
        imports: { default: async },
        exports: { default: async },
    });
}

mod policy_world {
    wasmtime::component::bindgen!({
        world: "verification-policy",
        path: "../wit/0.2.0",
        imports: { default: async },
        exports: { default: async },
        with: {
            "weatherwise:plugins/types": super::generator_world::weatherwise::plugins::types,
            "weatherwise:plugins/log": super::generator_world::weatherwise::plugins::log,
        },
    });
}

use generator_world::exports::weatherwise::plugins::generator as wit_generator;
use generator_world::weatherwise::plugins::{log as wit_log, types as wit};
use policy_world::exports::weatherwise::plugins::policy as wit_policy;
use policy_world::weatherwise::plugins::vision as wit_vision;

pub fn add_to_linkers(
    generators: &mut Linker<Sandbox>,
    policies: &mut Linker<Sandbox>,
) -> anyhow::Result<()> {
    generator_world::MissionGenerator::add_to_linker::<Sandbox, HasSelf<Sandbox>>(generators, |state| state)?;
    policy_world::VerificationPolicy::add_to_linker::<Sandbox, HasSelf<Sandbox>>(policies, |state| state)?;
    Ok(())
}

pub struct Generator(generator_world::MissionGeneratorPre<Sandbox>);

impl Generator {
    pub fn new(linker: &Linker<Sandbox>, component: &Component) -> anyhow::Result<Self> {
        Ok(Self(generator_world::MissionGeneratorPre::new(linker.instantiate_pre(component)?)?))
    }

    pub async fn generate(
        &self,
        store: &mut Store<Sandbox>,
        weather: &[weather::SlotWeather],
        context: &GenerationContext,
    ) -> wasmtime::Result<Result<Vec<MissionContent>, String>> {
        let weather: Vec<wit::WeatherSnapshot> =
            weather.iter().map(|slot| snapshot(slot, &context.region)).collect();
        let user = wit_generator::UserContext {
            region: context.region.clone(),
            local_date: context.local_date.clone(),
            recent_mission_keys: context.recent_mission_keys.clone(),
            language: context.language.into(),
        };
        let instance = self.0.instantiate_async(&mut *store).await?;
        let result =
            instance.weatherwise_plugins_generator().call_generate(&mut *store, &weather, &user).await?;
        Ok(result.map(|missions| missions.into_iter().map(MissionContent::from).collect()))
    }
}

pub struct Policy(policy_world::VerificationPolicyPre<Sandbox>);

impl Policy {
    pub fn new(linker: &Linker<Sandbox>, component: &Component) -> anyhow::Result<Self> {
        Ok(Self(policy_world::VerificationPolicyPre::new(linker.instantiate_pre(component)?)?))
    }

    pub async fn verify(
        &self,
        store: &mut Store<Sandbox>,
        mission: &MissionContent,
        photo: &PhotoFeatures,
        language: Language,
    ) -> wasmtime::Result<Result<Verdict, String>> {
        let mission = wit::Mission::from(mission);
        let photo = features(photo);
        let context = wit_policy::VerificationContext { language: language.into() };
        let instance = self.0.instantiate_async(&mut *store).await?;
        let result =
            instance.weatherwise_plugins_policy().call_verify(&mut *store, &mission, photo, context).await?;
        Ok(result.map(Verdict::from))
    }
}

same_enum!(weather::Slot <=> wit::Slot { Morning, Lunch, Evening });
same_enum!(weather::Sky <=> wit::Sky { Clear, MostlyCloudy, Overcast, Unknown });
same_enum!(weather::Precipitation <=> wit::Precipitation { None, Rain, RainAndSnow, Snow, Shower, Drizzle });
same_enum!(weather::AlertKind <=> wit::AlertKind {
    HeatWave, ColdWave, Typhoon, HeavyRain, HeavySnow, StrongWind, Dry, StormSurge, HighSeas, YellowDust
});
same_enum!(weather::AlertLevel <=> wit::AlertLevel { Advisory, Warning });
same_enum!(language::Language <=> wit::Language { Ko, En });
same_enum!(vision::VisionError <=> wit_vision::VisionError {
    BudgetExhausted, Timeout, Unavailable, Refused, InvalidAnswer
});
same_enum!(verification::Decision <=> wit_policy::Decision { Approved, Rejected, NeedsReview });

/// `region` stands for the area of an alert whose source named none.
fn snapshot(slot: &weather::SlotWeather, region: &str) -> wit::WeatherSnapshot {
    wit::WeatherSnapshot {
        slot: slot.slot.into(),
        temperature_c: slot.temperature_c,
        sky: slot.sky.into(),
        precipitation: slot.precipitation.into(),
        precipitation_mm: slot.precipitation_mm,
        wind_speed_ms: slot.wind_speed_ms,
        humidity_pct: slot.humidity_pct.min(100),
        pm10: slot.pm10,
        pm25: slot.pm25,
        alerts: slot
            .alerts
            .iter()
            .map(|alert| wit::Alert {
                kind: alert.kind.into(),
                level: alert.level.into(),
                area: alert
                    .area
                    .clone()
                    .filter(|area| !area.trim().is_empty())
                    .unwrap_or_else(|| region.to_owned()),
            })
            .collect(),
        stale: slot.stale,
    }
}

impl From<&MissionContent> for wit::Mission {
    fn from(mission: &MissionContent) -> Self {
        Self {
            key: mission.key.clone(),
            title: mission.title.clone(),
            description: mission.description.clone(),
            points: mission.points,
            slot: mission.slot.into(),
            rubric: mission.rubric.clone(),
            outdoor: mission.outdoor,
        }
    }
}

impl From<wit::Mission> for MissionContent {
    fn from(mission: wit::Mission) -> Self {
        Self {
            key: mission.key,
            title: mission.title,
            description: mission.description,
            points: mission.points,
            slot: mission.slot.into(),
            rubric: mission.rubric,
            outdoor: mission.outdoor,
        }
    }
}

fn features(photo: &PhotoFeatures) -> wit_policy::PhotoFeatures {
    wit_policy::PhotoFeatures {
        handle: photo.handle,
        width: photo.width,
        height: photo.height,
        capture_age_seconds: photo.capture_age_seconds,
        gps_distance_m: photo.gps_distance_m,
        brightness: photo.brightness,
        perceptual_hash: photo.perceptual_hash,
        reused: photo.reused,
    }
}

impl From<wit_policy::Verdict> for Verdict {
    fn from(verdict: wit_policy::Verdict) -> Self {
        Self { decision: verdict.decision.into(), confidence: verdict.confidence, reason: verdict.reason }
    }
}

impl wit::Host for Sandbox {}

impl wit_log::Host for Sandbox {
    async fn log(&mut self, level: wit_log::Level, message: String) {
        let level = match level {
            wit_log::Level::Debug => LogLevel::Debug,
            wit_log::Level::Info => LogLevel::Info,
            wit_log::Level::Warn => LogLevel::Warn,
            wit_log::Level::Error => LogLevel::Error,
        };
        self.log_line(level, &message);
    }
}

impl wit_vision::Host for Sandbox {
    async fn grade(
        &mut self,
        photo: u64,
        prompt: String,
        json_schema: String,
    ) -> Result<String, wit_vision::VisionError> {
        self.grade_photo(photo, &prompt, &json_schema).await.map_err(Into::into)
    }
}
