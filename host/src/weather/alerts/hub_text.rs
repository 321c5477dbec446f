//! The KMA API hub's current-warnings text feed (`typ01/url/wrn_now_data.php?fe=f&disp=0`):
//! one row per warning area and warning in force (and, for a while, lifted), as comma-separated
//! text between `#START7777` and `#7777END`.
//!
//! The quirks, and why this parser is shaped by them:
//!
//! - **Encoding.** The hub's typ01 text services answer in EUC-KR, usually without saying so,
//!   while proxies and recordings may hand us UTF-8. Korean text in EUC-KR is practically never
//!   valid UTF-8, so a body that is valid UTF-8 is read as such and anything else as EUC-KR; a
//!   caller that knows the charset (a `Content-Type` header) can say so.
//! - **Markers, not HTTP status.** Key errors, quota messages and maintenance pages come back
//!   as 200 with some other text. Only the markers tell a feed from an error page, so an
//!   answer without both is an error, while markers around no rows is an honest "no warnings".
//!   A `#START7777` without its `#7777END` is a cut-off answer and is refused too: half a list
//!   would silently lift the other half.
//! - **Rows.** `#` lines are comments (the header documents the columns). Cells are padded
//!   with spaces and a row ends in `,=`. The ten columns are REG_UP, REG_UP_KO, REG_ID,
//!   REG_KO, TM_FC, TM_EF, WRN, LVL, CMD, ED_TM; ED_TM is a free phrase ("15일 오전(06시~09시)"),
//!   so it takes the rest of the row, commas included.
//! - **Vocabulary.** Live answers spell WRN, LVL and CMD as Korean words (`한파`, `주의`,
//!   `발표`) while the hub's code tables (and some copies of the feed) use one-letter kinds
//!   (W R C D O V T S Y H) and numeric commands; both are read. LVL is read only as words:
//!   the numeric level codes seen in third-party code count a preliminary notice (예비) as
//!   level 1, so `1`/`2` are not "advisory"/"warning", and a level we cannot read for certain
//!   skips the row. Preliminary notices (예비특보) are not warnings in force and are skipped.
//! - **Repeats.** The feed repeats rows; they are returned as they come and the caller
//!   de-duplicates with [`Warning::key`].
//! - **Times** are `YYYYMMDDHHMM` in Asia/Seoul (UTC+9, no daylight saving time).
//!
//! A row that cannot be read (an unknown kind, a bad time, a sea area, an area outside the 17
//! provinces) is skipped with a reason instead of failing the whole answer.

use crate::weather::alerts::feed_error::{FeedError, MAX_ROWS, Parsed, check_size, excerpt, seoul_minute};
use crate::weather::alerts::province::{is_sea_area, province_of_area};
use crate::weather::alerts::warning::{Warning, WarningCommand};
use crate::weather::model::{AlertKind, AlertLevel};
use std::borrow::Cow;

const START: &str = "#START7777";
const END: &str = "#7777END";

/// Parses an answer of the current-warnings text feed whose charset is not known: valid UTF-8
/// is read as UTF-8, anything else as EUC-KR.
pub fn parse_hub_text(body: &[u8]) -> Result<Parsed, FeedError> {
    parse_hub_text_with_charset(body, None)
}

/// Parses an answer of the current-warnings text feed, decoding it with `charset` (a WHATWG
/// label such as `euc-kr` or `utf-8`, as in a `Content-Type` header) when given, else as
/// [`parse_hub_text`] does.
pub fn parse_hub_text_with_charset(body: &[u8], charset: Option<&str>) -> Result<Parsed, FeedError> {
    check_size(body)?;
    let text = decode(body, charset)?;
    let rows = data_rows(&text)?;
    if rows.len() > MAX_ROWS {
        return Err(FeedError::TooManyRows { limit: MAX_ROWS });
    }
    let mut parsed = Parsed::default();
    for (line_number, row) in rows {
        match parse_row(row) {
            Ok(warning) => parsed.warnings.push(warning),
            Err(reason) => parsed.skipped.push(format!("line {line_number}: {reason} ({})", row.trim())),
        }
    }
    Ok(parsed)
}

