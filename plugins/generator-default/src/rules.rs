//! The rule table: which missions fit which weather, and their texts in each language.

use crate::weatherwise::plugins::types::{
    AlertKind, AlertLevel, Language, Mission, Precipitation, Sky, WeatherSnapshot,
};

/// What the user reads of a mission, in one language.
pub struct Text {
    pub title: &'static str,
    /// `{area}` is replaced by the area of the warning in force, where there is one.
    pub description: &'static str,
    pub rubric: &'static str,
}

pub struct Rule {
    pub key: &'static str,
    pub points: u32,
    pub outdoor: bool,
    pub ko: Text,
    pub en: Text,
}

/// Longest area name put into a description; descriptions stay well under the 300 allowed.
const MAX_AREA_CHARS: usize = 40;

impl Rule {
    pub fn to_mission(&self, weather: &WeatherSnapshot, language: Language) -> Mission {
        let text = match language {
            Language::Ko => &self.ko,
            Language::En => &self.en,
        };
        let area = weather
            .alerts
            .iter()
            .find(|alert| alert.level == AlertLevel::Warning)
            .map(|alert| alert.area.chars().take(MAX_AREA_CHARS).collect::<String>())
            .unwrap_or_default();
        let fallback = match language {
            Language::Ko => "이 지역",
            Language::En => "your area",
        };
        let area = if area.trim().is_empty() { fallback.to_owned() } else { area };
        Mission {
            key: self.key.into(),
            title: text.title.into(),
            description: text.description.replace("{area}", &area),
            points: self.points,
            slot: weather.slot,
            rubric: text.rubric.into(),
            outdoor: self.outdoor,
        }
    }
}

const fn text(title: &'static str, description: &'static str, rubric: &'static str) -> Text {
    Text { title, description, rubric }
}

const fn rule(key: &'static str, points: u32, outdoor: bool, ko: Text, en: Text) -> Rule {
    Rule { key, points, outdoor, ko, en }
}

