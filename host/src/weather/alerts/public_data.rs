//! The public-data portal's structured warnings service, `WthrWrnInfoService/getPwnCd`
//! (특보코드조회), asked for with `dataType=JSON`.
//!
//! Unlike the API hub's text feed this is a log of announcements over the requested days
//! (issued, extended, changed, lifted, cancelled), not a snapshot of what is in force; folding
//! them into "in force now" is the caller's job, by [`Warning::key`] and time.
//!
//! The portal's quirks, and what we do about them:
//!
//! - **Errors inside 200s.** The standard envelope carries `resultCode`/`resultMsg`: `00` is
//!   success, `03` (NODATA_ERROR) means nothing matched and is an empty list, anything else is
//!   an error with the portal's message (a wrong or unregistered key, a quota, a parameter). The
//!   service's own guide prints success as `0`, so codes are compared as numbers. Gateway
//!   failures (key, quota, service down) arrive as an XML `<OpenAPI_ServiceResponse>` even when
//!   JSON was asked for; any XML answer is an error naming its code.
//! - **Shapes.** With nothing to list, `items` may be `""`, absent or without `item`, and a
//!   `03` answer may have no `body` at all. One `item` may come as an object rather than an
//!   array of one. Numbers come as strings or numbers (`tmFc` as `202607261030` or
//!   `"202607261030"`); empty times are `""`, `0` or absent.
//! - **Codes.** warnVar: 1 강풍, 2 호우, 3 한파, 4 건조, 5 폭풍해일, 6 풍랑, 7 태풍, 8 대설,
//!   9 황사, 12 폭염 (13 열대야 and anything else is skipped). warnStress: 0 주의보, 1 경보, and
//!   2 중대경보, read as the host's highest level. `command`, per the service's guide: 1 발표
//!   (issue), 2 해제 (lift), 3 연장 (extend), 6 정정 (correction → change), 7 변경발표 (change),
//!   8 변경해제 (lift); these are not the hub's numbering (where 2 is 대치 and 3 해제). Other
//!   numbers are [`WarningCommand::Other`]; Korean words are read as in the hub feed.
//!   `cancel` 1 marks an announcement that was withdrawn, which we report as a lift.
//! - **Times.** `startTime` is given when a warning is issued and `endTime` when it is lifted
//!   (the guide: 발표시 발효시각 / 해제시 발효시각), so the effective time is `startTime`, or
//!   `endTime` for lifts, or else `tmFc`; `endTime` is also reported as the end
//!   (`2026-07-26 15:00 KST`). All are `YYYYMMDDHHMM` Asia/Seoul.
//! - **No upper region.** Items have no REG_UP: `upper_code` is the area code's first four
//!   characters followed by `0000` (`L1091330` → `L1090000`, `L1100200` → `L1100000`), the
//!   form of KMA's upper-region codes; a code too short for that is used whole. This matches
//!   the hub's REG_UP for areas directly under a province, not for the hub's finer groupings.
//!   The same prefix tells the two areas named `광주` and `고성` apart.
//! - **Pages.** Only one page is read; when `totalCount` says the answer held more items than
//!   it carried, that is reported among the skipped so the caller asks for more rows.

use crate::weather::alerts::feed_error::{
    FeedError, MAX_ROWS, Parsed, check_size, excerpt, seoul_minute, seoul_text,
};
use crate::weather::alerts::hub_text::command_from_word;
use crate::weather::alerts::province::{is_sea_area, province_of_area};
use crate::weather::alerts::warning::{Warning, WarningCommand};
use crate::weather::model::{AlertKind, AlertLevel};
use serde_json::Value;

