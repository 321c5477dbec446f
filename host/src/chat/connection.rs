//! One STOMP 1.2 session over a WebSocket at `GET /ws`, as stock clients (@stomp/stompjs)
//! speak it.
//!
//! - The upgrade checks `Origin` (the server's own, `chat.allowed_origins`, or none: not a
//!   browser) and offers `v12.stomp, v11.stomp, v10.stomp`.
//! - The first frame must be CONNECT (or STOMP) with `Authorization: Bearer <access token>`
//!   within [`CONNECT_WITHIN`]; CONNECTED carries the negotiated version and heart-beats.
//! - SUBSCRIBE to `/topic/rooms/{id}`, optionally with `offset` and `epoch`: the last message
//!   the client saw. It is then sent exactly the messages after that offset, then live ones;
//!   the first MESSAGE (and the RECEIPT, if asked for) says `resume:ok`, or `resume:reset` when
//!   that cannot be done (another epoch, or a gap longer than `chat.resume_max_messages`):
//!   the client is then sent the latest messages and should reload the rest by REST. Without an
//!   offset it starts with the latest messages.
//! - SEND to a room stores the message before its RECEIPT; the token's expiry and the session
//!   are checked again on every SEND.
//! - Any error is an ERROR frame naming it, then the socket closes: a protocol error, a failed
//!   authentication, a refused SEND (read-only room, muted, rate limit, invalid text), a
//!   missing heart-beat, a queue that overflowed (too slow), the session's end or the token's
//!   expiry.

use super::ChatState;
use super::append::AppendError;
use super::hub::{Mailbox, Outbound};
use super::model::{ChatMessage, DESTINATION_PREFIX, destination};
use super::service::SendError;
use crate::auth::extract::{authenticate, bearer_token, still_live};
use crate::auth::{AuthUser, Authenticator};
use crate::error::ApiError;
use crate::http::watchdog::Requests;
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use axum::response::{IntoResponse, Response};
use futures::SinkExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use weatherwise_stomp::{
    Command, Decoder, Event, Frame, Limits, encode, negotiate_heart_beat, negotiate_version,
};

/// The CONNECT frame must arrive within this long of the upgrade.
const CONNECT_WITHIN: Duration = Duration::from_secs(10);
/// A write the client does not take within this long ends the connection.
const WRITE_WITHIN: Duration = Duration::from_secs(10);
/// Queued frames written with one flush at most: under load a connection pays one write to
/// the socket for a burst, not one a frame.
const WRITE_BATCH: usize = 64;
/// Frames of one batch are buffered up to this many bytes before the socket takes them.
const WRITE_BUFFER_BYTES: usize = 16 * 1024;
/// A client is gone when it sends nothing for this many of its promised heart-beat intervals.
const HEART_BEAT_TOLERANCE: u32 = 2;
const SUB_PROTOCOLS: [&str; 3] = ["v12.stomp", "v11.stomp", "v10.stomp"];

pub async fn upgrade(
    State(chat): State<ChatState>,
    State(auth): State<Authenticator>,
    requests: Option<Extension<Requests>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Some(origin) = headers.get(ORIGIN) {
        let host = headers.get(HOST).and_then(|host| host.to_str().ok()).unwrap_or_default();
        let origin = origin.to_str().unwrap_or_default();
        if !origin_allowed(origin, host, &chat.config.allowed_origins) {
            return ApiError::Forbidden {
                code: "origin_not_allowed",
                detail: format!("pages from {origin} may not open chat connections"),
            }
            .into_response();
        }
    }
    // The socket outlives the request: it counts as a request in progress, so the connection's
    // idle timeout leaves it to the STOMP heart-beats.
    let in_progress = requests.map(|Extension(requests)| requests.begin());
    let max = chat.config.max_frame_bytes;
    upgrade
        .protocols(SUB_PROTOCOLS)
        .max_message_size(max)
        .max_frame_size(max)
        // Every write ends with a flush (no batching delay); frames already queued go out
        // together. What the client has not taken yet is bounded, past which a write waits
        // and, after a while, the client is dropped. The read buffer is allocated whole for
        // every connection (128 KiB by default): chat frames are small, so a small one keeps
        // idle connections cheap.
        .read_buffer_size(8 * 1024)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(4 * max + 64 * 1024)
        .on_upgrade(move |socket| async move {
            let _in_progress = in_progress;
            Session::run(socket, chat, auth).await;
        })
}