fn decode<'a>(body: &'a [u8], charset: Option<&str>) -> Result<Cow<'a, str>, FeedError> {
    let encoding = match charset.map(str::trim).filter(|label| !label.is_empty()) {
        Some(label) => encoding_rs::Encoding::for_label(label.as_bytes())
            .ok_or_else(|| FeedError::UnknownCharset(label.to_owned()))?,
        None if std::str::from_utf8(body).is_ok() => encoding_rs::UTF_8,
        None => encoding_rs::EUC_KR,
    };
    // Undecodable bytes become U+FFFD; rows holding one are skipped (see `parse_row`).
    let (text, _, _) = encoding.decode(body);
    Ok(text)
}

/// The non-comment, non-blank lines between the markers, with their 1-based line numbers.
fn data_rows(text: &str) -> Result<Vec<(usize, &str)>, FeedError> {
    let mut lines = text.lines().enumerate();
    if !lines.by_ref().any(|(_, line)| line.trim() == START) {
        return Err(FeedError::NotAFeed(format!("no `{START}` marker in {}", excerpt(text))));
    }
    let mut rows = Vec::new();
    for (index, line) in lines {
        let trimmed = line.trim();
        if trimmed == END {
            return Ok(rows);
        }
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed == "=" {
            continue;
        }
        // Counting stops just past the limit: the caller refuses the answer anyway.
        if rows.len() <= MAX_ROWS {
            rows.push((index + 1, line));
        }
    }
    Err(FeedError::NotAFeed(format!("`{START}` without `{END}`: the answer was cut off")))
}

fn parse_row(row: &str) -> Result<Warning, String> {
    if row.contains('\u{FFFD}') {
        return Err("bytes that are not valid in the feed's character set".into());
    }
    let row = row.trim_end();
    let row = row.strip_suffix('=').unwrap_or(row).trim_end();
    let row = row.strip_suffix(',').unwrap_or(row);
    let cells: Vec<&str> = row.splitn(10, ',').map(str::trim).collect();
    let [upper_code, upper_name, area_code, area_name, tm_fc, tm_ef, wrn, lvl, cmd, rest @ ..] =
        cells.as_slice()
    else {
        return Err(format!("{} columns where 9 or 10 were expected", cells.len()));
    };
    if area_code.is_empty() || area_name.is_empty() {
        return Err("no warning area".into());
    }
    if area_code.starts_with('S') || is_sea_area(area_name) {
        return Err(format!("sea area {area_name}, not on land"));
    }
    let kind = kind_from_word(wrn)?;
    let level = level_from_word(lvl)?;
    let command = command_from_word(cmd).unwrap_or(WarningCommand::Other);
    let announced_at =
        seoul_minute(tm_fc).ok_or_else(|| format!("announcement time `{tm_fc}` is not YYYYMMDDHHMM"))?;
    let effective_at =
        seoul_minute(tm_ef).ok_or_else(|| format!("effective time `{tm_ef}` is not YYYYMMDDHHMM"))?;
    let province = province_of_area(upper_name, area_name)
        .ok_or_else(|| format!("unknown area {area_name} (under {upper_name})"))?;
    // No end is written as a blank or, by some producers, `0`.
    let ends = rest.first().map(|text| text.trim()).filter(|text| !text.is_empty() && *text != "0");
    Ok(Warning {
        province: province.to_owned(),
        upper_code: (*upper_code).to_owned(),
        area_code: (*area_code).to_owned(),
        area_name: (*area_name).to_owned(),
        kind,
        level,
        command,
        announced_at,
        effective_at,
        ends: ends.map(str::to_owned),
    })
}

/// A warning kind as the feeds spell it: the Korean word or the hub's one-letter code.
pub(crate) fn kind_from_word(word: &str) -> Result<AlertKind, String> {
    Ok(match word.trim() {
        "강풍" | "W" => AlertKind::StrongWind,
        "호우" | "R" => AlertKind::HeavyRain,
        "한파" | "C" => AlertKind::ColdWave,
        "건조" | "D" => AlertKind::Dry,
        // `해일` is the storm surge's older name and the hub's name for code O; the
        // earthquake tsunami is always spelled out (지진해일, N).
        "폭풍해일" | "해일" | "O" => AlertKind::StormSurge,
        "풍랑" | "V" => AlertKind::HighSeas,
        "태풍" | "T" => AlertKind::Typhoon,
        "대설" | "S" => AlertKind::HeavySnow,
        "황사" | "Y" => AlertKind::YellowDust,
        "폭염" | "H" => AlertKind::HeatWave,
        unsupported @ ("지진해일" | "N" | "안개" | "F" | "열대야") => {
            return Err(format!("a kind of warning the host has no alert for ({unsupported})"));
        }
        "" => return Err("no warning kind".into()),
        unknown => return Err(format!("unknown warning kind `{unknown}`")),
    })
}

