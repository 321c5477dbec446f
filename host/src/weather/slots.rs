//! From hourly weather to the day's three slot snapshots, one rule for every provider.
//!
//! For the hours of a slot (morning 06–11, lunch 11–16, evening 16–22, local):
//! - **temperature** and **humidity**: the slot's middle hour (08, 13 and 19 h), or the nearest
//!   hour that has a value: what someone outside during the slot meets;
//! - **precipitation**: the worst hour (rain and snow outrank showers, which outrank drizzle)
//!   and the largest hourly amount: a mission must not promise a dry slot;
//! - **sky**: the most frequent state; a tie goes to the cloudier;
//! - **wind**: the strongest hour.
//!
//! A slot with no temperature at all is missing and makes the whole day unavailable, rather
//! than a snapshot that invents one.

use super::model::{Precipitation, Sky, Slot, SlotWeather};
use super::time::{SLOTS, slot_hours};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use std::collections::BTreeMap;

/// What a provider knows about one local hour; `None` where it said nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HourWeather {
    pub temperature_c: Option<f64>,
    pub sky: Option<Sky>,
    pub precipitation: Option<Precipitation>,
    /// Millimetres in the hour.
    pub precipitation_mm: Option<f64>,
    pub humidity_pct: Option<f64>,
    pub wind_speed_ms: Option<f64>,
}

impl HourWeather {
    /// Fields of `newer` replace this hour's where `newer` has them.
    pub fn overlay(&mut self, newer: &HourWeather) {
        self.temperature_c = newer.temperature_c.or(self.temperature_c);
        self.sky = newer.sky.or(self.sky);
        self.precipitation = newer.precipitation.or(self.precipitation);
        self.precipitation_mm = newer.precipitation_mm.or(self.precipitation_mm);
        self.humidity_pct = newer.humidity_pct.or(self.humidity_pct);
        self.wind_speed_ms = newer.wind_speed_ms.or(self.wind_speed_ms);
    }
}

/// Local hour → weather.
pub type Hours = BTreeMap<NaiveDateTime, HourWeather>;

