//! The bundled mission generator as it was for contract 0.1.0 (`wit/0.1.0`), English only.
//! Kept unchanged to prove that components built against 0.1.0 keep running beside 0.2.0 ones;
//! never bundled.
//!
//! A rule table maps each slot's weather to candidate missions, most specific first (alerts,
//! then precipitation, dust, temperature, wind, sky, then missions for any day). The first
//! candidate not given to the user recently wins the slot, so the same weather does not mean
//! the same mission every day; a slot whose every candidate was given recently gets none.

mod rules;

wit_bindgen::generate!({
    world: "mission-generator",
    path: "../../wit/0.1.0",
});

use exports::weatherwise::plugins::generator::{Guest, UserContext};
use weatherwise::plugins::log::{Level, log};
use weatherwise::plugins::types::{Mission, WeatherSnapshot};

struct Generator;

impl Guest for Generator {
    fn generate(weather: Vec<WeatherSnapshot>, user: UserContext) -> Result<Vec<Mission>, String> {
        if weather.len() > 3 {
            return Err(format!("expected at most three slots, got {}", weather.len()));
        }
        let mut chosen: Vec<Mission> = Vec::with_capacity(3);
        for snapshot in &weather {
            if chosen.iter().any(|mission| mission.slot == snapshot.slot) {
                continue;
            }
            let candidates = rules::candidates(snapshot);
            let fresh = candidates.iter().find(|candidate| {
                !user.recent_mission_keys.iter().any(|key| key == candidate.key)
                    && !chosen.iter().any(|mission| mission.key == candidate.key)
            });
            let Some(rule) = fresh else { continue };
            chosen.push(rule.to_mission(snapshot.slot));
        }
        log(Level::Debug, &format!("{} missions for {} on {}", chosen.len(), user.region, user.local_date));
        Ok(chosen)
    }
}

export!(Generator);
