//! The envelopes the short-term forecast service answers with, all of them:
//!
//! - the normal `{"response":{"header":{resultCode,resultMsg},"body":{items:{item:…},totalCount}}}`;
//! - a header-only `{"resultCode","resultMsg"}` with no `response`;
//! - the gateway's XML `OpenAPI_ServiceResponse/cmmMsgHeader/{errMsg,returnAuthMsg,returnReasonCode}`,
//!   sent with HTTP 200 even when JSON was asked (key and quota problems);
//! - `items` or `item` as `""` (nothing), one object, or a list.

use serde::Deserialize;
use serde_json::Value;

/// Why the service gave no data. Each result code has its own variant because each calls for
/// different handling: NODATA moves to an earlier base time, a bad key or quota is an
/// operator's problem, the rest are the service's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KmaError {
    /// `03 NODATA_ERROR`: the base time is not published (yet, or any more).
    #[error("KMA has no data for this base time")]
    NoData,
    /// `10 INVALID_REQUEST_PARAMETER_ERROR` (a bug on our side: logged with the message).
    #[error("KMA rejected a request parameter: {0}")]
    InvalidRequest(String),
    /// `22 LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR`: the daily quota is used up.
    #[error("KMA request quota exceeded")]
    QuotaExceeded,
    /// `30 SERVICE_KEY_IS_NOT_REGISTERED_ERROR`: the configured service key is wrong.
    #[error("KMA service key is not registered")]
    KeyNotRegistered,
    /// `99` and every other code (application or database error, service timeout, access denied).
    #[error("KMA service error {code}: {message}")]
    Service { code: String, message: String },
    /// A status other than 200 with no envelope we know.
    #[error("KMA answered HTTP {0}")]
    Http(u16),
    /// Connection failure or timeout.
    #[error("KMA unreachable: {0}")]
    Transport(String),
    #[error("KMA answer larger than {0} bytes")]
    TooLarge(usize),
    /// Not one of the known envelopes.
    #[error("unreadable KMA answer: {0}")]
    Unreadable(String),
}

impl KmaError {
    fn from_code(code: &str, message: &str) -> Self {
        match code.trim() {
            "03" => Self::NoData,
            "10" => Self::InvalidRequest(message.trim().to_owned()),
            "22" => Self::QuotaExceeded,
            "30" => Self::KeyNotRegistered,
            other => Self::Service { code: other.to_owned(), message: message.trim().to_owned() },
        }
    }
}

/// One row of an answer: forecasts carry `fcst*`, observations `obsrValue`.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub base_date: String,
    pub base_time: String,
    pub category: String,
    pub fcst_date: Option<String>,
    pub fcst_time: Option<String>,
    /// `fcstValue` or `obsrValue`.
    pub value: String,
}

/// One page of items and the total the service holds for the query.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    pub total_count: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawItem {
    #[serde(default)]
    base_date: Value,
    #[serde(default)]
    base_time: Value,
    #[serde(default)]
    category: Value,
    #[serde(default)]
    fcst_date: Value,
    #[serde(default)]
    fcst_time: Value,
    #[serde(default)]
    fcst_value: Value,
    #[serde(default)]
    obsr_value: Value,
}

/// Values are documented as strings; numbers are accepted too (they appear for some fields).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

impl RawItem {
    fn into_item(self) -> Result<Item, KmaError> {
        let missing = |field: &str| KmaError::Unreadable(format!("an item without {field}"));
        Ok(Item {
            base_date: text(&self.base_date).ok_or_else(|| missing("baseDate"))?,
            base_time: text(&self.base_time).ok_or_else(|| missing("baseTime"))?,
            category: text(&self.category).ok_or_else(|| missing("category"))?,
            fcst_date: text(&self.fcst_date),
            fcst_time: text(&self.fcst_time),
            value: text(&self.fcst_value)
                .or_else(|| text(&self.obsr_value))
                .ok_or_else(|| missing("a value"))?,
        })
    }
}

/// Parses any answer body into a page or the error it stands for.
pub fn parse(body: &[u8]) -> Result<Page, KmaError> {
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"<") {
        return Err(parse_xml(&String::from_utf8_lossy(trimmed)));
    }
    let root: Value =
        serde_json::from_slice(trimmed).map_err(|err| KmaError::Unreadable(format!("not JSON: {err}")))?;
    let (header, body) = match root.get("response") {
        Some(response) => (response.get("header"), response.get("body")),
        // The header-only envelope: the header's fields at the top level.
        None if root.get("resultCode").is_some() => (Some(&root), None),
        None => return Err(KmaError::Unreadable("neither `response` nor `resultCode`".into())),
    };
    let header = header.ok_or_else(|| KmaError::Unreadable("a response without a header".into()))?;
    let code = header.get("resultCode").and_then(text).unwrap_or_default();
    let message = header.get("resultMsg").and_then(text).unwrap_or_default();
    if code != "00" {
        return Err(KmaError::from_code(&code, &message));
    }
    let Some(body) = body else {
        // `00` with no body: nothing to read.
        return Ok(Page { items: Vec::new(), total_count: 0 });
    };
    let items = match body.get("items") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if s.trim().is_empty() => Vec::new(),
        Some(items) => match items.get("item") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) if s.trim().is_empty() => Vec::new(),
            Some(Value::Array(list)) => list.iter().map(raw_item).collect::<Result<_, _>>()?,
            Some(one @ Value::Object(_)) => vec![raw_item(one)?],
            Some(other) => return Err(KmaError::Unreadable(format!("`item` is {other}"))),
        },
    };
    let total_count = body
        .get("totalCount")
        .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())))
        .unwrap_or(items.len() as u64);
    Ok(Page { items, total_count })
}