/// Parses a `getPwnCd` answer (`dataType=JSON`).
pub fn parse_pwn_cd(body: &[u8]) -> Result<Parsed, FeedError> {
    check_size(body)?;
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.trim_ascii_start().starts_with(b"<") {
        return Err(xml_error(&String::from_utf8_lossy(body)));
    }
    let root: Value = serde_json::from_slice(body).map_err(|error| {
        FeedError::NotAFeed(format!("not JSON ({error}): {}", excerpt(&String::from_utf8_lossy(body))))
    })?;
    let response =
        root.get("response").ok_or_else(|| FeedError::NotAFeed("no `response` envelope".into()))?;
    let header = response.get("header").ok_or_else(|| FeedError::NotAFeed("no `response.header`".into()))?;
    let code = text(header.get("resultCode"))
        .ok_or_else(|| FeedError::NotAFeed("no `resultCode` in the header".into()))?;
    match code.parse::<u32>() {
        Ok(0) => {}
        Ok(3) => return Ok(Parsed::default()),
        _ => {
            let message = text(header.get("resultMsg")).unwrap_or_else(|| "no message".into());
            return Err(FeedError::Service { code, message });
        }
    }
    let body = response.get("body").ok_or_else(|| FeedError::NotAFeed("success without a `body`".into()))?;
    let items = items(body)?;
    if items.len() > MAX_ROWS {
        return Err(FeedError::TooManyRows { limit: MAX_ROWS });
    }

    let mut parsed = Parsed::default();
    for (index, item) in items.iter().enumerate() {
        match parse_item(item) {
            Ok(warning) => parsed.warnings.push(warning),
            Err(reason) => {
                let area = [text(item.get("areaCode")), text(item.get("areaName"))]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                parsed.skipped.push(format!("item {}: {reason} ({area})", index + 1));
            }
        }
    }
    let total = text(body.get("totalCount")).and_then(|total| total.parse::<usize>().ok());
    if let Some(total) = total.filter(|total| *total > items.len()) {
        parsed.skipped.push(format!(
            "the answer holds {total} items but carried {}: ask for more rows (numOfRows) or the next page",
            items.len()
        ));
    }
    Ok(parsed)
}

/// The items of a success body, whatever shape "none" and "one" took.
fn items(body: &Value) -> Result<Vec<&Value>, FeedError> {
    let items = match body.get("items") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(text)) if text.trim().is_empty() => return Ok(Vec::new()),
        Some(Value::Array(list)) => return Ok(list.iter().collect()),
        Some(items @ Value::Object(_)) => items,
        Some(other) => return Err(FeedError::NotAFeed(format!("`items` is {}", kind_of(other)))),
    };
    match items.get("item") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(Vec::new()),
        Some(Value::Array(list)) => Ok(list.iter().collect()),
        Some(one @ Value::Object(_)) => Ok(vec![one]),
        Some(other) => Err(FeedError::NotAFeed(format!("`items.item` is {}", kind_of(other)))),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_item(item: &Value) -> Result<Warning, String> {
    if !item.is_object() {
        return Err(format!("an item that is {}", kind_of(item)));
    }
    let area_code = text(item.get("areaCode")).ok_or("no areaCode")?;
    let area_name = text(item.get("areaName")).ok_or("no areaName")?;
    if area_code.starts_with('S') || is_sea_area(&area_name) {
        return Err(format!("sea area {area_name}, not on land"));
    }
    let kind = kind_of_code(item.get("warnVar"))?;
    let level = level_of_code(item.get("warnStress"))?;
    let announced_at = time(item, "tmFc")?.ok_or("no tmFc")?;
    let start = time(item, "startTime")?;
    let end = time(item, "endTime")?;
    let cancelled = number(item.get("cancel")) == Some(1);
    let command = if cancelled { WarningCommand::Lift } else { command_of_code(item.get("command")) };
    let province = province_of_area(upper_hint(&area_code), &area_name)
        .ok_or_else(|| format!("unknown area {area_name}"))?;
    let effective_at = if command == WarningCommand::Lift { end.or(start) } else { start.or(end) };
    Ok(Warning {
        province: province.to_owned(),
        upper_code: upper_code(&area_code),
        area_code,
        area_name,
        kind,
        level,
        command,
        announced_at,
        effective_at: effective_at.unwrap_or(announced_at),
        ends: end.map(seoul_text),
    })
}