/// The server's own origin (same host), one on the list, or any with `*`.
fn origin_allowed(origin: &str, host: &str, allowed: &[String]) -> bool {
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    (!host.is_empty() && origin_host.eq_ignore_ascii_case(host))
        || allowed.iter().any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
}

/// Why a session ends: with an ERROR frame, unless the socket can no longer take one.
struct Fatal {
    message: String,
    detail: String,
    socket_broken: bool,
}

impl Fatal {
    fn new(message: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { message: message.into(), detail: detail.into(), socket_broken: false }
    }

    fn broken(message: &str) -> Self {
        Self { message: message.into(), detail: String::new(), socket_broken: true }
    }
}

struct Subscription {
    /// A header the subscription's first MESSAGE carries (`resume:ok` / `resume:reset`).
    first_header: Option<&'static str>,
}

struct Session {
    socket: WebSocket,
    chat: ChatState,
    auth: Authenticator,
    decoder: Decoder,
    caller: Option<AuthUser>,
    nickname: String,
    connection: u64,
    subscriptions: HashMap<Arc<str>, Subscription>,
    mailbox: Option<Mailbox>,
    last_heard: Instant,
    last_sent: Instant,
}

impl Session {
    async fn run(socket: WebSocket, chat: ChatState, auth: Authenticator) {
        let limits = Limits {
            max_frame_bytes: chat.config.max_frame_bytes,
            max_headers: chat.config.max_headers,
            max_header_bytes: chat.config.max_header_bytes,
            max_body_bytes: chat.config.max_frame_bytes / 2,
        };
        let now = Instant::now();
        let mut session = Self {
            socket,
            decoder: Decoder::new(limits),
            chat,
            auth,
            caller: None,
            nickname: String::new(),
            connection: 0,
            subscriptions: HashMap::new(),
            mailbox: None,
            last_heard: now,
            last_sent: now,
        };
        let outcome = session.serve().await;
        let mut socket_broken = false;
        if let Err(fatal) = outcome {
            metrics::counter!("chat_connections_ended_total", "why" => "error").increment(1);
            tracing::debug!(message = %fatal.message, detail = %fatal.detail, "chat connection ended");
            socket_broken = fatal.socket_broken;
            if !socket_broken {
                let frame = Frame::new(Command::Error)
                    .with_header("message", fatal.message)
                    .with_header("content-type", "text/plain")
                    .with_body(fatal.detail.into_bytes());
                socket_broken = session.write(&frame).await.is_err();
            }
        }
        if !socket_broken {
            let _ = tokio::time::timeout(WRITE_WITHIN, session.socket.send(Message::Close(None))).await;
        }
        if session.caller.is_some() {
            session.chat.close_connection(session.connection).await;
        }
    }