/// A warning level as the feeds spell it. 중대경보 (a level above 경보) has no level of its
/// own in the host, so it is the highest the host has.
pub(crate) fn level_from_word(word: &str) -> Result<AlertLevel, String> {
    Ok(match word.trim() {
        "주의보" | "주의" => AlertLevel::Advisory,
        "경보" | "중대경보" => AlertLevel::Warning,
        "예비" | "예비특보" => {
            return Err("a preliminary notice (예비특보), not a warning in force".into());
        }
        "" => return Err("no warning level".into()),
        code if code.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(format!("numeric warning level `{code}`, whose meaning KMA does not document"));
        }
        unknown => return Err(format!("unknown warning level `{unknown}`")),
    })
}

/// An announcement command as the hub spells it: the Korean word, or the hub's numeric code
/// (1 발표, 2 대치, 3 해제, 4 대치해제, 5 연장, 6 변경, 7 변경해제). `None` for anything else;
/// the caller decides (the hub feed treats it as [`WarningCommand::Other`]).
pub(crate) fn command_from_word(word: &str) -> Option<WarningCommand> {
    match word.trim() {
        "발표" | "1" => Some(WarningCommand::Issue),
        "대치" | "2" => Some(WarningCommand::Replace),
        "해제" | "대치해제" | "변경해제" | "취소" | "3" | "4" | "7" => Some(WarningCommand::Lift),
        "연장" | "5" => Some(WarningCommand::Extend),
        "변경" | "변경발표" | "정정" | "시각변경" | "6" => Some(WarningCommand::Change),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weather::alerts::feed_error::MAX_BODY_BYTES;

    const EUC_KR: &[u8] = include_bytes!("../fixtures/alerts/hub-now.euc-kr.txt");
    const UTF8: &[u8] = include_bytes!("../fixtures/alerts/hub-now.utf8.txt");
    const NONE: &[u8] = include_bytes!("../fixtures/alerts/hub-none.txt");
    const DEFAULT: &[u8] = include_bytes!("../fixtures/alerts/default.txt");

    fn parse(body: &[u8]) -> Parsed {
        parse_hub_text(body).expect("a feed")
    }

    fn find<'a>(parsed: &'a Parsed, area: &str, kind: AlertKind) -> Vec<&'a Warning> {
        parsed.warnings.iter().filter(|w| w.area_name == area && w.kind == kind).collect()
    }

    #[test]
    fn the_fixtures_are_what_they_claim_to_be() {
        assert!(String::from_utf8(EUC_KR.to_vec()).is_err(), "the EUC-KR fixture must not be UTF-8");
        for utf8 in [UTF8, NONE, DEFAULT] {
            assert!(std::str::from_utf8(utf8).is_ok());
        }
    }

    #[test]
    fn the_euc_kr_feed_parses_with_korean_names_intact() {
        let parsed = parse(EUC_KR);
        assert_eq!(parsed.warnings.len(), 9, "{:#?}", parsed);
        assert_eq!(parsed.skipped.len(), 2, "{:#?}", parsed.skipped);

        let dry = find(&parsed, "강원북부산지", AlertKind::Dry);
        assert_eq!(dry.len(), 1);
        let dry = dry[0];
        assert_eq!(dry.province, "강원특별자치도");
        assert_eq!(dry.upper_code, "L1020000");
        assert_eq!(dry.area_code, "L1021100");
        assert_eq!(dry.level, AlertLevel::Warning);
        assert_eq!(dry.command, WarningCommand::Replace);
        assert_eq!(dry.announced_at.to_rfc3339(), "2026-01-13T20:00:00+00:00");
        assert_eq!(dry.effective_at.to_rfc3339(), "2026-01-14T01:00:00+00:00");
        assert_eq!(dry.ends, None);

        let cold = find(&parsed, "강원중부산지", AlertKind::ColdWave);
        assert_eq!(cold.len(), 1);
        assert_eq!((cold[0].province.as_str(), cold[0].level), ("강원특별자치도", AlertLevel::Advisory));
        assert_eq!(cold[0].ends.as_deref(), Some("15일 오전(06시~09시)"));
        let gangwon = parsed.warnings.iter().filter(|w| w.province == "강원특별자치도").count();
        assert_eq!(gangwon, 3, "강원 has the 건조 경보 and two 한파 주의보 rows");

        let seoul = find(&parsed, "서울동남권", AlertKind::ColdWave);
        assert_eq!(seoul.len(), 2);
        assert_eq!(seoul[0].province, "서울특별시");
        assert_eq!(seoul[0].level, AlertLevel::Advisory);
        assert_eq!(seoul[0].command, WarningCommand::Issue);

        let ulleung = find(&parsed, "울릉도·독도", AlertKind::StrongWind);
        assert_eq!(ulleung.len(), 1);
        assert_eq!(ulleung[0].province, "경상북도");
        let heuksan = find(&parsed, "흑산도.홍도", AlertKind::StrongWind);
        assert_eq!(heuksan[0].province, "전라남도");
        let jeju = find(&parsed, "제주도산지", AlertKind::HeavySnow);
        assert_eq!((jeju[0].province.as_str(), jeju[0].level), ("제주특별자치도", AlertLevel::Warning));
    }

    #[test]
    fn a_repeated_row_comes_out_twice_with_one_key() {
        let parsed = parse(EUC_KR);
        let seoul = find(&parsed, "서울동남권", AlertKind::ColdWave);
        assert_eq!(seoul.len(), 2, "the parser does not de-duplicate");
        assert_eq!(seoul[0], seoul[1]);
        assert_eq!(seoul[0].key(), seoul[1].key());
        let mut keys: Vec<String> = parsed.warnings.iter().map(Warning::key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), parsed.warnings.len() - 1, "only the repeated row shares a key");
    }

    #[test]
    fn a_lifted_row_is_a_lift() {
        let parsed = parse(EUC_KR);
        let busan = find(&parsed, "부산", AlertKind::StrongWind);
        assert_eq!(busan.len(), 1);
        assert_eq!(busan[0].province, "부산광역시");
        assert_eq!(busan[0].command, WarningCommand::Lift);
        assert!(!busan[0].command.in_force());
        let in_force = parsed.warnings.iter().filter(|w| w.command.in_force()).count();
        assert_eq!(in_force, parsed.warnings.len() - 1);
    }

    #[test]
    fn sea_and_unsupported_rows_are_skipped_with_a_reason() {
        let parsed = parse(EUC_KR);
        assert!(parsed.warnings.iter().all(|w| w.kind != AlertKind::HighSeas));
        let sea =
            parsed.skipped.iter().find(|s| s.contains("동해중부앞바다")).expect("the sea row is reported");
        assert!(sea.contains("sea area"), "{sea}");
        assert!(sea.starts_with("line "), "{sea}");
        let fog = parsed.skipped.iter().find(|s| s.contains("안개")).expect("the fog row is reported");
        assert!(fog.contains("no alert for"), "{fog}");
    }

    #[test]
    fn the_utf8_feed_reads_the_same_in_either_encoding() {
        let parsed = parse(UTF8);
        assert_eq!(parsed.warnings.len(), 4, "{parsed:#?}");
        assert_eq!(parsed.skipped.len(), 1, "{:#?}", parsed.skipped);
        assert!(parsed.skipped[0].contains("preliminary"), "{:?}", parsed.skipped);

        let jeju = &parsed.warnings[0];
        assert_eq!(jeju.upper_code, "L1091300");
        assert_eq!(jeju.area_code, "L1091330");
        assert_eq!(jeju.area_name, "제주시동부");
        assert_eq!(jeju.province, "제주특별자치도");
        assert_eq!(
            (jeju.kind, jeju.level, jeju.command),
            (AlertKind::StrongWind, AlertLevel::Advisory, WarningCommand::Change)
        );
        assert_eq!(jeju.announced_at.to_rfc3339(), "2026-07-26T01:00:00+00:00");
        assert_eq!(jeju.effective_at.to_rfc3339(), "2026-07-26T02:00:00+00:00");
        assert_eq!(jeju.ends, None);

        let gwangju: Vec<&str> =
            parsed.warnings.iter().filter(|w| w.area_name == "광주").map(|w| w.province.as_str()).collect();
        assert_eq!(gwangju, ["경기도", "광주광역시"], "one name, two provinces, told apart by REG_UP_KO");
        let seoul = parsed.warnings.iter().find(|w| w.kind == AlertKind::HeatWave).expect("폭염");
        assert_eq!(seoul.ends.as_deref(), Some("27일 오후(12시~18시), 해제 예정"), "ED_TM keeps its commas");

        let text = std::str::from_utf8(UTF8).expect("utf-8");
        let (euc_kr, _, unmappable) = encoding_rs::EUC_KR.encode(text);
        assert!(!unmappable);
        assert_eq!(parse(&euc_kr), parsed);
        assert_eq!(parse_hub_text_with_charset(&euc_kr, Some("EUC-KR")).expect("a feed"), parsed);
        assert_eq!(parse_hub_text_with_charset(UTF8, Some(" utf-8 ")).expect("a feed"), parsed);
        assert_eq!(parse_hub_text_with_charset(UTF8, Some("")).expect("a feed"), parsed);
    }

    #[test]
    fn an_explicit_charset_is_honoured() {
        let text = std::str::from_utf8(UTF8).expect("utf-8");
        let (euc_kr, _, _) = encoding_rs::EUC_KR.encode(text);
        // Bytes of EUC-KR read as UTF-8 are not Korean any more: every Korean row is skipped.
        let wrong = parse_hub_text_with_charset(&euc_kr, Some("utf-8")).expect("markers are ASCII");
        assert!(wrong.warnings.is_empty());
        assert!(wrong.skipped.iter().all(|s| s.contains("not valid in the feed's character set")));
        assert_eq!(
            parse_hub_text_with_charset(UTF8, Some("klingon")),
            Err(FeedError::UnknownCharset("klingon".into()))
        );
    }

    #[test]
    fn markers_around_nothing_are_no_warnings() {
        assert_eq!(parse(NONE), Parsed::default());
    }

    #[test]
    fn an_answer_without_the_markers_is_an_error() {
        for body in [
            "",
            "\n",
            "<html><body>Service Unavailable</body></html>",
            "{\"result\":{\"status\":403,\"message\":\"인증키가 유효하지 않습니다\"}}",
            "#7777END\n",
            "L1020000, 강원도, L1021100, 강원북부산지, 202601140500, 202601141000, 건조, 경보, 발표,  ,=\n",
        ] {
            let error = parse_hub_text(body.as_bytes()).expect_err(body);
            assert!(matches!(error, FeedError::NotAFeed(_)), "{body:?}: {error}");
        }
        let cut = "#START7777\n\
            L1020000, 강원도, L1021100, 강원북부산지, 202601140500, 202601141000, 건조, 경보, 발표,  ,=\n";
        let error = parse_hub_text(cut.as_bytes()).expect_err("cut off");
        assert!(error.to_string().contains("cut off"), "{error}");
    }

    #[test]
    fn an_oversized_answer_is_refused_before_reading() {
        let mut body = b"#START7777\n".to_vec();
        body.resize(MAX_BODY_BYTES + 1, b' ');
        assert_eq!(
            parse_hub_text(&body),
            Err(FeedError::TooLarge { bytes: MAX_BODY_BYTES + 1, limit: MAX_BODY_BYTES })
        );
    }

    #[test]
    fn an_answer_with_too_many_rows_is_refused() {
        let row = "L1020000,강원도,L1021100,강원북부산지,202601140500,202601141000,건조,경보,발표,,=\n";
        let feed = |rows: usize| format!("{START}\n{}{END}\n", row.repeat(rows));
        assert_eq!(parse(feed(MAX_ROWS).as_bytes()).warnings.len(), MAX_ROWS);
        assert_eq!(
            parse_hub_text(feed(MAX_ROWS + 1).as_bytes()),
            Err(FeedError::TooManyRows { limit: MAX_ROWS })
        );
    }

    #[test]
    fn bad_rows_are_skipped_and_the_rest_kept() {
        let feed = [
            START,
            "# REG_UP, REG_UP_KO, REG_ID, REG_KO, TM_FC, TM_EF, WRN, LVL, CMD, ED_TM",
            "L1020000, 강원도, L1021100, 강원북부산지, 2026011405, 202601141000, 건조, 경보, 발표,  ,=",
            "L1020000, 강원도, L1021100, 강원북부산지, 202601140500, 202613141000, 건조, 경보, 발표,  ,=",
            "L1020000, 강원도, L1021100, 강원북부산지, 202601140500, 202601141000, 우박, 경보, 발표,  ,=",
            "L1020000, 강원도, L1021100, 강원북부산지, 202601140500, 202601141000, 건조, 2, 발표,  ,=",
            "L1020000, 강원도, L1021100, 강원북부산지, 202601140500, 202601141000, 건조, 경보",
            "L9990000, 어딘가, L9990100, 모르는구역, 202601140500, 202601141000, 건조, 경보, 발표,  ,=",
            "L1020000, 강원도, L1021100, 강원북부산지, 202601140500, 202601141000, 건조, 경보, 발표,  ,=",
            END,
        ]
        .join("\n");
        let parsed = parse(feed.as_bytes());
        assert_eq!(parsed.warnings.len(), 1);
        let reasons = parsed.skipped.join("\n");
        assert_eq!(parsed.skipped.len(), 6, "{reasons}");
        for expected in [
            "line 3: announcement time `2026011405`",
            "line 4: effective time `202613141000`",
            "line 5: unknown warning kind `우박`",
            "line 6: numeric warning level `2`",
            "line 7: 8 columns",
            "line 8: unknown area 모르는구역",
        ] {
            assert!(reasons.contains(expected), "{expected} in\n{reasons}");
        }
    }

    #[test]
    fn codes_and_words_are_both_read() {
        let feed = [
            START,
            "L1020000, 강원도, L1021100, 강원북부산지, 202601140500, 202601141000, D, 주의, 1, 0,=",
            "L1020000, 강원도, L1021100, 강원북부산지, 202601140500, 202601141000, C, 경보, 3,=",
            "L1020000, 강원도, L1021100, 강원북부산지, 202601140500, 202601141000, S, 중대경보, 대치해제,=",
            "L1020000, 강원도, L1021100, 강원북부산지, 202601140500, 202601141000, 해일, 주의보, 99,=",
            "L1020000, 강원도, L1021100, 강원북부산지, 202601140500, 202601141000, 지진해일, 주의보, 발표,=",
            END,
        ]
        .join("\r\n");
        let parsed = parse(feed.as_bytes());
        let read: Vec<_> =
            parsed.warnings.iter().map(|w| (w.kind, w.level, w.command, w.ends.clone())).collect();
        assert_eq!(
            read,
            [
                (AlertKind::Dry, AlertLevel::Advisory, WarningCommand::Issue, None),
                (AlertKind::ColdWave, AlertLevel::Warning, WarningCommand::Lift, None),
                (AlertKind::HeavySnow, AlertLevel::Warning, WarningCommand::Lift, None),
                (AlertKind::StormSurge, AlertLevel::Advisory, WarningCommand::Other, None),
            ]
        );
        assert_eq!(parsed.skipped.len(), 1);
        assert!(parsed.skipped[0].contains("지진해일"));
    }

    #[test]
    fn every_command_word_has_its_meaning() {
        for (word, command) in [
            ("발표", WarningCommand::Issue),
            ("대치", WarningCommand::Replace),
            ("해제", WarningCommand::Lift),
            ("대치해제", WarningCommand::Lift),
            ("변경해제", WarningCommand::Lift),
            ("연장", WarningCommand::Extend),
            ("변경", WarningCommand::Change),
            ("2", WarningCommand::Replace),
            ("4", WarningCommand::Lift),
            ("5", WarningCommand::Extend),
            ("6", WarningCommand::Change),
            ("7", WarningCommand::Lift),
        ] {
            assert_eq!(command_from_word(word), Some(command), "{word}");
        }
        assert_eq!(command_from_word(""), None);
        assert_eq!(command_from_word("8"), None);
    }

    #[test]
    fn the_bundled_default_has_gangwon_alerts_in_force() {
        let parsed = parse(DEFAULT);
        assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
        let gangwon: Vec<(AlertKind, AlertLevel)> = parsed
            .warnings
            .iter()
            .filter(|w| w.province == "강원특별자치도" && w.command.in_force())
            .map(|w| (w.kind, w.level))
            .collect();
        assert!(gangwon.contains(&(AlertKind::Dry, AlertLevel::Warning)), "{gangwon:?}");
        assert!(gangwon.contains(&(AlertKind::ColdWave, AlertLevel::Advisory)), "{gangwon:?}");
    }
}