/// A string or number field as trimmed text; `None` when absent, null or blank.
fn text(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::String(text) => text.trim().to_owned(),
        Value::Number(number) => match (number.as_u64(), number.as_f64()) {
            (Some(whole), _) => whole.to_string(),
            // Some serializers write big integers as floats (2.0260726103E11).
            (None, Some(float)) if float.fract() == 0.0 && float.abs() < 1e15 => format!("{float:.0}"),
            _ => number.to_string(),
        },
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn number(value: Option<&Value>) -> Option<u64> {
    text(value)?.parse().ok()
}

/// An optional time: absent, blank or `0` is `None`; anything else must be a valid time.
fn time(item: &Value, field: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    match text(item.get(field)) {
        None => Ok(None),
        Some(zero) if zero.bytes().all(|b| b == b'0') => Ok(None),
        Some(value) => {
            seoul_minute(&value).map(Some).ok_or_else(|| format!("{field} `{value}` is not YYYYMMDDHHMM"))
        }
    }
}

fn kind_of_code(value: Option<&Value>) -> Result<AlertKind, String> {
    let code = text(value).ok_or("no warnVar")?;
    Ok(match code.as_str() {
        "1" => AlertKind::StrongWind,
        "2" => AlertKind::HeavyRain,
        "3" => AlertKind::ColdWave,
        "4" => AlertKind::Dry,
        "5" => AlertKind::StormSurge,
        "6" => AlertKind::HighSeas,
        "7" => AlertKind::Typhoon,
        "8" => AlertKind::HeavySnow,
        "9" => AlertKind::YellowDust,
        "12" => AlertKind::HeatWave,
        "13" => return Err("a kind of warning the host has no alert for (warnVar 13, 열대야)".into()),
        other => return Err(format!("unknown warnVar `{other}`")),
    })
}

fn level_of_code(value: Option<&Value>) -> Result<AlertLevel, String> {
    let code = text(value).ok_or("no warnStress")?;
    Ok(match code.as_str() {
        "0" => AlertLevel::Advisory,
        "1" | "2" => AlertLevel::Warning,
        other => return Err(format!("unknown warnStress `{other}`")),
    })
}

/// See the module documentation for the numbering; a missing command is `Other`.
fn command_of_code(value: Option<&Value>) -> WarningCommand {
    let Some(code) = text(value) else {
        return WarningCommand::Other;
    };
    match code.as_str() {
        "1" => WarningCommand::Issue,
        "2" | "8" => WarningCommand::Lift,
        "3" => WarningCommand::Extend,
        "6" | "7" => WarningCommand::Change,
        numeric if numeric.bytes().all(|b| b.is_ascii_digit()) => WarningCommand::Other,
        word => command_from_word(word).unwrap_or(WarningCommand::Other),
    }
}

fn upper_code(area_code: &str) -> String {
    match area_code.get(..4) {
        Some(prefix) if area_code.len() == 8 => format!("{prefix}0000"),
        _ => area_code.to_owned(),
    }
}

/// An upper-area name for the code prefixes whose areas share a name with another province's
/// (`광주` in 경기도, `고성` in 강원 and 경남); empty otherwise.
fn upper_hint(area_code: &str) -> &'static str {
    match area_code.get(..4) {
        Some("L101") => "경기도",
        Some("L102") => "강원도",
        Some("L108") => "경상남도",
        _ => "",
    }
}