    async fn serve(&mut self) -> Result<(), Fatal> {
        let connect = tokio::time::timeout(CONNECT_WITHIN, self.next_frame())
            .await
            .map_err(|_| Fatal::new("no CONNECT", "send CONNECT first"))?;
        let Some(connect) = connect? else { return Ok(()) };
        let (send_every, expect_every) = self.connect(connect).await?;
        let (connection, ended) = {
            let caller = self.caller.as_ref().ok_or_else(|| Fatal::new("not connected", ""))?;
            self.chat.open_connection(&caller.user_id, &caller.session_id)
        };
        self.connection = connection;
        let (sender, mut receiver) = mpsc::channel(self.chat.config.queue_frames);
        let too_slow = CancellationToken::new();
        self.mailbox = Some(Mailbox { connection, sender, too_slow: too_slow.clone() });
        let expires_at = self.caller.as_ref().map_or(0, |caller| caller.expires_at);
        let token_expiry = tokio::time::sleep(until_unix(expires_at));
        tokio::pin!(token_expiry);
        let mut beat = tokio::time::interval(send_every.unwrap_or(Duration::from_secs(3600)));
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                // Ends first: a session that ended or fell behind gets nothing more.
                biased;
                () = ended.cancelled() => {
                    return Err(Fatal::new("session ended", "this session has ended; log in again"));
                }
                () = too_slow.cancelled() => {
                    return Err(Fatal::new(
                        "slow consumer",
                        "messages arrived faster than this connection read them; resume from the last offset",
                    ));
                }
                () = &mut token_expiry => {
                    return Err(Fatal::new("token expired", "the access token expired; reconnect with a fresh one"));
                }
                () = heart_beat_overdue(self.last_heard, expect_every) => {
                    return Err(Fatal::new("heart-beat timeout", "nothing heard within the agreed heart-beat"));
                }
                incoming = self.socket.recv() => {
                    match self.received(incoming)? {
                        Received::Closed => return Ok(()),
                        Received::Bytes => {}
                    }
                    while let Some(event) = self.decoder.next_event().map_err(protocol_error)? {
                        if let Event::Frame(frame) = event
                            && !self.handle(frame).await?
                        {
                            return Ok(());
                        }
                    }
                }
                outbound = receiver.recv() => {
                    let Some(outbound) = outbound else { return Ok(()) };
                    self.deliver(outbound, &mut receiver).await?;
                }
                _ = beat.tick(), if send_every.is_some() => {
                    if send_every.is_some_and(|every| self.last_sent.elapsed() >= every) {
                        self.send_raw(Message::Text("\n".into())).await?;
                    }
                }
            }
        }
    }

    /// The first frame, before the session's loop runs.
    async fn next_frame(&mut self) -> Result<Option<Frame>, Fatal> {
        loop {
            while let Some(event) = self.decoder.next_event().map_err(protocol_error)? {
                if let Event::Frame(frame) = event {
                    return Ok(Some(frame));
                }
            }
            let incoming = self.socket.recv().await;
            if let Received::Closed = self.received(incoming)? {
                return Ok(None);
            }
        }
    }

    fn received(&mut self, incoming: Option<Result<Message, axum::Error>>) -> Result<Received, Fatal> {
        let bytes = match incoming {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(Received::Closed),
            Some(Ok(Message::Text(text))) => text.as_bytes().to_vec(),
            Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Vec::new(),
        };
        self.last_heard = Instant::now();
        self.decoder.push(&bytes).map_err(protocol_error)?;
        Ok(Received::Bytes)
    }

    /// CONNECT: version, heart-beats, the bearer token. Answers CONNECTED.
    async fn connect(&mut self, frame: Frame) -> Result<(Option<Duration>, Option<Duration>), Fatal> {
        if !matches!(frame.command, Command::Connect | Command::Stomp) {
            return Err(Fatal::new("not connected", "the first frame must be CONNECT"));
        }
        let version = negotiate_version(frame.header("accept-version"))
            .map_err(|err| Fatal::new("unsupported version", err.to_string()))?;
        let own = u32::try_from(self.chat.config.heart_beat_ms).unwrap_or(u32::MAX);
        let heart_beat = negotiate_heart_beat(frame.header("heart-beat"), (own, own))
            .map_err(|err| Fatal::new("bad heart-beat", err.to_string()))?;
        let header =
            frame.header("Authorization").or_else(|| frame.header("authorization")).ok_or_else(|| {
                Fatal::new("unauthorized", "send `Authorization: Bearer <access token>` in CONNECT")
            })?;
        let token = bearer_token(header)
            .ok_or_else(|| Fatal::new("unauthorized", "the Authorization header is not a bearer token"))?;
        let caller = authenticate(&self.auth, token)
            .await
            .map_err(|err| Fatal::new("unauthorized", err.to_string()))?;
        self.nickname = self
            .auth
            .nickname(&caller.user_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| Fatal::new("unauthorized", "this account no longer exists"))?;
        let connected = Frame::new(Command::Connected)
            .with_header("version", version.as_str())
            .with_header("heart-beat", heart_beat.header_value.clone())
            .with_header("server", concat!("weatherwise/", env!("CARGO_PKG_VERSION")))
            .with_header("user-name", caller.user_id.clone());
        self.caller = Some(caller);
        self.write(&connected).await?;
        Ok((heart_beat.send_every, heart_beat.expect_every))
    }

    /// Handles one frame after CONNECT; false when the client disconnected.
    async fn handle(&mut self, frame: Frame) -> Result<bool, Fatal> {
        match frame.command {
            Command::Subscribe => self.subscribe(&frame).await?,
            Command::Unsubscribe => {
                let id = required(&frame, "id")?;
                if let Some((id, _)) = self.subscriptions.remove_entry(id) {
                    self.chat.hub.unsubscribe(self.connection, &id).await;
                }
                self.receipt(&frame, &[]).await?;
            }
            Command::Send => self.send(&frame).await?,
            Command::Disconnect => {
                self.receipt(&frame, &[]).await?;
                return Ok(false);
            }
            Command::Connect | Command::Stomp => {
                return Err(Fatal::new("already connected", "CONNECT was sent twice"));
            }
            other => {
                return Err(Fatal::new("unsupported", format!("{} is not supported here", other.as_str())));
            }
        }
        Ok(true)
    }

    async fn subscribe(&mut self, frame: &Frame) -> Result<(), Fatal> {
        let id: Arc<str> = Arc::from(required(frame, "id")?);
        if self.subscriptions.contains_key(&id) {
            return Err(Fatal::new("duplicate subscription", format!("subscription id {id} is in use")));
        }
        if self.subscriptions.len() >= self.chat.config.max_subscriptions {
            return Err(Fatal::new(
                "too many subscriptions",
                format!("at most {} per connection", self.chat.config.max_subscriptions),
            ));
        }
        let room = room_of(&self.chat, required(frame, "destination")?).await?;
        let resume = match (frame.header("offset"), frame.header("epoch")) {
            (None, _) => None,
            (Some(offset), epoch) => {
                let offset = offset.parse::<i64>().ok().filter(|offset| *offset >= 0).ok_or_else(|| {
                    Fatal::new("bad offset", "offset is the last offset received, 0 or more")
                })?;
                Some((offset, epoch.unwrap_or_default().to_owned()))
            }
        };
        let latest = room.next_offset - 1;
        // Resumable: the same history, an offset it has given out, a gap it keeps.
        let resumable = resume.as_ref().filter(|(offset, epoch)| {
            *epoch == room.epoch
                && *offset <= latest
                && latest - offset <= self.chat.config.resume_max_messages
        });
        let have_through = resumable.map_or(i64::MIN, |(offset, _)| *offset);
        let mailbox = self.mailbox.clone().ok_or_else(|| Fatal::new("not connected", ""))?;
        let start = self
            .chat
            .hub
            .subscribe(&room.id, &room.epoch, room.next_offset, mailbox, id.clone(), have_through)
            .await;
        let (first_header, earlier) = match (&resume, resumable) {
            (_, Some((offset, _))) => {
                let missed = self.chat.store.range(&room.id, offset + 1, start).await.map_err(internal)?;
                (Some("resume:ok"), missed)
            }
            (Some(_), None) => {
                (Some("resume:reset"), self.chat.recent.before(&room.id, start).await.map_err(internal)?)
            }
            (None, None) => (None, self.chat.recent.before(&room.id, start).await.map_err(internal)?),
        };
        self.subscriptions.insert(id.clone(), Subscription { first_header });
        let receipt_header = first_header.map(|header| header.split_once(':').unwrap_or((header, "")));
        self.receipt(frame, receipt_header.as_slice()).await?;
        let epoch: Arc<str> = Arc::from(room.epoch.as_str());
        for message in earlier {
            let outbound = Outbound::Message {
                subscription: id.clone(),
                epoch: epoch.clone(),
                body: message.json_body(),
                message: Arc::new(message),
            };
            self.feed(outbound).await?;
        }
        self.flush().await
    }

    async fn send(&mut self, frame: &Frame) -> Result<(), Fatal> {
        let caller = self.caller.clone().ok_or_else(|| Fatal::new("not connected", ""))?;
        if caller.expires_at <= chrono::Utc::now().timestamp() {
            return Err(Fatal::new("token expired", "the access token expired; reconnect with a fresh one"));
        }
        if !still_live(&self.auth, &caller).await.map_err(internal)? {
            return Err(Fatal::new("session ended", "this session has ended; log in again"));
        }
        let destination = required(frame, "destination")?;
        let room_id = destination
            .strip_prefix(DESTINATION_PREFIX)
            .filter(|id| uuid::Uuid::try_parse(id).is_ok())
            .ok_or_else(|| Fatal::new("no such destination", format!("{destination} is not a chat room")))?;
        let text = std::str::from_utf8(&frame.body)
            .map_err(|_| Fatal::new("invalid message", "a message is UTF-8 text"))?;
        let message =
            self.chat.send(&caller.user_id, &self.nickname, room_id, text).await.map_err(refusal)?;
        let offset = message.offset.to_string();
        self.receipt(frame, &[("message-id", &message.id), ("offset", &offset)]).await
    }

    /// A RECEIPT when the frame asked for one, with `extra` headers.
    async fn receipt(&mut self, frame: &Frame, extra: &[(&str, &str)]) -> Result<(), Fatal> {
        let Some(receipt) = frame.header("receipt") else { return Ok(()) };
        let mut answer = Frame::new(Command::Receipt).with_header("receipt-id", receipt);
        for (name, value) in extra {
            answer = answer.with_header(*name, *value);
        }
        self.write(&answer).await
    }

    /// Writes `first` and what else is queued (up to [`WRITE_BATCH`] frames), then flushes.
    async fn deliver(&mut self, first: Outbound, queue: &mut mpsc::Receiver<Outbound>) -> Result<(), Fatal> {
        let mut next = Some(first);
        let mut written = 0;
        while let Some(outbound) = next.take() {
            self.feed(outbound).await?;
            written += 1;
            if written < WRITE_BATCH {
                next = queue.try_recv().ok();
            }
        }
        self.flush().await
    }

    /// Buffers the frame of `outbound` for the next flush (the buffer goes out by itself when
    /// it fills).
    async fn feed(&mut self, outbound: Outbound) -> Result<(), Fatal> {
        let Some(frame) = self.frame_of(outbound) else { return Ok(()) };
        within_write_deadline(self.socket.feed(text_message(&frame)?)).await
    }

    async fn flush(&mut self) -> Result<(), Fatal> {
        within_write_deadline(self.socket.flush()).await?;
        self.last_sent = Instant::now();
        Ok(())
    }

    /// The MESSAGE frame of `outbound`, unless its subscription has ended meanwhile.
    fn frame_of(&mut self, outbound: Outbound) -> Option<Frame> {
        match outbound {
            Outbound::Message { subscription, epoch, message, body } => {
                let state = self.subscriptions.get_mut(&subscription)?;
                let first = state.first_header.take();
                Some(message_frame(&subscription, &epoch, &message, body, first))
            }
            Outbound::Deleted { subscription, room_id, message_id, offset } => {
                if !self.subscriptions.contains_key(&subscription) {
                    return None;
                }
                let body = serde_json::json!({ "id": &*message_id, "offset": offset, "deleted": true });
                Some(
                    Frame::new(Command::Message)
                        .with_header("subscription", &*subscription)
                        .with_header("message-id", format!("{message_id}:deleted"))
                        .with_header("destination", destination(&room_id))
                        .with_header("content-type", "application/json")
                        .with_header("event", "deleted")
                        .with_header("offset", offset.to_string())
                        .with_body(body.to_string().into_bytes()),
                )
            }
        }
    }

    async fn write(&mut self, frame: &Frame) -> Result<(), Fatal> {
        self.send_raw(text_message(frame)?).await
    }

    async fn send_raw(&mut self, message: Message) -> Result<(), Fatal> {
        within_write_deadline(self.socket.send(message)).await?;
        self.last_sent = Instant::now();
        Ok(())
    }
}

