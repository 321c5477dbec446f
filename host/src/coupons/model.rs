//! Coupon events and coupons, and when an event takes claims.
//!
//! An event runs from `starts_on` to `ends_on` (Asia/Seoul dates, both included) and opens each
//! day at `opens_at` (Asia/Seoul), with `daily_quantity` coupons a day, first come first served.

use crate::weather::time::{seoul_millis, seoul_time};
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CouponEvent {
    pub id: String,
    /// What the coupon is for (`americano`, `tumbler-discount`, …).
    pub kind: String,
    pub title: String,
    /// First day, `YYYY-MM-DD` (Asia/Seoul).
    pub starts_on: String,
    /// Last day, included.
    pub ends_on: String,
    /// Daily opening time, `HH:MM` (Asia/Seoul).
    pub opens_at: String,
    pub daily_quantity: i64,
    /// Eligibility beyond today's approved mission: at least this many points in total.
    pub min_points: i64,
    /// Unix ms; closed events take no claims.
    pub closed_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Coupon {
    pub id: String,
    pub event_id: String,
    pub user_id: String,
    /// The day it was issued on (Asia/Seoul).
    pub day: String,
    pub issued_at_ms: i64,
    pub redeemed_at_ms: Option<i64>,
}

/// Whether an event takes claims at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    /// Open: claims count against `day`'s quantity.
    Open { day: String },
    /// Not yet today (or the event has not begun): opens at this instant (unix ms).
    NotYet { opens_at_ms: i64 },
    /// Closed by an admin, or past its last day.
    Over,
}

impl CouponEvent {
    /// Whether the event takes claims at `now_ms`, and for which day.
    pub fn opening(&self, now_ms: i64) -> Opening {
        if self.closed_at_ms.is_some() {
            return Opening::Over;
        }
        let (Ok(first), Ok(last), Some(opens)) =
            (date(&self.starts_on), date(&self.ends_on), time(&self.opens_at))
        else {
            return Opening::Over;
        };
        let local = seoul_time(now_ms);
        let today = local.date();
        if today > last {
            return Opening::Over;
        }
        if today < first {
            return Opening::NotYet { opens_at_ms: seoul_millis(first.and_time(opens)) };
        }
        if local.time() < opens {
            return Opening::NotYet { opens_at_ms: seoul_millis(today.and_time(opens)) };
        }
        Opening::Open { day: today.to_string() }
    }

    /// The next opening after `now_ms`, if the event has one: later today, or tomorrow.
    pub fn next_opening_ms(&self, now_ms: i64) -> Option<i64> {
        match self.opening(now_ms) {
            Opening::NotYet { opens_at_ms } => Some(opens_at_ms),
            Opening::Over => None,
            Opening::Open { .. } => {
                let (last, opens) = (date(&self.ends_on).ok()?, time(&self.opens_at)?);
                let tomorrow = seoul_time(now_ms).date().succ_opt()?;
                (tomorrow <= last).then(|| seoul_millis(tomorrow.and_time(opens)))
            }
        }
    }
}

fn date(text: &str) -> Result<NaiveDate, chrono::ParseError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
}

fn time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M").ok()
}

/// An event as an admin creates it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventDraft {
    /// 1–40 characters: lowercase letters, digits and `-`.
    pub kind: String,
    /// 1–100 characters.
    pub title: String,
    pub starts_on: String,
    pub ends_on: String,
    pub opens_at: String,
    /// 1 to 1,000,000.
    pub daily_quantity: i64,
    #[serde(default)]
    pub min_points: i64,
}

/// Changes an admin makes to an event; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventChanges {
    pub title: Option<String>,
    pub ends_on: Option<String>,
    pub opens_at: Option<String>,
    pub daily_quantity: Option<i64>,
    pub min_points: Option<i64>,
}

/// What is wrong with a field, as `(field, message)` pairs.
pub type FieldProblems = Vec<(&'static str, String)>;

impl EventDraft {
    pub fn validate(&self) -> FieldProblems {
        let mut problems = Vec::new();
        let kind_ok = (1..=40).contains(&self.kind.len())
            && self.kind.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !kind_ok {
            problems.push(("kind", "1–40 characters: lowercase letters, digits and -".into()));
        }
        check_title(&self.title, &mut problems);
        let first = date(&self.starts_on);
        if first.is_err() {
            problems.push(("starts_on", "must be a date YYYY-MM-DD".into()));
        }
        check_period(first.ok(), &self.ends_on, &mut problems);
        check_opens_at(&self.opens_at, &mut problems);
        check_quantity(self.daily_quantity, &mut problems);
        check_min_points(self.min_points, &mut problems);
        problems
    }
}

impl EventChanges {
    /// Problems with these changes to `event`.
    pub fn validate(&self, event: &CouponEvent) -> FieldProblems {
        let mut problems = Vec::new();
        if let Some(title) = &self.title {
            check_title(title, &mut problems);
        }
        if let Some(ends_on) = &self.ends_on {
            check_period(date(&event.starts_on).ok(), ends_on, &mut problems);
        }
        if let Some(opens_at) = &self.opens_at {
            check_opens_at(opens_at, &mut problems);
        }
        if let Some(quantity) = self.daily_quantity {
            check_quantity(quantity, &mut problems);
        }
        if let Some(min_points) = self.min_points {
            check_min_points(min_points, &mut problems);
        }
        problems
    }

    pub fn apply(&self, event: &mut CouponEvent) {
        if let Some(title) = &self.title {
            event.title = title.trim().to_owned();
        }
        if let Some(ends_on) = &self.ends_on {
            event.ends_on = ends_on.clone();
        }
        if let Some(opens_at) = &self.opens_at {
            event.opens_at = opens_at.clone();
        }
        if let Some(quantity) = self.daily_quantity {
            event.daily_quantity = quantity;
        }
        if let Some(min_points) = self.min_points {
            event.min_points = min_points;
        }
    }
}

fn check_title(title: &str, problems: &mut FieldProblems) {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        problems.push(("title", "1–100 characters".into()));
    }
}