const ALERT_INDOORS: &[Rule] = &[
    rule(
        "alert-emergency-kit",
        30,
        false,
        text(
            "비상용품을 점검하세요",
            "{area}에 기상 특보가 발효 중이에요. 물, 손전등, 충전된 보조배터리를 한곳에 모아 두세요.",
            "실내에서 물병, 손전등, 보조배터리를 한곳에 모아 둔 비상용품 사진.",
        ),
        text(
            "Check your emergency kit",
            "A weather warning is in force for {area}: gather water, a torch and a charged power bank in one place.",
            "Photo of an emergency kit: water bottle, flashlight and a power bank together, indoors.",
        ),
    ),
    rule(
        "alert-stay-in-tea",
        15,
        false,
        text(
            "실내에서 따뜻한 차를 드세요",
            "{area}에 특보가 내려졌어요. 실내에 머물며 따뜻한 음료를 준비하세요.",
            "실내에서 머그잔이나 컵에 담긴 따뜻한 음료 사진.",
        ),
        text(
            "Stay in with something warm",
            "Warnings are out for {area}. Stay indoors and make yourself a hot drink.",
            "Photo of a hot drink in a mug or cup, indoors.",
        ),
    ),
];
const HEAT: &[Rule] = &[
    rule(
        "heat-water-bottle",
        15,
        false,
        text(
            "물병을 챙기세요",
            "더운 날이에요. 다회용 물병에 물을 채워 가지고 다니세요.",
            "물이 담겼거나 물을 채우고 있는 다회용 물병 사진.",
        ),
        text(
            "Carry your own water",
            "It is hot: fill a reusable bottle and keep it with you.",
            "Photo of a reusable water bottle, filled or being filled.",
        ),
    ),
    rule(
        "heat-shade-walk",
        20,
        true,
        text(
            "그늘로 걸으세요",
            "그늘을 따라 잠깐 산책하세요.",
            "야외에서 나무나 건물의 그늘이 진 길을 찍은 사진.",
        ),
        text(
            "Walk on the shady side",
            "Take a short walk, staying in the shade.",
            "Photo taken outdoors showing a shaded path or the shade of trees or buildings.",
        ),
    ),
];
const COLD: &[Rule] = &[
    rule(
        "cold-tumbler",
        15,
        false,
        text(
            "텀블러를 사용하세요",
            "춥고 건조한 날이에요. 종이컵 대신 내 텀블러에 따뜻한 음료를 담아 가세요.",
            "다회용 텀블러나 보온병 사진. 따뜻한 음료가 담겨 있으면 더 좋아요.",
        ),
        text(
            "Bring a tumbler",
            "It is cold and dry: take your hot drink in your own tumbler instead of a paper cup.",
            "Photo of a reusable tumbler or thermos, ideally with a hot drink.",
        ),
    ),
    rule(
        "cold-layers",
        10,
        false,
        text(
            "옷을 겹쳐 입으세요",
            "바깥이 추워요. 나가기 전에 목도리, 장갑이나 모자를 챙기세요.",
            "착용했거나 입을 준비가 된 겨울옷 사진: 목도리, 장갑, 모자 또는 패딩.",
        ),
        text(
            "Dress in layers",
            "Cold outside: wear a scarf, gloves or a hat before you go out.",
            "Photo of winter clothing being worn or ready to wear: scarf, gloves, hat or padded coat.",
        ),
    ),
];
const RAIN: &[Rule] = &[
    rule(
        "rain-umbrella",
        10,
        false,
        text(
            "우산을 챙기세요",
            "비 소식이 있어요. 나갈 때 우산을 가지고 가세요.",
            "펼쳤거나 접은 우산을 들고 있거나 현관에 챙겨 둔 사진.",
        ),
        text(
            "Take your umbrella",
            "Rain is expected: take an umbrella with you.",
            "Photo of an umbrella, open or closed, held or ready by the door.",
        ),
    ),
    rule(
        "rain-puddle-art",
        20,
        true,
        text(
            "빗물 웅덩이 속 풍경",
            "빗물 웅덩이에 비친 풍경을 찾아 찍어 보세요.",
            "야외의 물웅덩이나 젖은 길에 비친 모습을 찍은 사진.",
        ),
        text(
            "Puddle reflections",
            "Find a reflection in a rain puddle and capture it.",
            "Photo of a reflection in a puddle or wet pavement outdoors.",
        ),
    ),
];
const SNOW: &[Rule] = &[
    rule(
        "snow-first-steps",
        25,
        true,
        text(
            "눈 위에 발자국을 남기세요",
            "갓 내린 눈 위에 발자국을 남기고 사진으로 찍어 보세요.",
            "야외의 눈 위에 찍힌 발자국 사진.",
        ),
        text(
            "Snow steps",
            "Leave footprints in fresh snow and photograph them.",
            "Photo of footprints in snow outdoors.",
        ),
    ),
    rule(
        "snow-warm-drink",
        10,
        false,
        text(
            "눈 오는 날엔 따뜻한 음료",
            "눈이 내리는 동안 따뜻한 음료를 만들어 즐기세요.",
            "머그잔이나 컵에 담긴 따뜻한 음료 사진.",
        ),
        text(
            "Warm up after the snow",
            "Make a warm drink to enjoy while the snow falls.",
            "Photo of a hot drink in a mug or cup.",
        ),
    ),
];
const DUST: &[Rule] = &[
    rule(
        "dust-mask",
        15,
        false,
        text(
            "마스크를 쓰세요",
            "미세먼지가 많아요. 외출할 때 KF94 마스크를 쓰세요.",
            "착용했거나 손에 든 보건용 마스크(KF80/KF94 등) 사진.",
        ),
        text(
            "Mask on",
            "Fine dust is high: wear a KF94 mask when you go out.",
            "Photo of a dust mask (KF80/KF94 or similar), worn or in hand.",
        ),
    ),
    rule(
        "dust-indoor-plants",
        10,
        false,
        text(
            "실내 공기를 맑게 하세요",
            "바깥 먼지가 심해요. 실내 화분에 물을 주거나 잎을 닦아 주세요.",
            "물을 주거나 잎을 닦고 있는 실내 화분 사진.",
        ),
        text(
            "Freshen the air",
            "Dust is high outside: water or wipe the leaves of a house plant.",
            "Photo of an indoor plant being watered or cleaned.",
        ),
    ),
];
const WIND: &[Rule] = &[rule(
    "wind-secure-items",
    15,
    false,
    text(
        "날아갈 물건을 정리하세요",
        "바람이 강해요. 베란다에 둔 물건을 안으로 들이거나 단단히 묶어 두세요.",
        "물건을 고정했거나 안으로 들여놓은 베란다나 현관 사진.",
    ),
    text(
        "Secure loose things",
        "It is windy: bring in or tie down things on your balcony.",
        "Photo of a balcony or doorstep with items secured or brought inside.",
    ),
)];
const CLEAR: &[Rule] = &[
    rule(
        "clear-sky-photo",
        10,
        true,
        text(
            "하늘을 올려다보세요",
            "맑은 하늘이에요. 하늘 사진을 한 장 찍어 보세요.",
            "야외에서 찍은 파란 하늘이나 노을 사진.",
        ),
        text(
            "Look up",
            "Clear skies: take a photo of the sky.",
            "Photo of the sky, mostly blue or with the sunset, outdoors.",
        ),
    ),
    rule(
        "clear-walk",
        20,
        true,
        text(
            "한 정거장 걸어가세요",
            "날씨가 좋아요. 한 정거장 먼저 내려서 걸어가세요.",
            "걸으면서 야외의 거리나 길을 찍은 사진.",
        ),
        text(
            "Walk one stop",
            "Fine weather: get off one stop early and walk.",
            "Photo taken outdoors on a street or path while walking.",
        ),
    ),
    rule(
        "clear-laundry",
        15,
        false,
        text(
            "빨래를 햇볕에 말리세요",
            "맑고 건조해요. 건조기 대신 빨래를 널어 말리세요.",
            "건조대나 빨랫줄에 널어 둔 빨래 사진.",
        ),
        text(
            "Sun-dry your laundry",
            "Dry and sunny: hang laundry to dry instead of using the dryer.",
            "Photo of laundry hung on a rack or line.",
        ),
    ),
    rule(
        "clear-bike",
        20,
        true,
        text(
            "자전거를 타세요",
            "맑은 날이에요. 가까운 거리는 차 대신 자전거로 다녀오세요.",
            "야외에서 자전거(공공자전거 포함)를 타고 있거나 옆에 세워 둔 사진.",
        ),
        text(
            "Ride a bike",
            "A clear day: make a short trip by bike instead of by car.",
            "Photo taken outdoors of a bicycle (a shared bike counts), ridden or parked beside you.",
        ),
    ),
];
const CLOUDY: &[Rule] = &[
    rule(
        "cloudy-tumbler",
        10,
        false,
        text(
            "내 컵을 가져가세요",
            "흐린 날엔 커피 한 잔이 좋죠. 일회용 컵 대신 내 컵에 받아 가세요.",
            "음료가 담긴 다회용 컵이나 텀블러 사진.",
        ),
        text(
            "Bring your own cup",
            "Grey day, good day for coffee: get it in your own cup.",
            "Photo of a reusable cup or tumbler with a drink.",
        ),
    ),
    rule(
        "cloudy-stairs",
        10,
        false,
        text(
            "계단을 이용하세요",
            "오늘은 엘리베이터 대신 계단으로 올라가세요.",
            "계단을 오르는 사람의 시점에서 찍은 계단 사진.",
        ),
        text(
            "Take the stairs",
            "Skip the lift today and take the stairs.",
            "Photo of a staircase from the point of view of someone climbing it.",
        ),
    ),
];

/// Indoor missions for any day.
const EVERYDAY: &[Rule] = &[
    rule(
        "everyday-refill",
        10,
        false,
        text(
            "사지 말고 채우세요",
            "생수를 사는 대신 집이나 음수대에서 물병을 채우세요.",
            "수도꼭지나 음수대에서 다회용 물병을 채우는 사진.",
        ),
        text(
            "Refill, don't buy",
            "Refill a bottle at home or at a water fountain instead of buying one.",
            "Photo of a reusable bottle being filled at a tap or fountain.",
        ),
    ),
    rule(
        "everyday-lights-off",
        10,
        false,
        text(
            "불을 끄세요",
            "방을 나갈 때 불을 끄고 충전기를 뽑아 두세요.",
            "꺼진 전등 스위치나 뽑아 둔 충전기 사진.",
        ),
        text(
            "Lights off",
            "Switch off the lights and unplug chargers in a room you are leaving.",
            "Photo of a switched-off light switch or an unplugged charger.",
        ),
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