/// `frame` as a text message. Our frames are UTF-8 (text bodies, JSON, header values from UTF-8
/// strings), and every client reads text; the encoded bytes are not copied again.
fn text_message(frame: &Frame) -> Result<Message, Fatal> {
    let text = Utf8Bytes::try_from(encode(frame)).map_err(|_| Fatal::new("internal error", ""))?;
    Ok(Message::Text(text))
}

/// Runs a write to the socket, which the client must take within [`WRITE_WITHIN`].
async fn within_write_deadline(
    write: impl std::future::Future<Output = Result<(), axum::Error>>,
) -> Result<(), Fatal> {
    match tokio::time::timeout(WRITE_WITHIN, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Fatal::broken("closed")),
        // A frame is half written: nothing more can follow it.
        Err(_) => Err(Fatal::broken("slow consumer")),
    }
}

enum Received {
    Bytes,
    Closed,
}

/// The room a destination names; an ERROR for anything else (a SEND is checked by the store).
async fn room_of(chat: &ChatState, destination: &str) -> Result<super::model::Room, Fatal> {
    let no_such = || Fatal::new("no such destination", format!("{destination} is not a chat room"));
    let room_id = destination.strip_prefix(DESTINATION_PREFIX).ok_or_else(no_such)?;
    uuid::Uuid::try_parse(room_id).map_err(|_| no_such())?;
    chat.store.room(room_id).await.map_err(internal)?.ok_or_else(no_such)
}

