//! What the two KMA warning-feed parsers ([`super::hub_text`], [`super::public_data`]) share:
//! their error, the shape of their answer, their bounds and KMA's minute timestamps.
//!
//! Both feeds answer HTTP 200 for nearly everything, including a wrong key, an exhausted quota
//! or a maintenance page, so "the body is not a feed" has to be an error here rather than an
//! empty list: an empty list means "no warnings", which is what a user must never be told when
//! we simply could not read the answer. A single row we cannot read, on the other hand, is not
//! a reason to drop the rest of the country's warnings; it is skipped and reported, so the
//! caller can log it and a new KMA code shows up in the logs instead of as an outage.

use crate::weather::alerts::warning::Warning;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// Bodies larger than this are refused before decoding. A nationwide answer in the worst
/// storms is a few hundred rows of under 200 bytes each; a megabyte is far beyond any real
/// answer and bounds what a misbehaving upstream (or proxy) can make us allocate.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Answers with more rows (text lines or JSON items) than this are refused.
pub const MAX_ROWS: usize = 5_000;

/// Why a warning feed's answer could not be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    #[error("the warning feed's answer is {bytes} bytes, over the {limit}-byte limit")]
    TooLarge { bytes: usize, limit: usize },
    #[error("the warning feed's answer has more than {limit} rows")]
    TooManyRows { limit: usize },
    #[error("unknown character set `{0}`")]
    UnknownCharset(String),
    /// An error page, a key or quota message, a truncated or otherwise unreadable answer.
    #[error("not a warning feed: {0}")]
    NotAFeed(String),
    /// The service said it failed (a data.go.kr `resultCode` other than success or no data).
    #[error("the warning service answered error {code}: {message}")]
    Service { code: String, message: String },
}

/// The warnings read from one answer, and the rows that were left out with the reason for
/// each (for the log). The parsers do not de-duplicate: the feeds repeat rows, and the caller
/// collapses them with [`Warning::key`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub warnings: Vec<Warning>,
    pub skipped: Vec<String>,
}

pub(crate) fn check_size(body: &[u8]) -> Result<(), FeedError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(FeedError::TooLarge { bytes: body.len(), limit: MAX_BODY_BYTES });
    }
    Ok(())
}

/// A KMA `YYYYMMDDHHMM` time, which is always Asia/Seoul local time (UTC+9; Korea has had
/// no daylight saving time since 1988), as an instant. `None` for anything else.
pub(crate) fn seoul_minute(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.len() != 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    let year = i32::try_from(number(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(4..6)?, number(6..8)?)?;
    let local = date.and_hms_opt(number(8..10)?, number(10..12)?, 0)?;
    Some(local.and_utc() - TimeDelta::hours(9))
}

/// A short, single-line excerpt of an unusable answer for an error message. Long runs of
/// key-like characters are blanked: some gateways echo the request, key included.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 80;
    const KEY_LIKE_RUN: usize = 20;
    let line = text.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("");
    if line.is_empty() {
        return "an empty answer".to_owned();
    }
    let mut out = String::new();
    let mut run = String::new();
    let key_like = |c: char| c.is_ascii_alphanumeric() || "+/=%_-".contains(c);
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= KEY_LIKE_RUN {
            out.push_str("[…]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in line.chars() {
        if key_like(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    if out.chars().count() > MAX_CHARS {
        let cut: String = out.chars().take(MAX_CHARS).collect();
        format!("`{cut}…`")
    } else {
        format!("`{out}`")
    }
}

/// Formats an instant as the Seoul wall-clock time KMA would print, for `Warning::ends`.
pub(crate) fn seoul_text(at: DateTime<Utc>) -> String {
    (at + TimeDelta::hours(9)).format("%Y-%m-%d %H:%M KST").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seoul_minutes_become_utc_instants() {
        let at = seoul_minute("202601140500").expect("a valid time");
        assert_eq!(at.to_rfc3339(), "2026-01-13T20:00:00+00:00");
        assert_eq!(
            seoul_minute(" 202607261000 ").map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-07-26T01:00:00+00:00")
        );
        for bad in [
            "",
            "0",
            "20260114050",
            "2026011405000",
            "202613140500",
            "202601142400",
            "2026-01-1405",
            "２０２６０１１４０５００",
        ] {
            assert_eq!(seoul_minute(bad), None, "{bad:?}");
        }
        assert_eq!(seoul_text(at), "2026-01-14 05:00 KST");
    }

    #[test]
    fn excerpts_are_short_single_lines_without_keys() {
        assert_eq!(excerpt(""), "an empty answer");
        assert_eq!(excerpt("\n  <html>\n<body>"), "`<html>`");
        let echoed = excerpt("authKey=AbCdEfGhIjKlMnOpQrStUvWx 인증키가 유효하지 않습니다");
        assert!(!echoed.contains("AbCdEf"), "{echoed}");
        assert!(echoed.contains("인증키가"), "{echoed}");
        assert!(excerpt(&"가".repeat(500)).chars().count() < 90);
    }

    #[test]
    fn bodies_over_the_limit_are_refused() {
        assert!(check_size(&vec![b'#'; MAX_BODY_BYTES]).is_ok());
        assert_eq!(
            check_size(&vec![b'#'; MAX_BODY_BYTES + 1]),
            Err(FeedError::TooLarge { bytes: MAX_BODY_BYTES + 1, limit: MAX_BODY_BYTES })
        );
    }
}
