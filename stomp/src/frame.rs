//! Frames, their commands, and the limits the decoder enforces on them.

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;

use crate::DecodeError;

/// A STOMP 1.2 command: the first line of every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    // Client commands.
    Connect,
    Stomp,
    Send,
    Subscribe,
    Unsubscribe,
    Ack,
    Nack,
    Begin,
    Commit,
    Abort,
    Disconnect,
    // Server commands.
    Connected,
    Message,
    Receipt,
    Error,
}

impl Command {
    /// Every command, client commands first.
    pub const ALL: [Command; 15] = [
        Command::Connect,
        Command::Stomp,
        Command::Send,
        Command::Subscribe,
        Command::Unsubscribe,
        Command::Ack,
        Command::Nack,
        Command::Begin,
        Command::Commit,
        Command::Abort,
        Command::Disconnect,
        Command::Connected,
        Command::Message,
        Command::Receipt,
        Command::Error,
    ];

    /// The length of the longest command word (`UNSUBSCRIBE`): a longer command line cannot be
    /// valid, so the decoder refuses it without waiting for its end.
    pub(crate) const MAX_LEN: usize = 11;

    /// The command as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Connect => "CONNECT",
            Command::Stomp => "STOMP",
            Command::Send => "SEND",
            Command::Subscribe => "SUBSCRIBE",
            Command::Unsubscribe => "UNSUBSCRIBE",
            Command::Ack => "ACK",
            Command::Nack => "NACK",
            Command::Begin => "BEGIN",
            Command::Commit => "COMMIT",
            Command::Abort => "ABORT",
            Command::Disconnect => "DISCONNECT",
            Command::Connected => "CONNECTED",
            Command::Message => "MESSAGE",
            Command::Receipt => "RECEIPT",
            Command::Error => "ERROR",
        }
    }

    /// Whether a client may send this command. The decoder accepts every command (it is also
    /// useful for testing clients); a server should refuse the ones a client must not send.
    pub fn is_client_command(self) -> bool {
        !matches!(self, Command::Connected | Command::Message | Command::Receipt | Command::Error)
    }

    /// Whether header names and values are escaped in frames with this command. CONNECT and
    /// CONNECTED take them literally, for compatibility with STOMP 1.0 (which had no escapes).
    pub fn escapes_headers(self) -> bool {
        !matches!(self, Command::Connect | Command::Connected)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Command {
    type Err = DecodeError;

    /// Parses the exact uppercase command word; STOMP commands are case-sensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Command::ALL.into_iter().find(|c| c.as_str() == s).ok_or(DecodeError::UnknownCommand)
    }
}

/// A STOMP frame: a command, headers in wire order, and a body of raw bytes.
///
/// Headers are kept as a list, not a map, because STOMP allows a header to repeat and gives the
/// first occurrence precedence; [`Frame::header`] applies that rule. Names and values are held
/// unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub command: Command,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Frame {
    /// A frame with no headers and an empty body.
    pub fn new(command: Command) -> Self {
        Frame { command, headers: Vec::new(), body: Bytes::new() }
    }

    /// Appends a header (builder style). Appending a name that is already present does not
    /// replace it: the first occurrence keeps precedence.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body (builder style).
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// The value of the first header called `name` (names are case-sensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Bounds on what the decoder accepts from a client, and so on the memory it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame, from the first byte of its command to its terminating NUL inclusive.
    /// Also the most the decoder ever buffers (see [`Decoder::push`](crate::Decoder::push)).
    pub max_frame_bytes: usize,
    /// Most header lines in one frame, repeated names included.
    pub max_headers: usize,
    /// Longest header line as sent (escaped), without its line ending.
    pub max_header_bytes: usize,
    /// Largest body.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    /// Sized for chat: a CONNECT carrying a bearer token, and short text messages.
    fn default() -> Self {
        Limits {
            max_frame_bytes: 64 * 1024,
            max_headers: 32,
            max_header_bytes: 4 * 1024,
            max_body_bytes: 16 * 1024,
        }
    }
}
