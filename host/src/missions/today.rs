//! Today's missions: generated on the user's first request of the (Asia/Seoul) day by the
//! active generator component from that day's weather, then stored, so every later request
//! of the day returns the same set.
//!
//! They are written in the language of that first request ([`Language::for_request`]: the
//! profile's choice, else `Accept-Language`, else Korean) and keep it: a language chosen later
//! applies from the next day's missions. (A generator of contract 0.1.0 is given no language;
//! its missions are stored with the language they are written in.)

use super::MissionService;
use super::model::{GenerationContext, Mission, MissionDay};
use super::store::NewDay;
use crate::language::Language;
use crate::plugins::calls::Target;
use crate::plugins::records::Purpose;
use crate::weather::{self, WeatherError};

/// Mission keys of the last week are handed to the generator so it avoids repeats.
const RECENT_DAYS: i64 = 7;
const RECENT_KEYS: i64 = 21;

#[derive(Debug, thiserror::Error)]
pub enum TodayError {
    #[error("a location (lat, lon) is needed to make today's missions")]
    LocationNeeded,
    #[error(transparent)]
    Weather(#[from] WeatherError),
    #[error("the mission generator failed; try again shortly")]
    GeneratorFailed,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub struct Today {
    pub day: MissionDay,
    pub missions: Vec<Mission>,
}

/// `accept_language` is the request's `Accept-Language` header, if any.
pub async fn missions_today(
    service: &MissionService,
    user_id: &str,
    location: Option<(f64, f64)>,
    accept_language: Option<&str>,
    now_ms: i64,
) -> Result<Today, TodayError> {
    let date = weather::seoul_date(now_ms);
    let local_date = date.format("%Y-%m-%d").to_string();
    if let Some(day) = service.store.day(user_id, &local_date).await? {
        let missions = service.store.of_day(user_id, &local_date).await?;
        return Ok(Today { day, missions });
    }
    let (lat, lon) = location.ok_or(TodayError::LocationNeeded)?;
    let forecast = service.weather.day(lat, lon, date).await?;
    let since = (date - chrono::Days::new(RECENT_DAYS as u64)).format("%Y-%m-%d").to_string();
    let recent_mission_keys = service.store.recent_keys(user_id, &since, RECENT_KEYS).await?;
    let profile =
        service.users.by_id(user_id).await.map_err(anyhow::Error::from)?.and_then(|user| user.language);
    let language = Language::for_request(profile, accept_language);
    let user = GenerationContext {
        region: forecast.region.clone(),
        local_date: local_date.clone(),
        recent_mission_keys,
        language,
    };
    let run = service
        .plugins
        .generate(Target::Active, &forecast.slots, &user, Purpose::Live)
        .await
        .map_err(|err| anyhow::anyhow!(err).context("resolving the active generator"))?;
    let generated = run.outcome.map_err(|err| {
        tracing::warn!(call_id = %run.call_id, error = %err.message, "mission generation failed");
        TodayError::GeneratorFailed
    })?;
    let (missions, language) = (generated.missions, generated.language);
    if let Err(err) = service.locations.record(user_id, &forecast.region).await {
        // Only who hears of alert rooms depends on it; the missions need not wait for it.
        tracing::warn!(error = %err, "could not record the user's province");
    }
    let day = MissionDay { local_date, region: forecast.region, lat, lon, weather_stale: forecast.stale };
    let missions = service
        .store
        .insert_day(NewDay {
            user_id,
            day: &day,
            generator: Some(&run.sha256),
            call_id: Some(&run.call_id),
            missions: &missions,
            language,
        })
        .await?;
    // Another request may have stored the day first; its record is the one that counts.
    let day = service.store.day(user_id, &day.local_date).await?.unwrap_or(day);
    Ok(Today { day, missions })
}
