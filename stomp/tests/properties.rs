//! Properties of the codec over arbitrary frames, arbitrary bytes and arbitrary fragmentation.

mod common;

use common::{as_decoded, decode_chunks, split_at_points};
use proptest::prelude::*;
use weatherwise_stomp::{Command, DecodeError, Frame, Limits, encode};

/// Limits far above anything generated, for properties about content rather than bounds.
const ROOMY: Limits = Limits {
    max_frame_bytes: 1 << 20,
    max_headers: 1 << 10,
    max_header_bytes: 1 << 16,
    max_body_bytes: 1 << 19,
};

/// Characters that stress the header syntax, plus any other character but NUL.
fn header_char() -> impl Strategy<Value = char> {
    prop_oneof![
        Just(':'),
        Just('\n'),
        Just('\r'),
        Just('\\'),
        Just('c'),
        Just('n'),
        Just('é'),
        Just('語'),
        any::<char>().prop_filter("NUL cannot be carried in a header", |c| *c != '\0'),
    ]
}

fn header_text(min: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(header_char(), min..12).prop_map(String::from_iter)
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![Just(0u8), Just(b'\n'), any::<u8>()], 0..200)
}

/// Any frame whose headers are escaped, i.e. anything but CONNECT and CONNECTED.
fn escaped_frame() -> impl Strategy<Value = Frame> {
    let commands: Vec<Command> = Command::ALL.into_iter().filter(|c| c.escapes_headers()).collect();
    let header = (header_text(1), header_text(0))
        .prop_filter("content-length is the encoder's", |(n, _)| n != "content-length");
    (prop::sample::select(commands), prop::collection::vec(header, 0..8), body())
        .prop_map(|(command, headers, body)| Frame { command, headers, body: body.into() })
}

/// A CONNECT or CONNECTED frame, whose headers are literal and so cannot hold line endings (or,
/// in names, colons).
fn literal_frame() -> impl Strategy<Value = Frame> {
    let text = |min| header_text(min).prop_map(|s| s.replace(['\r', '\n'], "_"));
    let header = (text(1).prop_map(|n| n.replace(':', "_")), text(0))
        .prop_filter("content-length is the encoder's", |(n, _)| n != "content-length");
    (
        prop::sample::select(vec![Command::Connect, Command::Connected]),
        prop::collection::vec(header, 0..8),
        body(),
    )
        .prop_map(|(command, headers, body)| Frame { command, headers, body: body.into() })
}

fn eol() -> impl Strategy<Value = &'static [u8]> {
    prop_oneof![Just(&b"\n"[..]), Just(&b"\r\n"[..])]
}

/// Encodes the frames with the given end-of-lines before each, and returns the stream and
/// the number of heart-beats in it.
fn stream(frames: &[(Vec<&[u8]>, Frame)], trailing: &[&[u8]]) -> (Vec<u8>, usize) {
    let mut bytes = Vec::new();
    let mut heartbeats = trailing.len();
    for (eols, frame) in frames {
        heartbeats += eols.len();
        bytes.extend(eols.iter().copied().flatten());
        bytes.extend_from_slice(&encode(frame));
    }
    bytes.extend(trailing.iter().copied().flatten());
    (bytes, heartbeats)
}

fn check_round_trip(
    frames: Vec<(Vec<&[u8]>, Frame)>,
    trailing: Vec<&[u8]>,
    points: Vec<usize>,
) -> Result<(), TestCaseError> {
    let (bytes, heartbeats) = stream(&frames, &trailing);
    let chunks = split_at_points(&bytes, &points);
    let outcome = decode_chunks(ROOMY, chunks.iter().map(Vec::as_slice));
    prop_assert_eq!(outcome.error.as_ref(), None);
    let expected: Vec<Frame> = frames.iter().map(|(_, f)| as_decoded(f)).collect();
    prop_assert_eq!(outcome.frames(), expected);
    prop_assert_eq!(outcome.heartbeats(), heartbeats);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Encoding then decoding, however the bytes are split into messages and whatever
    /// heart-beats come between frames, gives back the frames in order.
    #[test]
    fn encoded_frames_decode_to_themselves(
        frames in prop::collection::vec((prop::collection::vec(eol(), 0..3), escaped_frame()), 0..6),
        trailing in prop::collection::vec(eol(), 0..3),
        points in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        check_round_trip(frames, trailing, points)?;
    }

    /// The same for CONNECT and CONNECTED, within what their literal headers can carry.
    #[test]
    fn literal_frames_decode_to_themselves(
        frames in prop::collection::vec((prop::collection::vec(eol(), 0..3), literal_frame()), 0..4),
        points in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        check_round_trip(frames, Vec::new(), points)?;
    }

    /// Escaping is reversible for any text.
    #[test]
    fn escape_round_trips(s in "\\PC*", t in header_text(0)) {
        for s in [s, t] {
            let escaped = weatherwise_stomp::escape(&s);
            prop_assert!(!escaped.contains(['\n', '\r', ':']));
            let unescaped = weatherwise_stomp::unescape(&escaped);
            prop_assert_eq!(unescaped.as_deref(), Ok(s.as_str()));
        }
    }

    /// Arbitrary bytes in arbitrary pieces, under arbitrary limits: no panic, never more than
    /// `max_frame_bytes` buffered (checked after every call by `decode_chunks`), errors are
    /// final, and whatever is decoded re-encodes to bytes that decode to the same frame.
    #[test]
    fn arbitrary_input_is_bounded_and_consistent(
        pieces in prop::collection::vec(stomp_ish_piece(), 0..40),
        points in prop::collection::vec(any::<usize>(), 0..40),
        limits in limits(),
    ) {
        let bytes: Vec<u8> = pieces.concat();
        let chunks = split_at_points(&bytes, &points);
        let outcome = decode_chunks(limits, chunks.iter().map(Vec::as_slice));
        for frame in outcome.frames() {
            let again = decode_chunks(ROOMY, [&encode(&frame)[..]]);
            prop_assert_eq!(&again.error, &None);
            prop_assert_eq!(again.frames(), vec![as_decoded(&frame)]);
        }
    }

    /// A frame over exactly one limit is refused with that limit's error, however it arrives.
    #[test]
    fn frame_over_a_limit_is_refused_with_its_error(
        case in over_limit_case(),
        points in prop::collection::vec(any::<usize>(), 0..30),
    ) {
        let (limits, input, expected) = case;
        let chunks = split_at_points(&input, &points);
        let outcome = decode_chunks(limits, chunks.iter().map(Vec::as_slice));
        prop_assert_eq!(outcome.events, vec![]);
        prop_assert_eq!(outcome.error, Some(expected));
    }
}

