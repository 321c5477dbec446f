//! A small Server-Sent Events reader over a streaming reqwest response: enough of the format
//! (`id:`, `event:`, `data:` fields, `:` comments, events ended by a blank line) to check what a
//! browser's `EventSource` would see.

use std::collections::VecDeque;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

impl SseEvent {
    /// The data as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|err| panic!("data {:?} is not JSON: {err}", self.data))
    }
}

pub struct SseStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
    ready: VecDeque<SseEvent>,
    current: Option<SseEvent>,
    /// Keep-alive comments seen so far.
    pub comments: usize,
}

impl SseStream {
    /// Opens `url` with the bearer token (and `Last-Event-ID` when given); the answer must be a
    /// 200 event stream.
    pub async fn open(http: &reqwest::Client, url: &str, token: &str, last_event_id: Option<&str>) -> Self {
        let response = Self::request(http, url, token, last_event_id).await;
        assert_eq!(response.status(), 200, "opening the event stream");
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(content_type.starts_with("text/event-stream"), "content type {content_type}");
        Self { response, buffer: Vec::new(), ready: VecDeque::new(), current: None, comments: 0 }
    }

    /// The bare response, for requests that must be refused.
    pub async fn request(
        http: &reqwest::Client,
        url: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> reqwest::Response {
        let mut request = http.get(url).bearer_auth(token).header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        request.send().await.expect("request")
    }

    /// The next event, or `None` when none arrives within `wait` (or the stream ended).
    pub async fn next_within(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(event);
            }
            let chunk = match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return None,
                Ok(Err(err)) => panic!("reading the event stream: {err}"),
                Ok(Ok(None)) => return None,
                Ok(Ok(Some(chunk))) => chunk,
            };
            self.buffer.extend_from_slice(&chunk);
            while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                let line = String::from_utf8(line).expect("UTF-8 event stream");
                self.line(line.trim_end_matches(['\n', '\r']));
            }
        }
    }

    /// True when the server ends the stream within `wait`; events and comments meanwhile are
    /// passed over.
    pub async fn closes_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return false,
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None) | Err(_)) => return true,
            }
        }
    }

    /// The next event, which must come within 10 seconds.
    pub async fn next(&mut self) -> SseEvent {
        self.next_within(Duration::from_secs(10)).await.expect("an event within 10 s")
    }

    fn line(&mut self, line: &str) {
        if line.is_empty() {
            if let Some(event) = self.current.take() {
                self.ready.push_back(event);
            }
            return;
        }
        if line.starts_with(':') {
            self.comments += 1;
            return;
        }
        let (field, value) =
            line.split_once(':').map_or((line, ""), |(f, v)| (f, v.strip_prefix(' ').unwrap_or(v)));
        let event = self.current.get_or_insert(SseEvent { id: None, event: None, data: String::new() });
        match field {
            "id" => event.id = Some(value.to_owned()),
            "event" => event.event = Some(value.to_owned()),
            "data" => {
                if !event.data.is_empty() {
                    event.data.push('\n');
                }
                event.data.push_str(value);
            }
            _ => {}
        }
    }
}
