//! A minimal STOMP 1.2 client over a WebSocket: CONNECT, SUBSCRIBE with a receipt, SEND, and
//! reading frames.

use crate::{Args, Target};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async_with_config};
use weatherwise_stomp::{Command, Decoder, Event, Frame, Limits, encode};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;
type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Conn {
    writer: Writer,
    reader: Reader,
}

pub struct Writer(SplitSink<Ws, Message>);

pub struct Reader {
    stream: SplitStream<Ws>,
    decoder: Decoder,
}

impl Conn {
    /// Opens a connection to instance `n` (URL `n % urls`) and completes CONNECT → CONNECTED.
    pub async fn open(args: &Args, n: usize) -> Result<Conn> {
        let mut request = args.url[n % args.url.len()].as_str().into_client_request()?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("v12.stomp, v11.stomp, v10.stomp"));
        // Without TCP_NODELAY small frames can wait for the peer's delayed ACK.
        let (ws, _) = connect_async_with_config(request, None, true).await?;
        let (sink, stream) = ws.split();
        let mut conn = Conn {
            writer: Writer(sink),
            reader: Reader { stream, decoder: Decoder::new(Limits::default()) },
        };
        let connect = Frame::new(Command::Connect)
            .with_header("accept-version", "1.2")
            .with_header("heart-beat", "0,0");
        let connect = match args.target {
            Target::Weatherwise => {
                let token = args.token.as_deref().unwrap_or_default();
                connect.with_header("Authorization", format!("Bearer {token}"))
            }
            Target::Rabbitmq => connect
                .with_header("host", "/")
                .with_header("login", "guest")
                .with_header("passcode", "guest"),
        };
        conn.writer.send(&connect).await?;
        let reply = conn.reader.next_frame().await?;
        if reply.command != Command::Connected {
            return Err(format!("CONNECT answered {}: {}", reply.command, error_text(&reply)).into());
        }
        Ok(conn)
    }

    /// Subscribes and waits for the server to confirm it.
    pub async fn subscribe(&mut self, destination: &str) -> Result<()> {
        let subscribe = Frame::new(Command::Subscribe)
            .with_header("id", "sub-0")
            .with_header("destination", destination)
            .with_header("ack", "auto")
            .with_header("receipt", "subscribed");
        self.writer.send(&subscribe).await?;
        loop {
            let frame = self.reader.next_frame().await?;
            match frame.command {
                Command::Receipt => return Ok(()),
                Command::Error => return Err(format!("SUBSCRIBE refused: {}", error_text(&frame)).into()),
                _ => {}
            }
        }
    }

    pub fn split(self) -> (Writer, Reader) {
        (self.writer, self.reader)
    }
}

impl Writer {
    pub async fn send(&mut self, frame: &Frame) -> Result<()> {
        // stomp.js sends text frames; so do we.
        self.0.send(Message::Text(Utf8Bytes::try_from(encode(frame))?)).await?;
        Ok(())
    }
}

impl Reader {
    /// The next frame, skipping heart-beats.
    pub async fn next_frame(&mut self) -> Result<Frame> {
        loop {
            while let Some(event) = self.decoder.next_event()? {
                if let Event::Frame(frame) = event {
                    return Ok(frame);
                }
            }
            match self.stream.next().await {
                Some(Ok(Message::Text(text))) => self.decoder.push(text.as_bytes())?,
                Some(Ok(Message::Binary(bytes))) => self.decoder.push(&bytes)?,
                Some(Ok(Message::Close(_))) | None => return Err("connection closed".into()),
                Some(Ok(_)) => {}
                Some(Err(err)) => return Err(err.into()),
            }
        }
    }
}

/// An ERROR frame's `message` header and body, for reports.
pub fn error_text(frame: &Frame) -> String {
    let message = frame.header("message").unwrap_or_default();
    let body = String::from_utf8_lossy(&frame.body);
    format!("{message} {}", body.trim()).trim().to_owned()
}
