//! Incremental, bounded decoding of a client's byte stream.

use std::mem;

use bytes::Bytes;

use crate::escape::unescape;
use crate::frame::{Command, Frame, Limits};

/// What the decoder found next in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete frame.
    Frame(Frame),
    /// One end-of-line (`\n` or `\r\n`) outside a frame. Each one is reported separately, so the
    /// count does not depend on how the input was split into messages.
    Heartbeat,
}

/// Why the client's input was refused. Every error ends the connection: the server sends an
/// ERROR frame with the display string as its `message` header and closes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A frame, or the unframed input buffered at once, exceeds [`Limits::max_frame_bytes`].
    #[error("frame larger than {limit} bytes")]
    FrameTooLarge { limit: usize },
    /// More header lines than [`Limits::max_headers`].
    #[error("more than {limit} headers")]
    TooManyHeaders { limit: usize },
    /// A header line longer than [`Limits::max_header_bytes`].
    #[error("header line longer than {limit} bytes")]
    HeaderTooLong { limit: usize },
    /// A body (or a `content-length`) over [`Limits::max_body_bytes`].
    #[error("body larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// A `content-length` that is not a decimal number.
    #[error("invalid content-length")]
    BadContentLength,
    /// The first line is not a STOMP command.
    #[error("unknown command")]
    UnknownCommand,
    /// A header line without a colon, with an empty name, or with a bare carriage return.
    #[error("malformed header line")]
    MalformedHeader,
    /// A backslash not starting one of `\r`, `\n`, `\c`, `\\`.
    #[error("invalid escape sequence in header")]
    BadEscape,
    /// The command or a header is not UTF-8.
    #[error("invalid UTF-8 in command or header")]
    InvalidUtf8,
    /// A NUL before the blank line that ends the headers.
    #[error("NUL before end of headers")]
    UnexpectedNul,
    /// The byte after a `content-length` body is not NUL.
    #[error("body not followed by NUL")]
    MissingNul,
}

/// Turns the bytes of WebSocket messages into [`Event`]s.
///
/// Feed each message with [`push`](Decoder::push), then call [`next_event`](Decoder::next_event)
/// until it returns `Ok(None)`. Frames may span messages and messages may hold several frames.
///
/// The decoder never holds more than [`Limits::max_frame_bytes`] unconsumed bytes
/// ([`buffered`](Decoder::buffered)) and never grows its buffer beyond that; when it has
/// consumed everything it releases a large buffer, so idle connections stay small. Each byte is
/// searched once, however small the pushes.
///
/// After an error the decoder is finished: every later call returns the same error.
#[derive(Debug)]
pub struct Decoder {
    limits: Limits,
    buf: Vec<u8>,
    /// Start of the bytes not yet returned as events; while a frame is read, its first byte.
    pos: usize,
    /// Offset from `pos` up to which the current delimiter has been searched for.
    scan: usize,
    state: State,
}

#[derive(Debug)]
enum State {
    /// Between frames, where end-of-lines are heart-beats.
    Idle,
    /// Reading the command line, which starts at `pos`.
    Command,
    /// Reading header lines.
    Headers(Head),
    /// Reading the body, which starts `body_start` bytes after `pos`.
    Body {
        head: Head,
        body_start: usize,
        content_length: Option<usize>,
    },
    Failed(DecodeError),
}

#[derive(Debug)]
struct Head {
    command: Command,
    headers: Vec<(String, String)>,
    /// Offset from `pos` of the line being read.
    line_start: usize,
}

/// A buffer with more capacity than this is released once empty.
const RETAINED_CAPACITY: usize = 8 * 1024;
/// Smallest allocation, so that a frame arriving in small pieces is not reallocated per piece.
const MIN_CAPACITY: usize = 512;

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(Limits::default())
    }
}

impl Decoder {
    pub fn new(limits: Limits) -> Self {
        Decoder { limits, buf: Vec::new(), pos: 0, scan: 0, state: State::Idle }
    }