/// Applies `newer` on top of `base`, hour by hour.
pub fn overlay(base: &mut Hours, newer: &Hours) {
    for (hour, weather) in newer {
        base.entry(*hour).or_default().overlay(weather);
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("no forecast for the {slot:?} slot of {date}")]
pub struct MissingSlot {
    pub date: NaiveDate,
    pub slot: Slot,
}

fn severity(kind: Precipitation) -> u8 {
    super::kma::codes::severity(kind)
}

fn cloudiness(sky: Sky) -> u8 {
    match sky {
        Sky::Unknown => 0,
        Sky::Clear => 1,
        Sky::MostlyCloudy => 2,
        Sky::Overcast => 3,
    }
}

/// The three slots of `date`, in slot order, from hourly weather.
pub fn summarise(date: NaiveDate, hours: &Hours) -> Result<Vec<SlotWeather>, MissingSlot> {
    SLOTS.into_iter().map(|slot| summarise_slot(date, slot, hours)).collect()
}

fn summarise_slot(date: NaiveDate, slot: Slot, hours: &Hours) -> Result<SlotWeather, MissingSlot> {
    let range = slot_hours(slot);
    let middle = range.start + (range.end - range.start) / 2;
    let in_slot: Vec<(u32, &HourWeather)> = range
        .clone()
        .filter_map(|hour| {
            let at = date.and_time(NaiveTime::from_hms_opt(hour, 0, 0)?);
            hours.get(&at).map(|weather| (hour, weather))
        })
        .collect();
    let nearest_middle = |field: fn(&HourWeather) -> Option<f64>| {
        in_slot
            .iter()
            .filter_map(|(hour, weather)| field(weather).map(|value| (hour.abs_diff(middle), *hour, value)))
            .min_by_key(|(distance, hour, _)| (*distance, *hour))
            .map(|(_, _, value)| value)
    };
    let temperature_c = nearest_middle(|w| w.temperature_c).ok_or(MissingSlot { date, slot })?;
    let humidity_pct = nearest_middle(|w| w.humidity_pct).unwrap_or(0.0);
    let precipitation = in_slot
        .iter()
        .filter_map(|(_, w)| w.precipitation)
        .max_by_key(|kind| severity(*kind))
        .unwrap_or(Precipitation::None);
    let precipitation_mm = if precipitation == Precipitation::None {
        0.0
    } else {
        in_slot.iter().filter_map(|(_, w)| w.precipitation_mm).fold(0.0, f64::max)
    };
    let wind_speed_ms = in_slot.iter().filter_map(|(_, w)| w.wind_speed_ms).fold(0.0, f64::max);
    let mut counts: BTreeMap<u8, (usize, Sky)> = BTreeMap::new();
    for sky in in_slot.iter().filter_map(|(_, w)| w.sky) {
        counts.entry(cloudiness(sky)).or_insert((0, sky)).0 += 1;
    }
    let sky = counts
        .into_iter()
        .max_by_key(|(cloudiness, (count, _))| (*count, *cloudiness))
        .map_or(Sky::Unknown, |(_, (_, sky))| sky);
    Ok(SlotWeather {
        slot,
        temperature_c: round1(temperature_c),
        sky,
        precipitation,
        precipitation_mm: round1(precipitation_mm),
        wind_speed_ms: round1(wind_speed_ms),
        humidity_pct: humidity_pct.round().clamp(0.0, 100.0) as u8,
        pm10: None,
        pm25: None,
        alerts: Vec::new(),
        stale: false,
    })
}

fn round1(value: f64) -> f32 {
    ((value * 10.0).round() / 10.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(date: NaiveDate, h: u32) -> NaiveDateTime {
        date.and_hms_opt(h, 0, 0).expect("hour")
    }

    #[test]
    fn each_slot_takes_its_middle_its_worst_and_its_most_frequent() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let mut hours = Hours::new();
        for h in 0..24 {
            hours.insert(
                hour(date, h),
                HourWeather {
                    temperature_c: Some(f64::from(h)),
                    sky: Some(if h == 9 { Sky::Overcast } else { Sky::Clear }),
                    precipitation: Some(Precipitation::None),
                    precipitation_mm: Some(0.0),
                    humidity_pct: Some(50.0 + f64::from(h)),
                    wind_speed_ms: Some(if h == 17 { 9.5 } else { 2.0 }),
                },
            );
        }
        // Rain at 14 h, snow with more at 15 h: the lunch slot is snow, 2.5 mm.
        hours.get_mut(&hour(date, 14)).expect("14").overlay(&HourWeather {
            precipitation: Some(Precipitation::Rain),
            precipitation_mm: Some(1.0),
            ..HourWeather::default()
        });
        hours.get_mut(&hour(date, 15)).expect("15").overlay(&HourWeather {
            precipitation: Some(Precipitation::Snow),
            precipitation_mm: Some(2.5),
            ..HourWeather::default()
        });
        // Evening: three overcast and three mostly cloudy hours: the tie goes to overcast.
        for h in 16..22 {
            let sky = if h % 2 == 0 { Sky::Overcast } else { Sky::MostlyCloudy };
            hours.get_mut(&hour(date, h)).expect("h").sky = Some(sky);
        }
        let slots = summarise(date, &hours).expect("slots");
        assert_eq!(slots.iter().map(|s| s.slot).collect::<Vec<_>>(), SLOTS.to_vec());
        assert_eq!(slots[0].temperature_c, 8.0);
        assert_eq!(slots[0].humidity_pct, 58);
        assert_eq!(slots[0].sky, Sky::Clear, "one overcast hour of five");
        assert_eq!(slots[0].precipitation, Precipitation::None);
        assert_eq!(slots[1].temperature_c, 13.0);
        assert_eq!(slots[1].precipitation, Precipitation::Snow);
        assert_eq!(slots[1].precipitation_mm, 2.5);
        assert_eq!(slots[2].temperature_c, 19.0);
        assert_eq!(slots[2].sky, Sky::Overcast);
        assert_eq!(slots[2].wind_speed_ms, 9.5);
    }

    #[test]
    fn a_gap_uses_the_nearest_hour_and_an_empty_slot_is_missing() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let mut hours = Hours::new();
        for h in [6, 10, 11, 12, 16] {
            let temperature_c = Some(f64::from(h));
            hours.insert(hour(date, h), HourWeather { temperature_c, ..HourWeather::default() });
        }
        let missing = summarise(date, &hours);
        assert!(missing.is_ok(), "{missing:?}");
        let slots = missing.expect("slots");
        assert_eq!(slots[0].temperature_c, 6.0, "06 and 10 are both 2 h from 08: the earlier wins");
        assert_eq!(slots[1].temperature_c, 12.0);
        assert_eq!(slots[2].sky, Sky::Unknown);
        hours.remove(&hour(date, 16));
        assert_eq!(summarise(date, &hours).err(), Some(MissingSlot { date, slot: Slot::Evening }));
    }
}