fn message_frame(
    subscription: &str,
    epoch: &str,
    message: &ChatMessage,
    body: bytes::Bytes,
    first: Option<&str>,
) -> Frame {
    let mut frame = Frame::new(Command::Message)
        .with_header("subscription", subscription)
        .with_header("message-id", message.id.clone())
        .with_header("destination", destination(&message.room_id))
        .with_header("content-type", "application/json")
        .with_header("event", "message")
        .with_header("offset", message.offset.to_string())
        .with_header("epoch", epoch);
    if let Some((name, value)) = first.and_then(|header| header.split_once(':')) {
        frame = frame.with_header(name, value);
    }
    frame.with_body(body)
}

fn required<'f>(frame: &'f Frame, name: &str) -> Result<&'f str, Fatal> {
    frame.header(name).ok_or_else(|| {
        Fatal::new(format!("missing {name}"), format!("{} needs a {name} header", frame.command.as_str()))
    })
}

fn protocol_error(err: weatherwise_stomp::DecodeError) -> Fatal {
    Fatal::new(err.to_string(), "the frame could not be read")
}

fn internal(err: impl std::fmt::Display) -> Fatal {
    tracing::error!(error = %err, "chat connection failed");
    Fatal::new("internal error", "try again")
}

fn refusal(err: SendError) -> Fatal {
    match err {
        SendError::Invalid(detail) => Fatal::new("invalid message", detail),
        SendError::RateLimited(_) => Fatal::new("rate limited", err.to_string()),
        SendError::Refused(AppendError::ReadOnly) => Fatal::new("read-only room", err.to_string()),
        SendError::Refused(AppendError::NoSuchRoom) => Fatal::new("no such destination", err.to_string()),
        SendError::Refused(AppendError::Muted { .. }) => Fatal::new("muted", err.to_string()),
        SendError::Refused(AppendError::Database(err)) => internal(err),
        SendError::Internal(err) => internal(err),
    }
}

/// How long until `unix_secs`.
fn until_unix(unix_secs: i64) -> Duration {
    let left = unix_secs.saturating_sub(chrono::Utc::now().timestamp());
    Duration::from_secs(left.max(0).unsigned_abs())
}

/// Resolves once nothing has been heard for the tolerance of `expect_every` (never without it).
async fn heart_beat_overdue(last_heard: Instant, expect_every: Option<Duration>) {
    match expect_every {
        Some(every) => tokio::time::sleep_until(last_heard + every * HEART_BEAT_TOLERANCE).await,
        None => std::future::pending().await,
    }
}
