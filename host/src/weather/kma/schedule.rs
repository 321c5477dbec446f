//! Which base time to ask for, from KMA's publication schedule (all times Asia/Seoul).
//!
//! - `getVilageFcst` runs at 02, 05, 08, 11, 14, 17, 20 and 23 h and is served from about ten
//!   minutes past;
//! - `getUltraSrtNcst` observes on the hour (`HH00`), served some minutes later; when the
//!   hour is not there yet the service answers NODATA and the previous hour is asked;
//! - `getUltraSrtFcst` runs at `HH30` and is served from about `HH45`.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

const VILAGE_HOURS: [u32; 8] = [2, 5, 8, 11, 14, 17, 20, 23];
/// Minutes after a `getVilageFcst` run before it is served.
const VILAGE_DELAY_MIN: u32 = 10;
/// Minutes after the hour before the hour's observation is usually served.
const NOWCAST_DELAY_MIN: u32 = 10;
/// Minutes after the hour at which `getUltraSrtFcst` is served (its base is `HH30`).
const ULTRA_FORECAST_READY_MIN: u32 = 45;

/// A base date and time as the API takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BaseTime(pub NaiveDateTime);

impl BaseTime {
    pub fn date_param(self) -> String {
        self.0.format("%Y%m%d").to_string()
    }

    pub fn time_param(self) -> String {
        self.0.format("%H%M").to_string()
    }

    fn at(date: NaiveDate, hour: u32, minute: u32) -> Self {
        Self(date.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default()))
    }
}

/// The latest `getVilageFcst` run served at local time `now`.
pub fn latest_vilage(now: NaiveDateTime) -> BaseTime {
    let minutes = now.hour() * 60 + now.minute();
    match VILAGE_HOURS.iter().rev().find(|hour| **hour * 60 + VILAGE_DELAY_MIN <= minutes) {
        Some(hour) => BaseTime::at(now.date(), *hour, 0),
        None => BaseTime::at(now.date() - Duration::days(1), 23, 0),
    }
}

/// The run whose forecast covers every slot of `date` and is served at `now`: the 02 h run of
/// that date (its hours start at 03 h, before the morning slot), or the latest run served when
/// that one is not out yet. Later runs of the same day no longer cover the slots already under
/// way, and missions are made once for the whole day.
pub fn vilage_for_day(date: NaiveDate, now: NaiveDateTime) -> BaseTime {
    latest_vilage(now).min(BaseTime::at(date, 2, 0))
}

/// The nowcast hour most likely served at `now`.
pub fn nowcast(now: NaiveDateTime) -> BaseTime {
    let hour = BaseTime::at(now.date(), now.hour(), 0);
    if now.minute() >= NOWCAST_DELAY_MIN { hour } else { BaseTime(hour.0 - Duration::hours(1)) }
}

/// The hour before a nowcast base, asked after a NODATA answer.
pub fn previous_hour(base: BaseTime) -> BaseTime {
    BaseTime(base.0 - Duration::hours(1))
}

/// The latest `getUltraSrtFcst` run (`HH30`) served at `now`.
pub fn ultra_forecast(now: NaiveDateTime) -> BaseTime {
    let this_hour = BaseTime::at(now.date(), now.hour(), 30);
    if now.minute() >= ULTRA_FORECAST_READY_MIN {
        this_hour
    } else {
        BaseTime(this_hour.0 - Duration::hours(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("time")
    }

    fn params(base: BaseTime) -> (String, String) {
        (base.date_param(), base.time_param())
    }

    #[test]
    fn vilage_runs_are_served_ten_minutes_after() {
        let cases = [
            ("2026-11-23 02:05", "20261122", "2300"),
            ("2026-11-23 02:09", "20261122", "2300"),
            ("2026-11-23 02:10", "20261123", "0200"),
            ("2026-11-23 02:15", "20261123", "0200"),
            ("2026-11-23 00:00", "20261122", "2300"),
            ("2026-11-23 05:09", "20261123", "0200"),
            ("2026-11-23 05:10", "20261123", "0500"),
            ("2026-11-23 13:59", "20261123", "1100"),
            ("2026-11-23 23:09", "20261123", "2000"),
            ("2026-11-23 23:10", "20261123", "2300"),
            ("2026-01-01 01:00", "20251231", "2300"),
        ];
        for (now, date, time) in cases {
            assert_eq!(params(latest_vilage(at(now))), (date.into(), time.into()), "at {now}");
        }
    }

    #[test]
    fn a_day_is_read_from_its_two_oclock_run() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let tomorrow = today.succ_opt().expect("date");
        assert_eq!(params(vilage_for_day(today, at("2026-11-23 15:00"))), ("20261123".into(), "0200".into()));
        assert_eq!(params(vilage_for_day(today, at("2026-11-23 02:05"))), ("20261122".into(), "2300".into()));
        assert_eq!(
            params(vilage_for_day(tomorrow, at("2026-11-23 15:00"))),
            ("20261123".into(), "1400".into())
        );
    }

    #[test]
    fn nowcast_hours() {
        assert_eq!(params(nowcast(at("2026-11-23 14:10"))), ("20261123".into(), "1400".into()));
        assert_eq!(params(nowcast(at("2026-11-23 14:05"))), ("20261123".into(), "1300".into()));
        assert_eq!(params(nowcast(at("2026-11-23 00:05"))), ("20261122".into(), "2300".into()));
        assert_eq!(
            params(previous_hour(nowcast(at("2026-11-23 14:10")))),
            ("20261123".into(), "1300".into())
        );
    }

    #[test]
    fn ultra_short_forecast_runs_at_half_past() {
        assert_eq!(params(ultra_forecast(at("2026-11-23 14:45"))), ("20261123".into(), "1430".into()));
        assert_eq!(params(ultra_forecast(at("2026-11-23 14:44"))), ("20261123".into(), "1330".into()));
        assert_eq!(params(ultra_forecast(at("2026-11-23 00:20"))), ("20261122".into(), "2330".into()));
    }
}