    /// Appends the bytes of one WebSocket message (text or binary).
    ///
    /// Refused with [`DecodeError::FrameTooLarge`] if the bytes not yet consumed by
    /// [`next_event`](Decoder::next_event) would exceed [`Limits::max_frame_bytes`]: with the
    /// events drained after every push, that is exactly a frame over the limit (or a single
    /// message packing frames that together exceed it).
    pub fn push(&mut self, data: &[u8]) -> Result<(), DecodeError> {
        if let State::Failed(e) = &self.state {
            return Err(e.clone());
        }
        let max = self.limits.max_frame_bytes;
        if data.len() > max.saturating_sub(self.buffered()) {
            return Err(self.fail(DecodeError::FrameTooLarge { limit: max }));
        }
        if data.is_empty() {
            return Ok(());
        }
        // Consumed bytes are dropped only here, once per push, so a run of frames in one message
        // is not moved once per frame; a partial frame is moved at most once.
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let needed = self.buf.len() + data.len();
        if needed > self.buf.capacity() {
            let target = self.buf.capacity().saturating_mul(2).max(MIN_CAPACITY).min(max).max(needed);
            self.buf.reserve_exact(target - self.buf.len());
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// The next complete event, or `Ok(None)` if more input is needed.
    pub fn next_event(&mut self) -> Result<Option<Event>, DecodeError> {
        self.step().map_err(|e| self.fail(e))
    }

    /// Bytes pushed but not yet returned as events; never more than
    /// [`Limits::max_frame_bytes`].
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether the decoder is between frames (no partial frame pending). A connection that
    /// closes while this is false closed mid-frame.
    pub fn is_between_frames(&self) -> bool {
        matches!(self.state, State::Idle) && self.buffered() == 0
    }

    fn fail(&mut self, error: DecodeError) -> DecodeError {
        self.state = State::Failed(error.clone());
        self.buf = Vec::new();
        self.pos = 0;
        error
    }

    fn step(&mut self) -> Result<Option<Event>, DecodeError> {
        let limits = self.limits;
        loop {
            let input = &self.buf[self.pos..];
            match &mut self.state {
                State::Failed(e) => return Err(e.clone()),
                State::Idle => {
                    let eol = match input {
                        [] | [b'\r'] => return Ok(None),
                        [b'\n', ..] => 1,
                        [b'\r', b'\n', ..] => 2,
                        _ => {
                            self.state = State::Command;
                            self.scan = 0;
                            continue;
                        }
                    };
                    self.consume(eol);
                    return Ok(Some(Event::Heartbeat));
                }
                State::Command => {
                    let Some(end) = find_line_end(input, &mut self.scan)? else {
                        // No command is longer than `Command::MAX_LEN`, plus a carriage return.
                        if input.len() > Command::MAX_LEN + 1 {
                            return Err(DecodeError::UnknownCommand);
                        }
                        return Ok(None);
                    };
                    let line = strip_cr(&input[..end]);
                    let command = std::str::from_utf8(line).map_err(|_| DecodeError::InvalidUtf8)?.parse()?;
                    self.state = State::Headers(Head { command, headers: Vec::new(), line_start: end + 1 });
                }
                State::Headers(head) => {
                    let Some(end) = find_line_end(input, &mut self.scan)? else {
                        if input.len() - head.line_start > limits.max_header_bytes.saturating_add(1) {
                            return Err(DecodeError::HeaderTooLong { limit: limits.max_header_bytes });
                        }
                        return Ok(None);
                    };
                    let line = strip_cr(&input[head.line_start..end]);
                    head.line_start = end + 1;
                    if !line.is_empty() {
                        if line.len() > limits.max_header_bytes {
                            return Err(DecodeError::HeaderTooLong { limit: limits.max_header_bytes });
                        }
                        if head.headers.len() >= limits.max_headers {
                            return Err(DecodeError::TooManyHeaders { limit: limits.max_headers });
                        }
                        head.headers.push(parse_header(line, head.command.escapes_headers())?);
                        continue;
                    }
                    let body_start = end + 1;
                    let content_length = content_length(&head.headers, body_start, &limits)?;
                    let head = Head { headers: mem::take(&mut head.headers), ..*head };
                    self.state = State::Body { head, body_start, content_length };
                }
                State::Body { head, body_start, content_length } => {
                    let body_start = *body_start;
                    let body_end = match *content_length {
                        Some(len) => {
                            let body_end = body_start + len;
                            match input.get(body_end) {
                                None => return Ok(None),
                                Some(0) => body_end,
                                Some(_) => return Err(DecodeError::MissingNul),
                            }
                        }
                        None => {
                            let from = self.scan.max(body_start);
                            let found = input[from..].iter().position(|&b| b == 0);
                            self.scan = found.map_or(input.len(), |i| from + i);
                            if self.scan - body_start > limits.max_body_bytes {
                                return Err(DecodeError::BodyTooLarge { limit: limits.max_body_bytes });
                            }
                            if found.is_none() {
                                return Ok(None);
                            }
                            self.scan
                        }
                    };
                    // The body is copied out rather than shared with the input buffer, so a kept
                    // message cannot pin a whole frame-sized buffer.
                    let frame = Frame {
                        command: head.command,
                        headers: mem::take(&mut head.headers),
                        body: Bytes::copy_from_slice(&input[body_start..body_end]),
                    };
                    self.state = State::Idle;
                    self.consume(body_end + 1);
                    return Ok(Some(Event::Frame(frame)));
                }
            }
        }
    }

    /// Marks `n` more bytes as returned in an event.
    fn consume(&mut self, n: usize) {
        self.pos += n;
        self.scan = 0;
        if self.pos == self.buf.len() {
            self.pos = 0;
            if self.buf.capacity() > RETAINED_CAPACITY {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
        }
    }
}

/// Searches `input` for the end of the current line from `*scan` on, advancing `*scan` past
/// everything searched so it is never searched again. Returns the line feed's offset. A NUL
/// here means the frame ended inside its head.
fn find_line_end(input: &[u8], scan: &mut usize) -> Result<Option<usize>, DecodeError> {
    match input[*scan..].iter().position(|&b| b == b'\n' || b == 0) {
        None => {
            *scan = input.len();
            Ok(None)
        }
        Some(i) => {
            let end = *scan + i;
            *scan = end + 1;
            if input[end] == 0 { Err(DecodeError::UnexpectedNul) } else { Ok(Some(end)) }
        }
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Parses `name:value`, split at the first colon. A colon inside the value is tolerated even
/// where it should have been escaped, since it is unambiguous; a carriage return is not, since
/// it would be lost or mangled when the header is written again.
fn parse_header(line: &[u8], escaped: bool) -> Result<(String, String), DecodeError> {
    if line.contains(&b'\r') {
        return Err(DecodeError::MalformedHeader);
    }
    let line = std::str::from_utf8(line).map_err(|_| DecodeError::InvalidUtf8)?;
    let (name, value) = line.split_once(':').ok_or(DecodeError::MalformedHeader)?;
    if name.is_empty() {
        return Err(DecodeError::MalformedHeader);
    }
    if escaped {
        Ok((unescape(name)?.into_owned(), unescape(value)?.into_owned()))
    } else {
        Ok((name.to_owned(), value.to_owned()))
    }
}

/// The body length announced by the first `content-length` header, checked against the limits
/// before any of the body is waited for.
fn content_length(
    headers: &[(String, String)],
    body_start: usize,
    limits: &Limits,
) -> Result<Option<usize>, DecodeError> {
    let Some((_, value)) = headers.iter().find(|(name, _)| name == "content-length") else {
        return Ok(None);
    };
    let len = parse_content_length(value).ok_or(DecodeError::BadContentLength)?;
    if len > limits.max_body_bytes {
        return Err(DecodeError::BodyTooLarge { limit: limits.max_body_bytes });
    }
    if body_start.saturating_add(len).saturating_add(1) > limits.max_frame_bytes {
        return Err(DecodeError::FrameTooLarge { limit: limits.max_frame_bytes });
    }
    Ok(Some(len))
}

/// A `content-length` value: one or more ASCII digits, nothing else. A number too large for
/// `usize` saturates, so it is refused as too large rather than as malformed.
pub(crate) fn parse_content_length(value: &str) -> Option<usize> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(value.bytes().fold(0usize, |n, b| n.saturating_mul(10).saturating_add(usize::from(b - b'0'))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_capacity_never_exceeds_the_frame_limit() {
        let limits = Limits { max_frame_bytes: 3000, ..Limits::default() };
        let mut decoder = Decoder::new(limits);
        let mut frame = b"SEND\ndestination:/q\n\n".to_vec();
        frame.resize(2990, b'x');
        frame.push(0);
        for chunk in frame.chunks(7) {
            decoder.push(chunk).ok();
            assert!(decoder.buf.capacity() <= limits.max_frame_bytes);
            while let Ok(Some(_)) = decoder.next_event() {}
        }
        assert!(decoder.is_between_frames());
    }

    #[test]
    fn large_buffer_is_released_once_drained() {
        let mut decoder = Decoder::default();
        let mut frame = b"SEND\n\n".to_vec();
        frame.resize(12_000, b'x');
        frame.push(0);
        assert_eq!(decoder.push(&frame), Ok(()));
        assert!(matches!(decoder.next_event(), Ok(Some(Event::Frame(_)))));
        assert_eq!(decoder.buf.capacity(), 0);
    }

    #[test]
    fn content_length_values() {
        assert_eq!(parse_content_length("0"), Some(0));
        assert_eq!(parse_content_length("0012"), Some(12));
        assert_eq!(parse_content_length("99999999999999999999999999"), Some(usize::MAX));
        for bad in ["", "+1", "-1", " 1", "1 ", "0x10", "1.0", "١"] {
            assert_eq!(parse_content_length(bad), None, "{bad:?}");
        }
    }
}