fn raw_item(value: &Value) -> Result<Item, KmaError> {
    RawItem::deserialize(value).map_err(|err| KmaError::Unreadable(format!("an item: {err}")))?.into_item()
}

/// The text inside the first `<tag>…</tag>`.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim())
}

/// The gateway's XML error: its `returnReasonCode` uses the same numbers as `resultCode`.
fn parse_xml(xml: &str) -> KmaError {
    if !xml.contains("<cmmMsgHeader>") {
        return KmaError::Unreadable("an XML answer without cmmMsgHeader".into());
    }
    let code = element(xml, "returnReasonCode").unwrap_or("99");
    let message = [element(xml, "returnAuthMsg"), element(xml, "errMsg")]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" / ");
    KmaError::from_code(code, &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(code: &str, items: &str) -> String {
        format!(
            r#"{{"response":{{"header":{{"resultCode":"{code}","resultMsg":"MSG"}},"body":{{"dataType":"JSON","items":{items},"pageNo":1,"numOfRows":10,"totalCount":7}}}}}}"#
        )
    }

    const ONE: &str = r#"{"baseDate":"20261123","baseTime":"0200","category":"TMP","fcstDate":"20261123","fcstTime":"0600","fcstValue":"-4","nx":60,"ny":127}"#;

    #[test]
    fn item_as_list_object_or_empty_string() {
        let page = parse(envelope("00", &format!(r#"{{"item":[{ONE},{ONE}]}}"#)).as_bytes()).expect("list");
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.total_count, 7);
        let page = parse(envelope("00", &format!(r#"{{"item":{ONE}}}"#)).as_bytes()).expect("object");
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].category, "TMP");
        assert_eq!(page.items[0].fcst_time.as_deref(), Some("0600"));
        assert_eq!(page.items[0].value, "-4");
        assert!(parse(envelope("00", r#"{"item":""}"#).as_bytes()).expect("empty item").items.is_empty());
        assert!(parse(envelope("00", r#""""#).as_bytes()).expect("empty items").items.is_empty());
    }

    #[test]
    fn observations_and_numeric_values() {
        let body = envelope(
            "00",
            r#"{"item":[{"baseDate":"20261123","baseTime":"1400","category":"T1H","nx":60,"ny":127,"obsrValue":"3.4"},
                        {"baseDate":20261123,"baseTime":1400,"category":"REH","nx":60,"ny":127,"obsrValue":41}]}"#,
        );
        let page = parse(body.as_bytes()).expect("nowcast");
        assert_eq!(page.items[0].value, "3.4");
        assert_eq!(page.items[0].fcst_date, None);
        assert_eq!(page.items[1].value, "41");
        assert_eq!(page.items[1].base_time, "1400");
    }

    #[test]
    fn every_result_code_is_its_own_outcome() {
        assert_eq!(parse(envelope("03", r#""""#).as_bytes()), Err(KmaError::NoData));
        assert_eq!(parse(envelope("10", r#""""#).as_bytes()), Err(KmaError::InvalidRequest("MSG".into())));
        assert_eq!(parse(envelope("22", r#""""#).as_bytes()), Err(KmaError::QuotaExceeded));
        assert_eq!(parse(envelope("30", r#""""#).as_bytes()), Err(KmaError::KeyNotRegistered));
        assert_eq!(
            parse(envelope("99", r#""""#).as_bytes()),
            Err(KmaError::Service { code: "99".into(), message: "MSG".into() })
        );
    }

    #[test]
    fn the_header_only_envelope() {
        let body = r#"{"resultCode":"03","resultMsg":"NO_DATA"}"#;
        assert_eq!(parse(body.as_bytes()), Err(KmaError::NoData));
        let body = r#"{"resultCode":"22","resultMsg":"LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR"}"#;
        assert_eq!(parse(body.as_bytes()), Err(KmaError::QuotaExceeded));
    }

    #[test]
    fn the_gateway_xml_error() {
        let xml = "<OpenAPI_ServiceResponse>\n\t<cmmMsgHeader>\n\t\t<errMsg>SERVICE ERROR</errMsg>\n\t\t<returnAuthMsg>SERVICE_KEY_IS_NOT_REGISTERED_ERROR</returnAuthMsg>\n\t\t<returnReasonCode>30</returnReasonCode>\n\t</cmmMsgHeader>\n</OpenAPI_ServiceResponse>";
        assert_eq!(parse(xml.as_bytes()), Err(KmaError::KeyNotRegistered));
        let xml = xml.replace(">30<", ">22<");
        assert_eq!(parse(xml.as_bytes()), Err(KmaError::QuotaExceeded));
        let xml = xml.replace(">22<", ">12<");
        assert!(matches!(
            parse(xml.as_bytes()),
            Err(KmaError::Service { code, message }) if code == "12" && message.contains("SERVICE ERROR")
        ));
    }

    #[test]
    fn anything_else_is_unreadable() {
        for body in ["", "null", "[]", "{\"foo\":1}", "<html>502</html>", "{\"response\":{}}"] {
            assert!(matches!(parse(body.as_bytes()), Err(KmaError::Unreadable(_))), "{body}");
        }
    }
}