/// The error an XML answer reports (`<OpenAPI_ServiceResponse>` from the gateway, or a
/// `<response>` envelope when JSON was not asked for).
fn xml_error(xml: &str) -> FeedError {
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = xml.find(&open)? + open.len();
        let end = start + xml[start..].find("</")?;
        Some(xml[start..end].trim().to_owned()).filter(|value| !value.is_empty())
    };
    let code = tag("returnReasonCode").or_else(|| tag("resultCode"));
    let message = tag("returnAuthMsg").or_else(|| tag("errMsg")).or_else(|| tag("resultMsg"));
    match (code, message) {
        (Some(code), message) => FeedError::Service {
            code,
            message: format!("{} (answered in XML)", message.unwrap_or_else(|| "no message".into())),
        },
        (None, _) => FeedError::NotAFeed(format!("an XML answer without a result code: {}", excerpt(xml))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weather::alerts::feed_error::MAX_BODY_BYTES;
    use serde_json::json;

    const PWN_CD: &[u8] = include_bytes!("../fixtures/alerts/pwn-cd.json");
    const SINGLE: &[u8] = include_bytes!("../fixtures/alerts/pwn-cd-single.json");
    const NODATA: &[u8] = include_bytes!("../fixtures/alerts/pwn-cd-nodata.json");

    fn parse(body: &[u8]) -> Parsed {
        parse_pwn_cd(body).expect("an answer")
    }

    fn envelope(code: &str, body: Value) -> Vec<u8> {
        let header = json!({"resultCode": code, "resultMsg": "NORMAL_SERVICE"});
        let answer = json!({"response": {"header": header, "body": body}});
        serde_json::to_vec(&answer).expect("json")
    }

    fn one_item(item: Value) -> Vec<u8> {
        envelope(
            "00",
            json!({"dataType": "JSON", "items": {"item": [item]}, "pageNo": 1, "numOfRows": 10,
                "totalCount": 1}),
        )
    }

    fn item() -> Value {
        json!({"stnId": "108", "tmFc": 202607261030u64, "tmSeq": 41, "areaCode": "L1100200",
            "areaName": "서울동북권",
            "warnVar": 12, "warnStress": 1, "command": "1", "startTime": 202607261100u64, "endTime": 0,
            "allEndTime": 0, "cancel": "0"})
    }

    #[test]
    fn the_fixture_parses_into_warnings_and_reasons() {
        let parsed = parse(PWN_CD);
        assert_eq!(parsed.warnings.len(), 6, "{parsed:#?}");
        assert_eq!(parsed.skipped.len(), 2, "{:#?}", parsed.skipped);

        let seoul = &parsed.warnings[0];
        assert_eq!(seoul.province, "서울특별시");
        assert_eq!(seoul.upper_code, "L1100000");
        assert_eq!(seoul.area_code, "L1100200");
        assert_eq!(seoul.area_name, "서울동북권");
        assert_eq!(
            (seoul.kind, seoul.level, seoul.command),
            (AlertKind::HeatWave, AlertLevel::Warning, WarningCommand::Issue)
        );
        assert_eq!(seoul.announced_at.to_rfc3339(), "2026-07-26T01:30:00+00:00");
        assert_eq!(seoul.effective_at.to_rfc3339(), "2026-07-26T02:00:00+00:00");
        assert_eq!(seoul.ends, None);

        // Strings where numbers were expected, and 중대경보.
        let daegu = &parsed.warnings[1];
        assert_eq!(
            (daegu.province.as_str(), daegu.kind, daegu.level),
            ("대구광역시", AlertKind::HeatWave, AlertLevel::Warning)
        );
        assert_eq!(daegu.announced_at, seoul.announced_at);

        // 광주 under L101 is 경기도's.
        let gwangju = &parsed.warnings[2];
        assert_eq!((gwangju.province.as_str(), gwangju.command), ("경기도", WarningCommand::Change));
        assert_eq!(gwangju.upper_code, "L1010000");

        let cancelled = &parsed.warnings[3];
        assert_eq!(cancelled.area_name, "강원북부산지");
        assert_eq!(cancelled.command, WarningCommand::Lift, "cancel 1 is a lift whatever the command");

        let lifted = &parsed.warnings[4];
        assert_eq!((lifted.province.as_str(), lifted.command), ("제주특별자치도", WarningCommand::Lift));
        assert_eq!(lifted.upper_code, "L1090000");
        assert_eq!(
            lifted.effective_at.to_rfc3339(),
            "2026-07-26T06:00:00+00:00",
            "a lift takes effect at endTime"
        );
        assert_eq!(lifted.ends.as_deref(), Some("2026-07-26 15:00 KST"));

        let extended = &parsed.warnings[5];
        assert_eq!((extended.province.as_str(), extended.command), ("전라남도", WarningCommand::Extend));
        assert_eq!(extended.effective_at, extended.announced_at, "no startTime: the announcement time");

        assert!(
            parsed.skipped[0].contains("sea area") && parsed.skipped[0].contains("S1131300"),
            "{:?}",
            parsed.skipped
        );
        assert!(parsed.skipped[1].contains("열대야"), "{:?}", parsed.skipped);
    }

    #[test]
    fn a_single_item_object_is_a_list_of_one() {
        let parsed = parse(SINGLE);
        assert_eq!(parsed.warnings.len(), 1, "{parsed:#?}");
        assert!(parsed.skipped.is_empty());
        let warning = &parsed.warnings[0];
        assert_eq!(
            (warning.province.as_str(), warning.kind, warning.level),
            ("강원특별자치도", AlertKind::Dry, AlertLevel::Warning)
        );
    }

    #[test]
    fn no_data_is_an_empty_list() {
        assert_eq!(parse(NODATA), Parsed::default());
        assert_eq!(parse(&envelope("3", Value::Null)), Parsed::default());
        for empty in [
            json!({"items": ""}),
            json!({"items": "  "}),
            json!({"items": null}),
            json!({"items": {}}),
            json!({"items": {"item": []}}),
            json!({"items": {"item": ""}}),
            json!({"items": []}),
            json!({"totalCount": 0}),
        ] {
            assert_eq!(parse(&envelope("00", empty.clone())), Parsed::default(), "{empty}");
        }
        assert_eq!(parse(&envelope("0", json!({"items": ""}))), Parsed::default(), "the guide's `0`");
    }

    #[test]
    fn service_errors_are_errors_with_their_message() {
        let header = json!({"resultCode": "30", "resultMsg": "SERVICE_KEY_IS_NOT_REGISTERED_ERROR"});
        let answer = json!({"response": {"header": header}});
        assert_eq!(
            parse_pwn_cd(answer.to_string().as_bytes()),
            Err(FeedError::Service {
                code: "30".into(),
                message: "SERVICE_KEY_IS_NOT_REGISTERED_ERROR".into()
            })
        );
        let numeric = json!({"response": {"header": {"resultCode": 22}}});
        let error = parse_pwn_cd(numeric.to_string().as_bytes());
        assert!(matches!(&error, Err(FeedError::Service { code, .. }) if code == "22"), "{error:?}");
    }

    #[test]
    fn xml_answers_are_errors() {
        let gateway = "<OpenAPI_ServiceResponse>\n\t<cmmMsgHeader>\n\t\t<errMsg>SERVICE ERROR</errMsg>\n\t\t\
            <returnAuthMsg>SERVICE_KEY_IS_NOT_REGISTERED_ERROR</returnAuthMsg>\n\t\t\
            <returnReasonCode>30</returnReasonCode>\n\t</cmmMsgHeader>\n</OpenAPI_ServiceResponse>";
        let error = parse_pwn_cd(gateway.as_bytes()).expect_err("an error");
        assert_eq!(
            error,
            FeedError::Service {
                code: "30".into(),
                message: "SERVICE_KEY_IS_NOT_REGISTERED_ERROR (answered in XML)".into()
            }
        );
        let xml = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?><response><header>\
            <resultCode>00</resultCode><resultMsg>NORMAL_SERVICE</resultMsg></header><body><items/></body>\
            </response>";
        assert!(matches!(parse_pwn_cd(xml.as_bytes()), Err(FeedError::Service { code, .. }) if code == "00"));
        assert!(matches!(
            parse_pwn_cd(b"<html><body>502 Bad Gateway</body></html>"),
            Err(FeedError::NotAFeed(_))
        ));
    }

    #[test]
    fn answers_that_are_not_the_envelope_are_errors() {
        for body in [
            &b""[..],
            b"Unexpected errors",
            b"{}",
            b"[]",
            br#"{"response":{}}"#,
            br#"{"response":{"header":{}}}"#,
        ] {
            let error = parse_pwn_cd(body).expect_err("an error");
            assert!(matches!(error, FeedError::NotAFeed(_)), "{:?}: {error}", String::from_utf8_lossy(body));
        }
        let no_body = json!({"response": {"header": {"resultCode": "00", "resultMsg": "NORMAL_SERVICE"}}});
        assert!(matches!(parse_pwn_cd(no_body.to_string().as_bytes()), Err(FeedError::NotAFeed(_))));
        assert!(matches!(parse_pwn_cd(&envelope("00", json!({"items": 7}))), Err(FeedError::NotAFeed(_))));
        assert!(matches!(
            parse_pwn_cd(&envelope("00", json!({"items": {"item": true}}))),
            Err(FeedError::NotAFeed(_))
        ));
    }

    #[test]
    fn numbers_may_be_strings_and_times_empty() {
        let mut as_strings = item();
        for (field, value) in [
            ("tmFc", "202607261030"),
            ("warnVar", "12"),
            ("warnStress", " 1 "),
            ("startTime", "202607261100"),
            ("endTime", ""),
        ] {
            as_strings[field] = json!(value);
        }
        let expected = parse(&one_item(item()));
        assert_eq!(parse(&one_item(as_strings)), expected);
        let mut float = item();
        float["tmFc"] = json!(202607261030.0);
        assert_eq!(parse(&one_item(float)), expected);
        let mut missing = item();
        missing.as_object_mut().expect("object").remove("endTime");
        assert_eq!(parse(&one_item(missing)), expected);
    }

    #[test]
    fn the_command_numbering_is_the_services_own() {
        for (code, command) in [
            (json!("1"), WarningCommand::Issue),
            (json!(2), WarningCommand::Lift),
            (json!("3"), WarningCommand::Extend),
            (json!("6"), WarningCommand::Change),
            (json!("7"), WarningCommand::Change),
            (json!("8"), WarningCommand::Lift),
            (json!("4"), WarningCommand::Other),
            (json!("발표"), WarningCommand::Issue),
            (json!("해제"), WarningCommand::Lift),
            (json!(""), WarningCommand::Other),
            (Value::Null, WarningCommand::Other),
        ] {
            let mut announcement = item();
            announcement["command"] = code.clone();
            assert_eq!(parse(&one_item(announcement)).warnings[0].command, command, "{code}");
        }
    }

    #[test]
    fn unreadable_items_are_skipped_with_a_reason() {
        let mut bad_time = item();
        bad_time["tmFc"] = json!("2026072610");
        let mut bad_kind = item();
        bad_kind["warnVar"] = json!(10);
        let mut bad_level = item();
        bad_level["warnStress"] = json!(3);
        let mut unknown_area = item();
        unknown_area["areaName"] = json!("모르는구역");
        let mut no_code = item();
        no_code.as_object_mut().expect("object").remove("areaCode");
        let body = envelope(
            "00",
            json!({"items": {"item": [bad_time, bad_kind, bad_level, unknown_area, no_code, "text", item()]},
                "totalCount": 7}),
        );
        let parsed = parse(&body);
        assert_eq!(parsed.warnings.len(), 1);
        let reasons = parsed.skipped.join("\n");
        for expected in [
            "item 1: tmFc `2026072610` is not YYYYMMDDHHMM (L1100200 서울동북권)",
            "item 2: unknown warnVar `10`",
            "item 3: unknown warnStress `3`",
            "item 4: unknown area 모르는구역",
            "item 5: no areaCode",
            "item 6: an item that is a string",
        ] {
            assert!(reasons.contains(expected), "{expected} in\n{reasons}");
        }
    }

    #[test]
    fn a_partial_page_is_reported() {
        let body = envelope("00", json!({"items": {"item": [item()]}, "numOfRows": 1, "totalCount": "3"}));
        let parsed = parse(&body);
        assert_eq!(parsed.warnings.len(), 1);
        assert!(parsed.skipped[0].contains("holds 3 items but carried 1"), "{:?}", parsed.skipped);
    }

    #[test]
    fn bounds_are_enforced() {
        let mut big = b"{\"response\":".to_vec();
        big.resize(MAX_BODY_BYTES + 1, b' ');
        assert_eq!(
            parse_pwn_cd(&big),
            Err(FeedError::TooLarge { bytes: MAX_BODY_BYTES + 1, limit: MAX_BODY_BYTES })
        );
        let many = envelope("00", json!({"items": {"item": vec![json!({}); MAX_ROWS + 1]}}));
        assert_eq!(parse_pwn_cd(&many), Err(FeedError::TooManyRows { limit: MAX_ROWS }));
        let most = envelope("00", json!({"items": {"item": vec![item(); MAX_ROWS]}}));
        assert_eq!(parse(&most).warnings.len(), MAX_ROWS);
    }

    #[test]
    fn upper_codes_come_from_the_area_code() {
        assert_eq!(upper_code("L1091330"), "L1090000");
        assert_eq!(upper_code("L1100200"), "L1100000");
        assert_eq!(upper_code("L10"), "L10");
        assert_eq!(upper_code("가나다라마바사아"), "가나다라마바사아");
    }
}
