//! Writing frames.

use bytes::Bytes;

use crate::decode::parse_content_length;
use crate::escape::{escape, escape_literal};
use crate::frame::Frame;

/// A heart-beat: a bare end-of-line, sent between frames when nothing else has been sent for
/// the negotiated interval.
pub const HEARTBEAT: &[u8] = b"\n";

/// Serialises a frame: command line, header lines, blank line, body, NUL.
///
/// Header names and values are escaped (see [`escape`](crate::escape)), except in CONNECT and
/// CONNECTED where the peer reads them literally; there only line endings (and a colon in a
/// name), which cannot be represented, are escaped so the frame stays well formed.
///
/// The body is always delimited by `content-length`, so it may contain NUL bytes: a non-empty
/// body without the header gets one appended. The first `content-length` header, if present, is
/// written with the body's actual length, so a stale or forged value can never make the peer
/// split the stream somewhere else (a value already equal to the length is kept verbatim, so a
/// decoded frame re-encodes byte for byte).
///
/// Header names must be non-empty and must not contain NUL, which STOMP cannot carry; the
/// [`Decoder`](crate::Decoder) never produces such headers.
pub fn encode(frame: &Frame) -> Bytes {
    let escapes = frame.command.escapes_headers();
    let command = frame.command.as_str();
    let headers_len: usize = frame.headers.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut out = Vec::with_capacity(command.len() + headers_len + frame.body.len() + 40);

    out.extend_from_slice(command.as_bytes());
    out.push(b'\n');
    let mut has_content_length = false;
    for (name, value) in &frame.headers {
        let (name_out, value_out) = if escapes {
            (escape(name), escape(value))
        } else {
            (escape_literal(name, true), escape_literal(value, false))
        };
        out.extend_from_slice(name_out.as_bytes());
        out.push(b':');
        if name == "content-length" && !has_content_length {
            has_content_length = true;
            if parse_content_length(value) == Some(frame.body.len()) {
                out.extend_from_slice(value_out.as_bytes());
            } else {
                out.extend_from_slice(frame.body.len().to_string().as_bytes());
            }
        } else {
            out.extend_from_slice(value_out.as_bytes());
        }
        out.push(b'\n');
    }
    if !has_content_length && !frame.body.is_empty() {
        out.extend_from_slice(format!("content-length:{}\n", frame.body.len()).as_bytes());
    }
    out.push(b'\n');
    out.extend_from_slice(&frame.body);
    out.push(0);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Command;

    #[test]
    fn writes_command_headers_blank_line_body_and_nul() {
        let frame = Frame::new(Command::Message)
            .with_header("subscription", "sub-0")
            .with_header("message-id", "7")
            .with_header("destination", "/topic/room:1")
            .with_body("hi");
        assert_eq!(
            &encode(&frame)[..],
            b"MESSAGE\nsubscription:sub-0\nmessage-id:7\ndestination:/topic/room\\c1\ncontent-length:2\n\nhi\0"
        );
    }

    #[test]
    fn empty_body_gets_no_content_length() {
        let frame = Frame::new(Command::Receipt).with_header("receipt-id", "close-1");
        assert_eq!(&encode(&frame)[..], b"RECEIPT\nreceipt-id:close-1\n\n\0");
    }

    #[test]
    fn connected_headers_are_literal() {
        let frame = Frame::new(Command::Connected)
            .with_header("version", "1.2")
            .with_header("heart-beat", "10000,10000")
            .with_header("server", "weatherwise:1\\x");
        assert_eq!(
            &encode(&frame)[..],
            b"CONNECTED\nversion:1.2\nheart-beat:10000,10000\nserver:weatherwise:1\\x\n\n\0"
        );
    }

    #[test]
    fn connected_cannot_be_split_by_a_line_feed() {
        let frame = Frame::new(Command::Connected).with_header("x\n", "a\r\nforged:1");
        assert_eq!(&encode(&frame)[..], b"CONNECTED\nx\\n:a\\r\\nforged:1\n\n\0");
    }

    #[test]
    fn first_content_length_is_corrected_to_the_body_length() {
        let frame = Frame::new(Command::Message)
            .with_header("content-length", "1")
            .with_header("content-length", "99")
            .with_body("abc");
        assert_eq!(&encode(&frame)[..], b"MESSAGE\ncontent-length:3\ncontent-length:99\n\nabc\0");

        let verbatim = Frame::new(Command::Message).with_header("content-length", "003").with_body("abc");
        assert_eq!(&encode(&verbatim)[..], b"MESSAGE\ncontent-length:003\n\nabc\0");
    }
}
