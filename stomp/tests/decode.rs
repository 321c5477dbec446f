//! Decoding the frames stompjs sends, and refusing what a server must not accept.

mod common;

use common::{decode, decode_chunks};
use weatherwise_stomp::{
    Command, DecodeError, Decoder, Event, Frame, Limits, Version, encode, negotiate_heart_beat,
    negotiate_version,
};

fn single_frame(input: &[u8]) -> Frame {
    let outcome = decode(input);
    assert_eq!(outcome.error, None);
    let frames = outcome.frames();
    assert_eq!(frames.len(), 1, "{:?}", outcome.events);
    frames.into_iter().next().expect("one frame")
}

#[test]
fn stompjs_connect_takes_headers_literally() {
    let frame = single_frame(
        b"CONNECT\naccept-version:1.2,1.1,1.0\nheart-beat:10000,10000\n\
          Authorization:Bearer eyJhbGciOi.e30:sig\\t\n\n\0",
    );
    assert_eq!(frame.command, Command::Connect);
    assert_eq!(frame.header("Authorization"), Some("Bearer eyJhbGciOi.e30:sig\\t"));
    assert_eq!(frame.header("host"), None);
    assert_eq!(negotiate_version(frame.header("accept-version")), Ok(Version::V1_2));
    let hb = negotiate_heart_beat(frame.header("heart-beat"), (10000, 10000)).ok();
    assert_eq!(hb.map(|h| h.header_value), Some("10000,10000".to_owned()));
}

#[test]
fn stompjs_subscribe_send_and_disconnect() {
    let input = b"SUBSCRIBE\nid:sub-0\ndestination:/topic/room\\c42\n\n\0\
                  SEND\ndestination:/app/chat\ncontent-length:5\n\nhello\0\
                  DISCONNECT\nreceipt:close-2\n\n\0";
    let frames = decode(input).frames();
    assert_eq!(
        frames,
        [
            Frame::new(Command::Subscribe)
                .with_header("id", "sub-0")
                .with_header("destination", "/topic/room:42"),
            Frame::new(Command::Send)
                .with_header("destination", "/app/chat")
                .with_header("content-length", "5")
                .with_body("hello"),
            Frame::new(Command::Disconnect).with_header("receipt", "close-2"),
        ]
    );
}

#[test]
fn content_length_body_may_contain_nul() {
    let frame = single_frame(b"SEND\ndestination:/app/chat\ncontent-length:5\n\na\0b\0c\0");
    assert_eq!(&frame.body[..], b"a\0b\0c");
}

#[test]
fn body_without_content_length_ends_at_the_first_nul() {
    let outcome = decode(b"SEND\ndestination:/a\n\nhi\0SEND\ndestination:/b\n\n\0");
    let frames = outcome.frames();
    assert_eq!(frames.len(), 2);
    assert_eq!(&frames[0].body[..], b"hi");
    assert!(frames[1].body.is_empty());
}

#[test]
fn crlf_line_endings() {
    let frame = single_frame(b"SUBSCRIBE\r\nid:sub-0\r\ndestination:/topic/a\r\n\r\n\0");
    assert_eq!(frame.headers, [("id".into(), "sub-0".into()), ("destination".into(), "/topic/a".into())]);
}

#[test]
fn repeated_header_first_wins() {
    let frame = single_frame(b"SEND\ndestination:/first\ndestination:/second\n\n\0");
    assert_eq!(frame.header("destination"), Some("/first"));
    assert_eq!(frame.headers.len(), 2);
}

#[test]
fn repeated_content_length_first_wins() {
    let frame = single_frame(b"SEND\ncontent-length:2\ncontent-length:bogus\n\nab\0");
    assert_eq!(&frame.body[..], b"ab");
}

#[test]
fn escapes_in_names_and_values_are_decoded() {
    let frame = single_frame(b"MESSAGE\na\\cb:x\\\\y\\nz\\r\n\n\0");
    assert_eq!(frame.header("a:b"), Some("x\\y\nz\r"));
    assert_eq!(frame.header("empty"), None);
}

#[test]
fn empty_values_and_colons_in_values_are_accepted() {
    let frame = single_frame(b"SEND\nempty:\ndestination:/a:b\n\n\0");
    assert_eq!(frame.header("empty"), Some(""));
    assert_eq!(frame.header("destination"), Some("/a:b"));
}

