//! A STOMP client over WebSocket for the chat tests, built on the server's own frame codec but
//! speaking exactly what stock clients send (sub-protocols, CONNECT headers, heart-beats).

use crate::{Session, TestApp};
use futures::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use weatherwise_stomp::{Command, Decoder, Event, Frame, Limits, encode};

pub use weatherwise_stomp::{Command as StompCommand, Frame as StompFrame};

/// Long enough for anything the server should do at once, even on a loaded machine.
pub const PROMPTLY: Duration = Duration::from_secs(10);

pub struct StompClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    decoder: Decoder,
    /// MESSAGE frames that arrived while waiting for the answer to a request.
    pending: VecDeque<Frame>,
}

/// How a wait for the next frame ended.
#[derive(Debug)]
pub enum Next {
    Frame(Frame),
    Closed,
    TimedOut,
}

impl StompClient {
    /// A WebSocket to `/ws` offering the STOMP sub-protocols, with `headers` on the upgrade.
    pub async fn open_with(app: &TestApp, headers: &[(&str, &str)]) -> Result<Self, String> {
        let mut request =
            format!("ws://{}/ws", app.address).into_client_request().map_err(|e| e.to_string())?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "v12.stomp, v11.stomp, v10.stomp".parse().expect("header"));
        for (name, value) in headers {
            request.headers_mut().insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        let (ws, response) = tokio_tungstenite::connect_async(request).await.map_err(|e| e.to_string())?;
        let protocol = response.headers().get("Sec-WebSocket-Protocol").and_then(|v| v.to_str().ok());
        assert_eq!(protocol, Some("v12.stomp"), "the server picks STOMP 1.2");
        Ok(Self { ws, decoder: Decoder::new(Limits::default()), pending: VecDeque::new() })
    }

