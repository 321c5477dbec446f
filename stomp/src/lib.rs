//! STOMP 1.2 frames for the server side of STOMP over WebSocket.
//!
//! The chat server speaks STOMP to stock `@stomp/stompjs` clients. This crate is only the wire
//! format and the two CONNECT negotiations; sessions, subscriptions and routing belong to the
//! server. It provides:
//!
//! * [`Decoder`]: turns the bytes of WebSocket messages (text or binary, a frame split over
//!   several messages or several frames in one) into [`Event`]s: frames and heart-beats.
//! * [`encode`]: writes a [`Frame`] for sending, escaping header names and values.
//! * [`escape`] / [`unescape`]: the STOMP 1.2 header escapes on their own.
//! * [`negotiate_version`] / [`negotiate_heart_beat`]: the CONNECT → CONNECTED handshake values.
//!
//! # Bounds
//!
//! Everything the client sends is untrusted, so every resource the decoder spends is bounded
//! by [`Limits`], never by the input:
//!
//! * the decoder never buffers more than [`Limits::max_frame_bytes`] bytes: a push that would
//!   take it over is refused (and so is a single frame larger than that). Setting the WebSocket
//!   layer's maximum message size to the same figure refuses such input before it is assembled;
//! * a frame has at most [`Limits::max_headers`] header lines of at most
//!   [`Limits::max_header_bytes`] bytes each, and a body of at most [`Limits::max_body_bytes`];
//!   each limit is checked as soon as the bytes that break it arrive, and a `content-length`
//!   over the body limit is refused before any of the body is buffered;
//! * decoding is incremental: every byte is examined a bounded number of times however the
//!   input is fragmented, so tiny fragments cost no more than one large message.
//!
//! Any decoding error is final: the server should send an ERROR frame naming the error (the
//! [`DecodeError`] display strings are short enough to serve as its `message` header) and close
//! the connection, as the protocol requires.

mod decode;
mod encode;
mod escape;
mod frame;
mod negotiate;

pub use decode::{DecodeError, Decoder, Event};
pub use encode::{HEARTBEAT, encode};
pub use escape::{escape, unescape};
pub use frame::{Command, Frame, Limits};
pub use negotiate::{HeartBeatAgreement, NegotiateError, Version, negotiate_heart_beat, negotiate_version};
