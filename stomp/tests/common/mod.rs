//! Helpers shared by the integration tests.

#![allow(dead_code)]

use weatherwise_stomp::{DecodeError, Decoder, Event, Frame, Limits};

/// What decoding a whole input produced: every event up to the first error, and that error.
#[derive(Debug, Default)]
pub struct Outcome {
    pub events: Vec<Event>,
    pub error: Option<DecodeError>,
}

impl Outcome {
    pub fn frames(&self) -> Vec<Frame> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Frame(f) => Some(f.clone()),
                Event::Heartbeat => None,
            })
            .collect()
    }

    pub fn heartbeats(&self) -> usize {
        self.events.iter().filter(|e| matches!(e, Event::Heartbeat)).count()
    }
}

/// Pushes each chunk and drains the events after it, as a server does per WebSocket message,
/// checking after every call that the decoder holds no more than the frame limit.
pub fn decode_chunks<'a>(limits: Limits, chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut decoder = Decoder::new(limits);
    let mut outcome = Outcome::default();
    for chunk in chunks {
        let pushed = decoder.push(chunk);
        assert!(decoder.buffered() <= limits.max_frame_bytes, "buffered {} bytes", decoder.buffered());
        if let Err(e) = pushed {
            outcome.error = Some(e);
            break;
        }
        loop {
            let next = decoder.next_event();
            assert!(decoder.buffered() <= limits.max_frame_bytes, "buffered {} bytes", decoder.buffered());
            match next {
                Ok(Some(event)) => outcome.events.push(event),
                Ok(None) => break,
                Err(e) => {
                    outcome.error = Some(e);
                    break;
                }
            }
        }
        if outcome.error.is_some() {
            break;
        }
    }
    if let Some(e) = &outcome.error {
        // An error is final.
        assert_eq!(decoder.next_event().as_ref(), Err(e));
        assert_eq!(decoder.push(b"\n").as_ref(), Err(e));
        assert_eq!(decoder.buffered(), 0);
    }
    outcome
}

/// Decodes `input` pushed as one message.
pub fn decode(input: &[u8]) -> Outcome {
    decode_chunks(Limits::default(), [input])
}

/// Splits `input` before each of the given offsets (taken modulo its length + 1).
pub fn split_at_points(input: &[u8], points: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut chunks = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts.into_iter().chain([input.len()]) {
        chunks.push(input[start..cut].to_vec());
        start = cut;
    }
    chunks
}

/// What decoding the encoding of `frame` gives back: the frame itself, plus the
/// `content-length` header the encoder appends to a non-empty body that has none.
pub fn as_decoded(frame: &Frame) -> Frame {
    let mut expected = frame.clone();
    if frame.header("content-length").is_none() && !frame.body.is_empty() {
        expected.headers.push(("content-length".into(), frame.body.len().to_string()));
    }
    expected
}