    /// Connected over a socket whose receive buffer is small, for a client that does not read.
    pub async fn connect_slow_reader(app: &TestApp, caller: &Session) -> Self {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(8 * 1024).expect("receive buffer");
        let stream = socket.connect(app.address).await.expect("connect");
        let mut request = format!("ws://{}/ws", app.address).into_client_request().expect("request");
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "v12.stomp, v11.stomp, v10.stomp".parse().expect("header"));
        let (ws, _) =
            tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await.expect("upgrade");
        let mut client = Self { ws, decoder: Decoder::new(Limits::default()), pending: VecDeque::new() };
        let connected = client
            .request(
                Frame::new(Command::Connect)
                    .with_header("Authorization", format!("Bearer {}", caller.access))
                    .with_header("accept-version", "1.2"),
            )
            .await;
        assert_eq!(connected.command, Command::Connected, "{connected:?}");
        client
    }

    pub async fn open(app: &TestApp) -> Self {
        Self::open_with(app, &[]).await.expect("the WebSocket opens")
    }

    /// Opens and CONNECTs as stompjs does; panics unless CONNECTED comes back.
    pub async fn connect(app: &TestApp, caller: &Session) -> Self {
        Self::connect_with(app, &caller.access, "0,0").await
    }

    pub async fn connect_with(app: &TestApp, token: &str, heart_beat: &str) -> Self {
        let mut client = Self::open(app).await;
        let connected = client
            .request(
                Frame::new(Command::Connect)
                    .with_header("Authorization", format!("Bearer {token}"))
                    .with_header("accept-version", "1.2,1.1,1.0")
                    .with_header("heart-beat", heart_beat),
            )
            .await;
        assert_eq!(connected.command, Command::Connected, "{connected:?}");
        assert_eq!(connected.header("version"), Some("1.2"));
        client
    }

    pub async fn send_frame(&mut self, frame: Frame) {
        self.send_raw(Message::Text(String::from_utf8(encode(&frame).to_vec()).expect("utf-8").into())).await;
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.ws.send(message).await.expect("sending to the server");
    }

    /// Sends `frame` and returns the answer (a RECEIPT, CONNECTED or ERROR); MESSAGE frames
    /// arriving meanwhile are kept for [`Self::messages`].
    pub async fn request(&mut self, frame: Frame) -> Frame {
        self.send_frame(frame).await;
        loop {
            let answer = self.read_frame().await;
            if answer.command != Command::Message {
                return answer;
            }
            self.pending.push_back(answer);
        }
    }

    async fn read_frame(&mut self) -> Frame {
        match self.read(PROMPTLY).await {
            Next::Frame(frame) => frame,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    pub async fn expect_frame(&mut self) -> Frame {
        match self.next(PROMPTLY).await {
            Next::Frame(frame) => frame,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// The next frame (heart-beats skipped) within `within`.
    pub async fn next(&mut self, within: Duration) -> Next {
        match self.pending.pop_front() {
            Some(frame) => Next::Frame(frame),
            None => self.read(within).await,
        }
    }

    async fn read(&mut self, within: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match self.decoder.next_event() {
                Ok(Some(Event::Frame(frame))) => return Next::Frame(frame),
                Ok(Some(Event::Heartbeat)) => continue,
                Ok(None) => {}
                Err(err) => panic!("the server sent an unreadable frame: {err}"),
            }
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Next::TimedOut,
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return Next::Closed,
                Ok(Some(Ok(Message::Text(text)))) => self.decoder.push(text.as_bytes()).expect("frame"),
                Ok(Some(Ok(Message::Binary(bytes)))) => self.decoder.push(&bytes).expect("frame"),
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Expects an ERROR whose `message` contains `expected`, then the socket's close.
    pub async fn expect_error(&mut self, expected: &str) -> Frame {
        let error = self.expect_frame().await;
        self.assert_error(error, expected).await
    }

    /// Asserts that `error` (an answer already read) is an ERROR whose `message` contains
    /// `expected`, and that the socket then closes.
    pub async fn assert_error(&mut self, error: Frame, expected: &str) -> Frame {
        assert_eq!(error.command, Command::Error, "{error:?}");
        let message = error.header("message").unwrap_or_default();
        assert!(message.contains(expected), "ERROR `{message}`, expected `{expected}`");
        assert!(self.closes_within(PROMPTLY).await, "the server closes after an ERROR");
        error
    }

    /// Whether the server closes the socket within `within` (frames before that are skipped).
    pub async fn closes_within(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match self.next(deadline.saturating_duration_since(tokio::time::Instant::now())).await {
                Next::Closed => return true,
                Next::TimedOut => return false,
                Next::Frame(_) => {}
            }
        }
    }

    pub async fn subscribe(&mut self, id: &str, room_id: &str, resume: Option<(i64, &str)>) -> Frame {
        let mut frame = Frame::new(Command::Subscribe)
            .with_header("id", id)
            .with_header("destination", format!("/topic/rooms/{room_id}"))
            .with_header("receipt", format!("sub-{id}"));
        if let Some((offset, epoch)) = resume {
            frame = frame.with_header("offset", offset.to_string()).with_header("epoch", epoch);
        }
        let receipt = self.request(frame).await;
        assert_eq!(receipt.command, Command::Receipt, "{receipt:?}");
        receipt
    }

    /// Sends `text` to a room with a receipt; returns the RECEIPT (or the ERROR).
    pub async fn send_text(&mut self, room_id: &str, text: &str) -> Frame {
        let receipt = uuid::Uuid::new_v4().simple().to_string();
        self.request(
            Frame::new(Command::Send)
                .with_header("destination", format!("/topic/rooms/{room_id}"))
                .with_header("content-type", "text/plain")
                .with_header("receipt", receipt)
                .with_body(text.as_bytes().to_vec()),
        )
        .await
    }

    /// The next `count` MESSAGE frames.
    pub async fn messages(&mut self, count: usize) -> Vec<Frame> {
        let mut messages = Vec::with_capacity(count);
        while messages.len() < count {
            let frame = self.expect_frame().await;
            assert_eq!(frame.command, Command::Message, "{frame:?}");
            messages.push(frame);
        }
        messages
    }

    /// Asserts nothing arrives within `window`.
    pub async fn quiet_for(&mut self, window: Duration) {
        match self.next(window).await {
            Next::TimedOut => {}
            other => panic!("expected nothing, got {other:?}"),
        }
    }
}

/// The `offset` header of a MESSAGE.
pub fn offset_of(frame: &Frame) -> i64 {
    frame.header("offset").and_then(|offset| offset.parse().ok()).expect("offset header")
}

/// The text of a MESSAGE's JSON body.
pub fn text_of(frame: &Frame) -> String {
    let body: serde_json::Value = serde_json::from_slice(&frame.body).expect("JSON body");
    body["text"].as_str().expect("text").to_owned()
}
