//! The two values a server settles in answer to CONNECT: protocol version and heart-beats.

use std::fmt;
use std::time::Duration;

/// A STOMP protocol version.
///
/// The codec itself implements 1.2 framing; stompjs offers 1.2 first, so 1.1 and 1.0 only
/// matter for other clients, whose frames differ in ways the server may need to allow for
/// (1.1 has no `\r` escape, 1.0 no escapes at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    V1_0,
    V1_1,
    V1_2,
}

impl Version {
    /// The version as written in `accept-version` and CONNECTED's `version` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1_0 => "1.0",
            Version::V1_1 => "1.1",
            Version::V1_2 => "1.2",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why CONNECT could not be answered with CONNECTED.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegotiateError {
    /// `accept-version` names no version this server speaks.
    #[error("supported protocol versions are 1.2, 1.1, 1.0")]
    NoCommonVersion,
    /// `heart-beat` is not two comma-separated millisecond counts.
    #[error("invalid heart-beat header")]
    BadHeartBeat,
}

/// Picks the highest version in a CONNECT's `accept-version` header (a comma-separated list,
/// e.g. stompjs's `1.2,1.1,1.0`). Unknown entries are ignored. A CONNECT without the header
/// comes from a STOMP 1.0 client, so `None` means 1.0.
pub fn negotiate_version(accept_version: Option<&str>) -> Result<Version, NegotiateError> {
    let Some(offered) = accept_version else {
        return Ok(Version::V1_0);
    };
    offered
        .split(',')
        .filter_map(|v| match v.trim() {
            "1.0" => Some(Version::V1_0),
            "1.1" => Some(Version::V1_1),
            "1.2" => Some(Version::V1_2),
            _ => None,
        })
        .max()
        .ok_or(NegotiateError::NoCommonVersion)
}

/// The outcome of heart-beat negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartBeatAgreement {
    /// Value for CONNECTED's `heart-beat` header: the server's own `sx,sy`. The client applies
    /// the same rule to it and so arrives at the same two intervals.
    pub header_value: String,
    /// How often the server must send something (a frame or [`HEARTBEAT`](crate::HEARTBEAT))
    /// when otherwise silent; `None` for never.
    pub send_every: Option<Duration>,
    /// How often the client has agreed to send something; `None` for no promise. Allow for
    /// network delay (say, twice the interval) before treating the client as gone.
    pub expect_every: Option<Duration>,
}

/// Negotiates heart-beats from the client's `heart-beat: cx,cy` header (absent means `0,0`)
/// and the server's own `(sx, sy)` in milliseconds: `sx` is the shortest interval at which the
/// server can send, `sy` the interval at which it wants to hear from the client; 0 means none.
///
/// Per the specification the server sends every `max(sx, cy)` ms unless `sx` or `cy` is 0,
/// and expects the client every `max(cx, sy)` ms unless `cx` or `sy` is 0. Because the larger
/// value wins, the server's own figures are floors a client cannot push below.
pub fn negotiate_heart_beat(
    client: Option<&str>,
    server: (u32, u32),
) -> Result<HeartBeatAgreement, NegotiateError> {
    let (cx, cy) = match client {
        None => (0, 0),
        Some(value) => {
            let (cx, cy) = value.split_once(',').ok_or(NegotiateError::BadHeartBeat)?;
            (parse_millis(cx)?, parse_millis(cy)?)
        }
    };
    let (sx, sy) = server;
    Ok(HeartBeatAgreement {
        header_value: format!("{sx},{sy}"),
        send_every: interval(sx, cy),
        expect_every: interval(cx, sy),
    })
}

/// A millisecond count: ASCII digits, optionally surrounded by spaces (which some clients
/// write after the comma).
fn parse_millis(s: &str) -> Result<u32, NegotiateError> {
    let s = s.trim_matches(' ');
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NegotiateError::BadHeartBeat);
    }
    s.parse().map_err(|_| NegotiateError::BadHeartBeat)
}

fn interval(a: u32, b: u32) -> Option<Duration> {
    (a != 0 && b != 0).then(|| Duration::from_millis(u64::from(a.max(b))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_highest_supported_version() {
        assert_eq!(negotiate_version(Some("1.2,1.1,1.0")), Ok(Version::V1_2));
        assert_eq!(negotiate_version(Some("1.0,1.1")), Ok(Version::V1_1));
        assert_eq!(negotiate_version(Some("1.0")), Ok(Version::V1_0));
        assert_eq!(negotiate_version(Some(" 1.1 , 2.0 ")), Ok(Version::V1_1));
        assert_eq!(negotiate_version(None), Ok(Version::V1_0));
    }

    #[test]
    fn refuses_when_nothing_is_supported() {
        for offered in ["", "2.0", "1.3,0.9", "1.2.0", ","] {
            assert_eq!(negotiate_version(Some(offered)), Err(NegotiateError::NoCommonVersion), "{offered:?}");
        }
    }

    #[test]
    fn stompjs_defaults_against_a_server_wanting_heart_beats() {
        let hb = negotiate_heart_beat(Some("10000,10000"), (5000, 20000)).ok();
        assert_eq!(
            hb,
            Some(HeartBeatAgreement {
                header_value: "5000,20000".into(),
                send_every: Some(Duration::from_secs(10)),
                expect_every: Some(Duration::from_secs(20)),
            })
        );
    }

    #[test]
    fn zero_on_either_side_disables_that_direction() {
        let hb = negotiate_heart_beat(Some("0,10000"), (10000, 10000)).ok();
        assert_eq!(
            hb.as_ref().map(|h| (h.send_every, h.expect_every)),
            Some((Some(Duration::from_secs(10)), None))
        );
        let hb = negotiate_heart_beat(Some("10000,10000"), (0, 0)).ok();
        assert_eq!(hb.as_ref().map(|h| h.header_value.as_str()), Some("0,0"));
        assert_eq!(hb.map(|h| (h.send_every, h.expect_every)), Some((None, None)));
        let hb = negotiate_heart_beat(None, (10000, 10000)).ok();
        assert_eq!(hb.map(|h| (h.send_every, h.expect_every)), Some((None, None)));
    }

    #[test]
    fn tolerates_a_space_after_the_comma() {
        let hb = negotiate_heart_beat(Some("1000, 2000"), (1, 1)).ok();
        assert_eq!(
            hb.map(|h| (h.send_every, h.expect_every)),
            Some((Some(Duration::from_secs(2)), Some(Duration::from_secs(1))))
        );
    }

    #[test]
    fn refuses_malformed_heart_beats() {
        for bad in ["", "10000", "10000,", ",10000", "a,b", "-1,0", "1,2,3", "+1,0", "1.5,0", "4294967296,0"]
        {
            assert_eq!(negotiate_heart_beat(Some(bad), (0, 0)), Err(NegotiateError::BadHeartBeat), "{bad:?}");
        }
    }
}