/// Fragments of plausible and implausible frames, so that random input reaches deep states.
fn stomp_ish_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"SEND\n".to_vec()),
        Just(b"CONNECT\n".to_vec()),
        Just(b"MESSAGE\r\n".to_vec()),
        Just(b"destination:/a\\cb\n".to_vec()),
        Just(b"content-length:3\n".to_vec()),
        Just(b"content-length:0\n".to_vec()),
        Just(b"x:\\t\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\0".to_vec()),
        Just(b":".to_vec()),
        Just(b"\\".to_vec()),
        prop::collection::vec(any::<u8>(), 0..12),
    ]
}

fn limits() -> impl Strategy<Value = Limits> {
    (0usize..600, 0usize..10, 0usize..80, 0usize..300).prop_map(
        |(max_frame_bytes, max_headers, max_header_bytes, max_body_bytes)| Limits {
            max_frame_bytes,
            max_headers,
            max_header_bytes,
            max_body_bytes,
        },
    )
}

/// Limits, a frame breaking exactly one of them, and the error that must name it.
fn over_limit_case() -> impl Strategy<Value = (Limits, Vec<u8>, DecodeError)> {
    let base = (32usize..200, 1usize..10, 0usize..500);
    prop_oneof![
        // Body over the limit, announced or not.
        (base.clone(), 1usize..50, any::<bool>()).prop_map(|((h, n, b), extra, announce)| {
            let limits = Limits { max_header_bytes: h, max_headers: n, max_body_bytes: b, ..ROOMY };
            let len = b + extra;
            let length_header = if announce { format!("content-length:{len}\n") } else { String::new() };
            let mut input = format!("SEND\n{length_header}\n").into_bytes();
            input.resize(input.len() + len, b'x');
            input.push(0);
            (limits, input, DecodeError::BodyTooLarge { limit: b })
        }),
        // A header line over the limit.
        (base.clone(), 1usize..50, any::<bool>()).prop_map(|((h, n, b), extra, crlf)| {
            let limits = Limits { max_header_bytes: h, max_headers: n, max_body_bytes: b, ..ROOMY };
            let mut input = b"SEND\nx:".to_vec();
            input.resize(input.len() + h - 2 + extra, b'v');
            input.extend_from_slice(if crlf { b"\r\n\n\0" } else { b"\n\n\0" });
            (limits, input, DecodeError::HeaderTooLong { limit: h })
        }),
        // Too many headers.
        (base.clone(), 1usize..10).prop_map(|((h, n, b), extra)| {
            let limits = Limits { max_header_bytes: h, max_headers: n, max_body_bytes: b, ..ROOMY };
            let mut input = b"SEND\n".to_vec();
            for i in 0..n + extra {
                input.extend_from_slice(format!("h:{i}\n").as_bytes());
            }
            input.extend_from_slice(b"\n\0");
            (limits, input, DecodeError::TooManyHeaders { limit: n })
        }),
        // A whole frame over the limit, with its body within the body limit, announced or not.
        (32usize..2000, 1usize..50, any::<bool>()).prop_map(|(f, extra, announce)| {
            let limits = Limits { max_frame_bytes: f, ..ROOMY };
            let len = f + extra;
            let length_header = if announce { format!("content-length:{len}\n") } else { String::new() };
            let mut input = format!("SEND\n{length_header}\n").into_bytes();
            input.resize(input.len() + len, b'x');
            input.push(0);
            (limits, input, DecodeError::FrameTooLarge { limit: f })
        }),
    ]
}
