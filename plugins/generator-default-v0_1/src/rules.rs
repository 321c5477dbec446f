//! The rule table: which missions fit which weather.

use crate::weatherwise::plugins::types::{
    AlertKind, AlertLevel, Mission, Precipitation, Sky, Slot, WeatherSnapshot,
};

pub struct Rule {
    pub key: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub points: u32,
    pub rubric: &'static str,
    pub outdoor: bool,
}

impl Rule {
    pub fn to_mission(&self, slot: Slot) -> Mission {
        Mission {
            key: self.key.into(),
            title: self.title.into(),
            description: self.description.into(),
            points: self.points,
            slot,
            rubric: self.rubric.into(),
            outdoor: self.outdoor,
        }
    }
}

const fn rule(
    key: &'static str,
    title: &'static str,
    description: &'static str,
    points: u32,
    rubric: &'static str,
    outdoor: bool,
) -> Rule {
    Rule { key, title, description, points, rubric, outdoor }
}

const ALERT_INDOORS: &[Rule] = &[
    rule(
        "alert-emergency-kit",
        "Check your emergency kit",
        "A weather warning is in force: gather water, a torch and a charged power bank in one place.",
        30,
        "Photo of an emergency kit: water bottle, flashlight and a power bank together, indoors.",
        false,
    ),
    rule(
        "alert-stay-in-tea",
        "Stay in with something warm",
        "Warnings are out. Stay indoors and make yourself a hot drink.",
        15,
        "Photo of a hot drink in a mug or cup, indoors.",
        false,
    ),
];
const HEAT: &[Rule] = &[
    rule(
        "heat-water-bottle",
        "Carry your own water",
        "It is hot: fill a reusable bottle and keep it with you.",
        15,
        "Photo of a reusable water bottle, filled or being filled.",
        false,
    ),
    rule(
        "heat-shade-walk",
        "Walk on the shady side",
        "Take a short walk, staying in the shade.",
        20,
        "Photo taken outdoors showing a shaded path or the shade of trees or buildings.",
        true,
    ),
];
const COLD: &[Rule] = &[
    rule(
        "cold-tumbler",
        "Bring a tumbler",
        "It is cold and dry: take your hot drink in your own tumbler instead of a paper cup.",
        15,
        "Photo of a reusable tumbler or thermos, ideally with a hot drink.",
        false,
    ),
    rule(
        "cold-layers",
        "Dress in layers",
        "Cold outside: wear a scarf, gloves or a hat before you go out.",
        10,
        "Photo of winter clothing being worn or ready to wear: scarf, gloves, hat or padded coat.",
        false,
    ),
];
const RAIN: &[Rule] = &[
    rule(
        "rain-umbrella",
        "Take your umbrella",
        "Rain is expected: take an umbrella with you.",
        10,
        "Photo of an umbrella, open or closed, held or ready by the door.",
        false,
    ),
    rule(
        "rain-puddle-art",
        "Puddle reflections",
        "Find a reflection in a rain puddle and capture it.",
        20,
        "Photo of a reflection in a puddle or wet pavement outdoors.",
        true,
    ),
];
const SNOW: &[Rule] = &[
    rule(
        "snow-first-steps",
        "Snow steps",
        "Leave footprints in fresh snow and photograph them.",
        25,
        "Photo of footprints in snow outdoors.",
        true,
    ),
    rule(
        "snow-warm-drink",
        "Warm up after the snow",
        "Make a warm drink to enjoy while the snow falls.",
        10,
        "Photo of a hot drink in a mug or cup.",
        false,
    ),
];
const DUST: &[Rule] = &[
    rule(
        "dust-mask",
        "Mask on",
        "Fine dust is high: wear a KF94 mask when you go out.",
        15,
        "Photo of a dust mask (KF80/KF94 or similar), worn or in hand.",
        false,
    ),
    rule(
        "dust-indoor-plants",
        "Freshen the air",
        "Dust is high outside: water or wipe the leaves of a house plant.",
        10,
        "Photo of an indoor plant being watered or cleaned.",
        false,
    ),
];
const WIND: &[Rule] = &[rule(
    "wind-secure-items",
    "Secure loose things",
    "It is windy: bring in or tie down things on your balcony.",
    15,
    "Photo of a balcony or doorstep with items secured or brought inside.",
    false,
)];
const CLEAR: &[Rule] = &[
    rule(
        "clear-sky-photo",
        "Look up",
        "Clear skies: take a photo of the sky.",
        10,
        "Photo of the sky, mostly blue or with the sunset, outdoors.",
        true,
    ),
    rule(
        "clear-walk",
        "Walk one stop",
        "Fine weather: get off one stop early and walk.",
        20,
        "Photo taken outdoors on a street or path while walking.",
        true,
    ),
    rule(
        "clear-laundry",
        "Sun-dry your laundry",
        "Dry and sunny: hang laundry to dry instead of using the dryer.",
        15,
        "Photo of laundry hung on a rack or line.",
        false,
    ),
];
const CLOUDY: &[Rule] = &[
    rule(
        "cloudy-tumbler",
        "Bring your own cup",
        "Grey day, good day for coffee: get it in your own cup.",
        10,
        "Photo of a reusable cup or tumbler with a drink.",
        false,
    ),
    rule(
        "cloudy-stairs",
        "Take the stairs",
        "Skip the lift today and take the stairs.",
        10,
        "Photo of a staircase from the point of view of someone climbing it.",
        false,
    ),
];

/// Indoor missions for any day.
const EVERYDAY: &[Rule] = &[
    rule(
        "everyday-refill",
        "Refill, don't buy",
        "Refill a bottle at home or at a water fountain instead of buying one.",
        10,
        "Photo of a reusable bottle being filled at a tap or fountain.",
        false,
    ),
    rule(
        "everyday-lights-off",
        "Lights off",
        "Switch off the lights and unplug chargers in a room you are leaving.",
        10,
        "Photo of a switched-off light switch or an unplugged charger.",
        false,
    ),
];

/// Missions that fit `weather`, most specific first; never empty.
pub fn candidates(weather: &WeatherSnapshot) -> Vec<&'static Rule> {
    let mut list: Vec<&'static Rule> = Vec::new();
    let warning = weather.alerts.iter().any(|alert| alert.level == AlertLevel::Warning);
    if warning {
        list.extend(ALERT_INDOORS);
    }
    let has = |kind: AlertKind| weather.alerts.iter().any(|alert| alert.kind == kind);
    match weather.precipitation {
        Precipitation::Snow | Precipitation::RainAndSnow => list.extend(SNOW),
        Precipitation::Rain | Precipitation::Shower | Precipitation::Drizzle => list.extend(RAIN),
        Precipitation::None => {}
    }
    if weather.pm10.is_some_and(|pm| pm >= 81)
        || weather.pm25.is_some_and(|pm| pm >= 36)
        || has(AlertKind::YellowDust)
    {
        list.extend(DUST);
    }
    if weather.temperature_c >= 30.0 || has(AlertKind::HeatWave) {
        list.extend(HEAT);
    }
    if weather.temperature_c <= 3.0 || has(AlertKind::ColdWave) || has(AlertKind::Dry) {
        list.extend(COLD);
    }
    if weather.wind_speed_ms >= 9.0 || has(AlertKind::StrongWind) || has(AlertKind::Typhoon) {
        list.extend(WIND);
    }
    match weather.sky {
        Sky::Clear if weather.precipitation == Precipitation::None => list.extend(CLEAR),
        _ => list.extend(CLOUDY),
    }
    // Fits any weather: what is left when everything specific was given recently.
    list.extend(EVERYDAY);
    list
}