#[test]
fn heartbeats_between_frames() {
    let outcome = decode(b"\n\r\nSEND\n\nx\0\n\nSEND\n\ny\0\r\n");
    let kinds: Vec<&str> = outcome
        .events
        .iter()
        .map(|e| match e {
            Event::Heartbeat => "hb",
            Event::Frame(_) => "frame",
        })
        .collect();
    assert_eq!(kinds, ["hb", "hb", "frame", "hb", "hb", "frame", "hb"]);
}

#[test]
fn carriage_return_split_from_its_line_feed_is_one_heartbeat() {
    let mut decoder = Decoder::default();
    assert_eq!(decoder.push(b"\r"), Ok(()));
    assert_eq!(decoder.next_event(), Ok(None));
    assert_eq!(decoder.push(b"\n"), Ok(()));
    assert_eq!(decoder.next_event(), Ok(Some(Event::Heartbeat)));
    assert_eq!(decoder.next_event(), Ok(None));
    assert!(decoder.is_between_frames());
}

#[test]
fn frame_split_into_single_bytes() {
    let input = b"SEND\r\ndestination:/app/chat\r\ncontent-length:3\r\n\r\na\0b\0\nSEND\n\nxyz\0";
    let outcome = decode_chunks(Limits::default(), input.chunks(1));
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.heartbeats(), 1);
    let frames = outcome.frames();
    assert_eq!(frames.len(), 2);
    assert_eq!(&frames[0].body[..], b"a\0b");
    assert_eq!(&frames[1].body[..], b"xyz");
}

#[test]
fn largest_frame_in_single_bytes_is_decoded() {
    // A guard against rescanning: quadratic work would make this take minutes.
    let limits = Limits::default();
    let mut input = b"SEND\n".to_vec();
    for i in 0..limits.max_headers {
        input.extend_from_slice(format!("h{i}:").as_bytes());
        input.resize(input.len() + 1550, b'v');
        input.push(b'\n');
    }
    input.push(b'\n');
    input.resize(limits.max_frame_bytes - 1, b'b');
    input.push(0);
    let outcome = decode_chunks(limits, input.chunks(1));
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.frames().len(), 1);
}

#[test]
fn partial_frame_is_reported() {
    let mut decoder = Decoder::default();
    assert_eq!(decoder.push(b"SEND\ndestination:/a\n\nhal"), Ok(()));
    assert_eq!(decoder.next_event(), Ok(None));
    assert!(!decoder.is_between_frames());
}

// One test per error: the input that provokes it, pushed whole and byte by byte.

fn assert_refused(limits: Limits, input: &[u8], expected: DecodeError) {
    assert_eq!(decode_chunks(limits, [input]).error, Some(expected.clone()), "whole");
    assert_eq!(decode_chunks(limits, input.chunks(1)).error, Some(expected), "bytewise");
}

#[test]
fn frame_too_large() {
    let limits = Limits { max_frame_bytes: 100, max_body_bytes: 1000, ..Limits::default() };
    let expected = DecodeError::FrameTooLarge { limit: 100 };
    let mut no_length = b"SEND\n\n".to_vec();
    no_length.resize(101, b'x');
    assert_refused(limits, &no_length, expected.clone());
    // With a content-length the frame is refused from its headers, before the body arrives.
    assert_refused(limits, b"SEND\ncontent-length:90\n\n", expected.clone());
    // Several frames in one message count together.
    let small = b"SEND\n\n0123456789\0".repeat(7);
    assert_eq!(decode_chunks(limits, [&small[..]]).error, Some(expected));
    assert_eq!(decode_chunks(limits, small.chunks(17)).error, None);
}

#[test]
fn too_many_headers() {
    let limits = Limits { max_headers: 2, ..Limits::default() };
    assert_refused(limits, b"SEND\na:1\na:2\na:3\n\n\0", DecodeError::TooManyHeaders { limit: 2 });
    assert_eq!(decode_chunks(limits, [&b"SEND\na:1\na:2\n\n\0"[..]]).error, None);
}

