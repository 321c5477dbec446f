// Run from stomp/fuzz (cargo-fuzz needs nightly; RUSTC_BOOTSTRAP lets stable stand in):
//   RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=/tmp/stomp-fuzz-target cargo fuzz run decode -- -max_total_time=120
//
// Input layout: one byte choosing the limits, then repeated (length byte, that many bytes),
// each run of bytes pushed as one WebSocket message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use weatherwise_stomp::{Decoder, Event, Frame, Limits, encode};

/// Tight limits, so that short inputs reach every limit check.
const TIGHT: Limits =
    Limits { max_frame_bytes: 256, max_headers: 4, max_header_bytes: 48, max_body_bytes: 96 };
/// Limits nothing re-encoded from a decoded frame can reach.
const ROOMY: Limits = Limits {
    max_frame_bytes: 1 << 20,
    max_headers: 1 << 10,
    max_header_bytes: 1 << 16,
    max_body_bytes: 1 << 19,
};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, mut rest)) = data.split_first() else {
        return;
    };
    let limits = if selector & 1 == 0 { Limits::default() } else { TIGHT };
    let mut decoder = Decoder::new(limits);
    while let Some((&len, tail)) = rest.split_first() {
        let (chunk, tail) = tail.split_at(usize::from(len).min(tail.len()));
        rest = tail;
        let pushed = decoder.push(chunk);
        assert!(decoder.buffered() <= limits.max_frame_bytes);
        if let Err(e) = pushed {
            assert_eq!(decoder.next_event(), Err(e));
            return;
        }
        loop {
            let next = decoder.next_event();
            assert!(decoder.buffered() <= limits.max_frame_bytes);
            match next {
                Ok(Some(Event::Frame(frame))) => assert_round_trips(&frame),
                Ok(Some(Event::Heartbeat)) => {}
                Ok(None) => break,
                Err(e) => {
                    // Errors are final.
                    assert_eq!(decoder.push(b"\n"), Err(e));
                    return;
                }
            }
        }
    }
});

/// A decoded frame, encoded and decoded again, is itself (plus the `content-length` header the
/// encoder adds to a non-empty body without one).
fn assert_round_trips(frame: &Frame) {
    let mut expected = frame.clone();
    if frame.header("content-length").is_none() && !frame.body.is_empty() {
        expected.headers.push(("content-length".into(), frame.body.len().to_string()));
    }
    let mut decoder = Decoder::new(ROOMY);
    assert_eq!(decoder.push(&encode(frame)), Ok(()));
    assert_eq!(decoder.next_event(), Ok(Some(Event::Frame(expected))));
    assert_eq!(decoder.next_event(), Ok(None));
    assert!(decoder.is_between_frames());
}
