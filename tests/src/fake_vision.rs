//! A local stand-in for an OpenAI-compatible vision endpoint (`POST /chat/completions`),
//! speaking the real format: `choices[0].message.content` as a JSON string, `finish_reason`,
//! `refusal`, `usage`, and OpenAI's error envelope. Each test scripts how it behaves and reads
//! back what it was asked.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the fake answers.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// A completion whose content is this text, costing `tokens`.
    Answer { content: String, tokens: u32 },
    /// The model declines (`message.refusal` set).
    Refuse,
    /// An HTTP error with OpenAI's error body.
    Status(u16),
    /// 429 with a `Retry-After` header.
    RateLimited { retry_after_secs: u32 },
    /// Answers only after this long.
    Slow(Duration),
    /// HTTP 200 with a body that is not JSON.
    Garbage,
    /// HTTP 200 with this many bytes of JSON whitespace, made as they are sent (chunked, no
    /// `Content-Length`), so only a reader that stops early gets through it cheaply.
    Oversized { bytes: usize },
    /// Holds every request until [`FakeVision::release`], then answers as the inner behaviour:
    /// the test knows a call is in flight (its request arrived) and decides when it ends.
    Held(Box<Behaviour>),
}

impl Behaviour {
    /// The answer the bundled policy's schema expects.
    pub fn grade(matches: bool, confidence: f32) -> Self {
        let content = json!({
            "matches": matches,
            "confidence": confidence,
            "reason": if matches { "The photo shows what the mission asks." } else { "Something else is shown." },
            "text_instructions_seen": false,
        });
        Self::Answer { content: content.to_string(), tokens: 120 }
    }
}

struct Inner {
    behaviour: Behaviour,
    requests: Vec<Value>,
}

#[derive(Clone)]
pub struct FakeVision {
    inner: Arc<Mutex<Inner>>,
    released: Arc<tokio::sync::watch::Sender<bool>>,
    pub address: SocketAddr,
}

impl FakeVision {
    pub async fn start(behaviour: Behaviour) -> Self {
        let inner = Arc::new(Mutex::new(Inner { behaviour, requests: Vec::new() }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake vision");
        let address = listener.local_addr().expect("address");
        let released = Arc::new(tokio::sync::watch::Sender::new(false));
        let fake = Self { inner, released, address };
        let router = Router::new()
            .route("/v1/chat/completions", post(completions))
            .layer(axum::extract::DefaultBodyLimit::max(32 << 20))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        fake
    }

    /// The base URL to configure (`vision.base_url`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.address)
    }

    pub fn set(&self, behaviour: Behaviour) {
        self.inner.lock().expect("lock").behaviour = behaviour;
    }

    pub fn requests(&self) -> Vec<Value> {
        self.inner.lock().expect("lock").requests.clone()
    }

    /// Lets held requests (see [`Behaviour::Held`]) answer, and later ones answer at once.
    pub fn release(&self) {
        self.released.send_replace(true);
    }

    /// Waits until `count` requests have arrived (they may still be held).
    pub async fn wait_for_requests(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while self.requests().len() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{count} vision requests did not arrive within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn completions(State(fake): State<FakeVision>, Json(request): Json<Value>) -> Response {
    let mut behaviour = {
        let mut inner = fake.inner.lock().expect("lock");
        inner.requests.push(request);
        inner.behaviour.clone()
    };
    while let Behaviour::Held(then) = behaviour {
        let _ = fake.released.subscribe().wait_for(|released| *released).await;
        behaviour = *then;
    }
    let error = |status: StatusCode, kind: &str| {
        let body =
            json!({"error": {"message": "scripted failure", "type": kind, "param": null, "code": null}});
        (status, Json(body)).into_response()
    };
    match behaviour {
        Behaviour::Answer { content, tokens } => {
            Json(completion(json!(content), Value::Null, tokens)).into_response()
        }
        Behaviour::Refuse => {
            Json(completion(Value::Null, json!("I can't help with that."), 12)).into_response()
        }
        Behaviour::Status(code) => error(StatusCode::from_u16(code).expect("status"), "server_error"),
        Behaviour::RateLimited { retry_after_secs } => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error");
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            response
        }
        Behaviour::Slow(delay) => {
            tokio::time::sleep(delay).await;
            Json(completion(json!("{}"), Value::Null, 10)).into_response()
        }
        Behaviour::Garbage => {
            ([(header::CONTENT_TYPE, "application/json")], "{\"choices\": [").into_response()
        }
        Behaviour::Oversized { bytes } => {
            static SPACES: [u8; 64 * 1024] = [b' '; 64 * 1024];
            let chunks = bytes.div_ceil(SPACES.len());
            let body = futures::stream::iter(
                (0..chunks).map(|_| Ok::<_, std::convert::Infallible>(bytes::Bytes::from_static(&SPACES))),
            );
            ([(header::CONTENT_TYPE, "application/json")], axum::body::Body::from_stream(body))
                .into_response()
        }
        Behaviour::Held(_) => unreachable!("held requests are released above"),
    }
}

fn completion(content: Value, refusal: Value, tokens: u32) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_760_000_000,
        "model": "fake-vision",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": refusal},
            "finish_reason": "stop",
            "logprobs": null
        }],
        "usage": {"prompt_tokens": tokens.saturating_sub(10), "completion_tokens": 10.min(tokens), "total_tokens": tokens}
    })
}