fn check_period(first: Option<NaiveDate>, ends_on: &str, problems: &mut FieldProblems) {
    match (first, date(ends_on)) {
        (_, Err(_)) => problems.push(("ends_on", "must be a date YYYY-MM-DD".into())),
        (Some(first), Ok(last)) if last < first => {
            problems.push(("ends_on", "must not be before starts_on".into()))
        }
        (Some(first), Ok(last)) if (last - first).num_days() > 366 => {
            problems.push(("ends_on", "an event lasts a year at most".into()));
        }
        _ => {}
    }
}

fn check_opens_at(opens_at: &str, problems: &mut FieldProblems) {
    if opens_at.len() != 5 || time(opens_at).is_none() {
        problems.push(("opens_at", "must be a time HH:MM (Asia/Seoul)".into()));
    }
}

fn check_quantity(quantity: i64, problems: &mut FieldProblems) {
    if !(1..=1_000_000).contains(&quantity) {
        problems.push(("daily_quantity", "must be from 1 to 1000000".into()));
    }
}

fn check_min_points(min_points: i64, problems: &mut FieldProblems) {
    if !(0..=1_000_000_000).contains(&min_points) {
        problems.push(("min_points", "must be from 0 to 1000000000".into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(starts_on: &str, ends_on: &str, opens_at: &str) -> CouponEvent {
        CouponEvent {
            id: "e".into(),
            kind: "americano".into(),
            title: "Free americano".into(),
            starts_on: starts_on.into(),
            ends_on: ends_on.into(),
            opens_at: opens_at.into(),
            daily_quantity: 100,
            min_points: 0,
            closed_at_ms: None,
            created_at_ms: 0,
            updated_at_ms: 0,
        }
    }

    /// Unix ms of a local (Asia/Seoul) time.
    fn at(local: &str) -> i64 {
        seoul_millis(chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").expect("time"))
    }

    #[test]
    fn an_event_opens_each_day_at_its_time_within_its_period() {
        let e = event("2026-12-01", "2026-12-03", "10:00");
        assert_eq!(
            e.opening(at("2026-11-30 12:00")),
            Opening::NotYet { opens_at_ms: at("2026-12-01 10:00") }
        );
        assert_eq!(
            e.opening(at("2026-12-02 09:59")),
            Opening::NotYet { opens_at_ms: at("2026-12-02 10:00") }
        );
        assert_eq!(e.opening(at("2026-12-02 10:00")), Opening::Open { day: "2026-12-02".into() });
        assert_eq!(e.opening(at("2026-12-03 23:59")), Opening::Open { day: "2026-12-03".into() });
        assert_eq!(e.opening(at("2026-12-04 10:00")), Opening::Over);
        // Asia/Seoul days: 2026-12-02 00:30 in Seoul is still 2026-12-01 in UTC.
        assert_eq!(
            e.opening(at("2026-12-02 00:30")),
            Opening::NotYet { opens_at_ms: at("2026-12-02 10:00") }
        );
    }

    #[test]
    fn the_next_opening_is_later_today_or_tomorrow_within_the_period() {
        let e = event("2026-12-01", "2026-12-02", "10:00");
        assert_eq!(e.next_opening_ms(at("2026-12-01 09:00")), Some(at("2026-12-01 10:00")));
        assert_eq!(e.next_opening_ms(at("2026-12-01 11:00")), Some(at("2026-12-02 10:00")));
        assert_eq!(e.next_opening_ms(at("2026-12-02 11:00")), None);
        let closed = CouponEvent { closed_at_ms: Some(1), ..e };
        assert_eq!(closed.opening(at("2026-12-01 11:00")), Opening::Over);
    }

    #[test]
    fn drafts_are_checked_field_by_field() {
        let draft = EventDraft {
            kind: "Americano!".into(),
            title: " ".into(),
            starts_on: "2026-12-05".into(),
            ends_on: "2026-12-01".into(),
            opens_at: "25:00".into(),
            daily_quantity: 0,
            min_points: -1,
        };
        let fields: Vec<&str> = draft.validate().into_iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["kind", "title", "ends_on", "opens_at", "daily_quantity", "min_points"]);
        let fine = EventDraft {
            kind: "americano".into(),
            title: "Free americano".into(),
            starts_on: "2026-12-01".into(),
            ends_on: "2026-12-31".into(),
            opens_at: "10:00".into(),
            daily_quantity: 100,
            min_points: 0,
        };
        assert!(fine.validate().is_empty());
    }
}