#[test]
fn header_too_long() {
    let limits = Limits { max_header_bytes: 8, ..Limits::default() };
    let expected = DecodeError::HeaderTooLong { limit: 8 };
    assert_refused(limits, b"SEND\nabcd:1234\n\n\0", expected.clone());
    // Refused before the line ends.
    assert_refused(limits, b"SEND\nabcd:12345", expected);
    // Exactly at the limit, with or without a carriage return.
    assert_eq!(decode_chunks(limits, [&b"SEND\nabcd:123\r\n\n\0"[..]]).error, None);
}

#[test]
fn body_too_large() {
    let limits = Limits { max_body_bytes: 4, ..Limits::default() };
    let expected = DecodeError::BodyTooLarge { limit: 4 };
    assert_refused(limits, b"SEND\n\n12345\0", expected.clone());
    assert_refused(limits, b"SEND\n\n12345", expected.clone());
    assert_refused(limits, b"SEND\ncontent-length:5\n\n", expected.clone());
    assert_refused(limits, b"SEND\ncontent-length:99999999999999999999999\n\n", expected);
    assert_eq!(decode_chunks(limits, [&b"SEND\n\n1234\0"[..]]).error, None);
}

#[test]
fn bad_content_length() {
    for value in ["", "abc", "-1", "+1", " 1", "1 ", "0x1"] {
        let input = format!("SEND\ncontent-length:{value}\n\n\0");
        assert_refused(Limits::default(), input.as_bytes(), DecodeError::BadContentLength);
    }
}

#[test]
fn unknown_command() {
    for input in [&b"send\n\n\0"[..], b"SENDX\n\n\0", b"SEND \n\n\0", b"\rSEND\n\n\0", b"\r\r\n"] {
        assert_refused(Limits::default(), input, DecodeError::UnknownCommand);
    }
    // Refused before the line ends.
    assert_refused(Limits::default(), b"GET / HTTP/1.1", DecodeError::UnknownCommand);
}

#[test]
fn malformed_header() {
    for input in [&b"SEND\nno-colon\n\n\0"[..], b"SEND\n:no-name\n\n\0", b"SEND\na:b\rc\n\n\0"] {
        assert_refused(Limits::default(), input, DecodeError::MalformedHeader);
    }
}

#[test]
fn bad_escape() {
    for input in [&b"SEND\ndestination:/a\\tb\n\n\0"[..], b"SEND\nx:y\\\n\n\0", b"SEND\n\\x:y\n\n\0"] {
        assert_refused(Limits::default(), input, DecodeError::BadEscape);
    }
    // CONNECT takes backslashes literally.
    assert_eq!(decode(b"CONNECT\npasscode:a\\tb\\\n\n\0").error, None);
}

#[test]
fn invalid_utf8() {
    for input in [&b"SEND\ndestination:/\xff\n\n\0"[..], b"SEND\n\xc3:x\n\n\0", b"SEN\xc3\n\n\0"] {
        assert_refused(Limits::default(), input, DecodeError::InvalidUtf8);
    }
}

#[test]
fn unexpected_nul() {
    for input in [&b"SEND\ndestination:/a\0"[..], b"SEND\0", b"\0", b"SEND\nx:1\n\0\n\n"] {
        assert_refused(Limits::default(), input, DecodeError::UnexpectedNul);
    }
}

#[test]
fn missing_nul() {
    assert_refused(Limits::default(), b"SEND\ncontent-length:2\n\nabc\0", DecodeError::MissingNul);
}

#[test]
fn error_messages_are_short_and_readable() {
    let errors = [
        DecodeError::FrameTooLarge { limit: 65536 },
        DecodeError::TooManyHeaders { limit: 32 },
        DecodeError::HeaderTooLong { limit: 4096 },
        DecodeError::BodyTooLarge { limit: 16384 },
        DecodeError::BadContentLength,
        DecodeError::UnknownCommand,
        DecodeError::MalformedHeader,
        DecodeError::BadEscape,
        DecodeError::InvalidUtf8,
        DecodeError::UnexpectedNul,
        DecodeError::MissingNul,
    ];
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages[0], "frame larger than 65536 bytes");
    for m in &messages {
        assert!(m.len() <= 40 && !m.contains(['\n', '\r', ':']), "{m:?}");
    }
    let mut unique = messages.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), messages.len());
}

#[test]
fn error_frame_round_trip() {
    let error = DecodeError::UnknownCommand;
    let frame = Frame::new(Command::Error).with_header("message", error.to_string());
    assert_eq!(decode(&encode(&frame)).frames(), [frame]);
}
