//! KMA category values: SKY and PTY codes, and the amount strings of PCP, RN1 and SNO.

use crate::weather::model::{Precipitation, Sky};

/// KMA writes a missing measurement as a large sentinel (`-999`, `+900`, `-998.9`).
pub fn is_missing(value: f64) -> bool {
    !value.is_finite() || value.abs() >= 900.0
}

/// A numeric category value (TMP, T1H, REH, WSD, …); `None` when absent or the sentinel.
pub fn number(raw: &str) -> Option<f64> {
    raw.trim().parse::<f64>().ok().filter(|value| !is_missing(*value))
}

/// SKY: 1 clear, 3 mostly cloudy, 4 overcast (2 was retired in 2019 and meant partly cloudy,
/// closest to clear).
pub fn sky(raw: &str) -> Sky {
    match raw.trim() {
        "1" | "2" => Sky::Clear,
        "3" => Sky::MostlyCloudy,
        "4" => Sky::Overcast,
        _ => Sky::Unknown,
    }
}

/// PTY: 0 none, 1 rain, 2 rain and snow, 3 snow, 4 shower; the nowcast adds 5 drizzle,
/// 6 drizzle and snow flurries, 7 snow flurries. Flurries are light snow, so 6 counts as rain
/// and snow and 7 as snow. An unknown code is `None`: the caller keeps what it had.
pub fn precipitation(raw: &str) -> Option<Precipitation> {
    Some(match raw.trim() {
        "0" => Precipitation::None,
        "1" => Precipitation::Rain,
        "2" | "6" => Precipitation::RainAndSnow,
        "3" | "7" => Precipitation::Snow,
        "4" => Precipitation::Shower,
        "5" => Precipitation::Drizzle,
        _ => return None,
    })
}

/// How bad a precipitation type is for being outside, to pick a slot's worst hour.
pub fn severity(kind: Precipitation) -> u8 {
    match kind {
        Precipitation::None => 0,
        Precipitation::Drizzle => 1,
        Precipitation::Shower => 2,
        Precipitation::Rain => 3,
        Precipitation::RainAndSnow => 4,
        Precipitation::Snow => 5,
    }
}

/// An hourly amount string of PCP or RN1 (mm) or SNO (cm), as a number in the unit:
/// "강수없음"/"적설없음"/"0" → 0; "1mm 미만" → 0.5 (half the threshold); "30.0~50.0mm" → 40
/// (the middle of the range); "50.0mm 이상" → 50 (the floor: nothing better is known); "6.2mm",
/// "6.2" → 6.2. `None` for anything else, so a new wording is noticed rather than read as dry.
pub fn amount(raw: &str) -> Option<f64> {
    let text = raw.trim();
    if text.is_empty() || text == "강수없음" || text == "적설없음" || text == "-" {
        return Some(0.0);
    }
    let unitless = |part: &str| -> Option<f64> {
        let part = part.trim().trim_end_matches("mm").trim_end_matches("cm").trim();
        number(part).filter(|value| *value >= 0.0)
    };
    if let Some(threshold) = text.strip_suffix("미만") {
        return unitless(threshold).map(|value| value / 2.0);
    }
    if let Some(floor) = text.strip_suffix("이상") {
        return unitless(floor);
    }
    if let Some((low, high)) = text.split_once('~') {
        return Some((unitless(low)? + unitless(high)?) / 2.0);
    }
    unitless(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sky_codes() {
        assert_eq!(sky("1"), Sky::Clear);
        assert_eq!(sky("3"), Sky::MostlyCloudy);
        assert_eq!(sky("4"), Sky::Overcast);
        assert_eq!(sky("9"), Sky::Unknown);
        assert_eq!(sky(""), Sky::Unknown);
    }

    #[test]
    fn precipitation_codes_zero_to_seven() {
        let expected = [
            Precipitation::None,
            Precipitation::Rain,
            Precipitation::RainAndSnow,
            Precipitation::Snow,
            Precipitation::Shower,
            Precipitation::Drizzle,
            Precipitation::RainAndSnow,
            Precipitation::Snow,
        ];
        for (code, kind) in expected.into_iter().enumerate() {
            assert_eq!(precipitation(&code.to_string()), Some(kind), "PTY {code}");
        }
        assert_eq!(precipitation("8"), None);
        assert_eq!(precipitation("-999"), None);
    }

    #[test]
    fn amount_strings() {
        assert_eq!(amount("강수없음"), Some(0.0));
        assert_eq!(amount("적설없음"), Some(0.0));
        assert_eq!(amount("0"), Some(0.0));
        assert_eq!(amount("1mm 미만"), Some(0.5));
        assert_eq!(amount("1.0mm 미만"), Some(0.5));
        assert_eq!(amount("1cm 미만"), Some(0.5));
        assert_eq!(amount("6.2mm"), Some(6.2));
        assert_eq!(amount("3.0cm"), Some(3.0));
        assert_eq!(amount("1.5"), Some(1.5));
        assert_eq!(amount("30.0~50.0mm"), Some(40.0));
        assert_eq!(amount("50.0mm 이상"), Some(50.0));
        assert_eq!(amount("5.0cm 이상"), Some(5.0));
        assert_eq!(amount("-999"), None);
        assert_eq!(amount("많음"), None);
    }

    #[test]
    fn numbers_skip_the_missing_sentinel() {
        assert_eq!(number("-3.5"), Some(-3.5));
        assert_eq!(number("-999"), None);
        assert_eq!(number("+900"), None);
        assert_eq!(number(""), None);
    }
}
