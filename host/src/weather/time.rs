//! Local time in Korea and the day's slots.
//!
//! Korea has kept standard time (UTC+09:00) all year since 1988, so a fixed offset is exact for
//! every date the product handles; no time-zone database is needed.

use super::model::Slot;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Timelike};

/// Korea Standard Time, UTC+09:00, no daylight saving.
pub const SEOUL_OFFSET_SECS: i32 = 9 * 3600;

pub const SEOUL: FixedOffset = match FixedOffset::east_opt(SEOUL_OFFSET_SECS) {
    Some(offset) => offset,
    None => panic!("nine hours is a valid offset"),
};

/// The local (Asia/Seoul) date and time of a unix-millisecond instant.
pub fn seoul_time(now_ms: i64) -> NaiveDateTime {
    DateTime::from_timestamp_millis(now_ms).unwrap_or_default().with_timezone(&SEOUL).naive_local()
}

/// The local (Asia/Seoul) date of a unix-millisecond instant.
pub fn seoul_date(now_ms: i64) -> NaiveDate {
    seoul_time(now_ms).date()
}

/// Unix milliseconds of a local (Asia/Seoul) date and time.
pub fn seoul_millis(local: NaiveDateTime) -> i64 {
    local.and_utc().timestamp_millis() - i64::from(SEOUL_OFFSET_SECS) * 1000
}

/// Every slot, in the order the generator receives them.
pub const SLOTS: [Slot; 3] = [Slot::Morning, Slot::Lunch, Slot::Evening];

/// The local hours a slot covers: morning 06–11, lunch 11–16, evening 16–22 (end excluded).
pub fn slot_hours(slot: Slot) -> std::ops::Range<u32> {
    match slot {
        Slot::Morning => 6..11,
        Slot::Lunch => 11..16,
        Slot::Evening => 16..22,
    }
}

/// The slot a local time falls in; `None` at night (22:00–06:00).
pub fn slot_of(local: NaiveDateTime) -> Option<Slot> {
    SLOTS.into_iter().find(|slot| slot_hours(*slot).contains(&local.hour()))
}

/// `YYYYMMDD`, as KMA writes dates.
pub fn compact_date(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("time")
    }

    #[test]
    fn the_seoul_date_turns_at_fifteen_utc() {
        // 2026-11-23T14:59:59.999Z is 23:59:59.999 in Seoul; one millisecond later it is the 24th.
        let before =
            DateTime::parse_from_rfc3339("2026-11-23T14:59:59.999Z").expect("time").timestamp_millis();
        assert_eq!(seoul_date(before), NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"));
        assert_eq!(seoul_date(before + 1), NaiveDate::from_ymd_opt(2026, 11, 24).expect("date"));
        assert_eq!(seoul_millis(seoul_time(before + 1)), before + 1);
    }

    #[test]
    fn slots_cover_six_to_twenty_two() {
        assert_eq!(slot_of(at("2026-11-23 05:59")), None);
        assert_eq!(slot_of(at("2026-11-23 06:00")), Some(Slot::Morning));
        assert_eq!(slot_of(at("2026-11-23 10:59")), Some(Slot::Morning));
        assert_eq!(slot_of(at("2026-11-23 11:00")), Some(Slot::Lunch));
        assert_eq!(slot_of(at("2026-11-23 16:00")), Some(Slot::Evening));
        assert_eq!(slot_of(at("2026-11-23 21:59")), Some(Slot::Evening));
        assert_eq!(slot_of(at("2026-11-23 22:00")), None);
    }
}
