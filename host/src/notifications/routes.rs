//! `GET /notifications/stream`: the caller's events as Server-Sent Events.
//!
//! The stream registers for live events first, then replays the backlog after `Last-Event-ID`
//! (or starts from the latest event when there is none), then passes live events on. Event ids
//! are per-user numbers in commit order, so one rule gives no duplicate and no gap: an event at
//! or below the last one sent is dropped, and an event further ahead than the next number sends
//! the stream back to the backlog for what lies between (events published out of order, or
//! replayed by the bus).

use super::hub::{Refusal, Registration};
use super::notifier::Notifier;
use super::store::Event;
use crate::auth::extract::still_live;
use crate::auth::{AuthUser, Authenticator};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::response::sse::{self, KeepAlive, Sse};
use axum::routing::get;
use futures::Stream;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::time::Instant;

/// Events read from the backlog per query.
const BACKLOG_PAGE: i64 = 100;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Notifier: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new().route("/notifications/stream", get(stream))
}

#[utoipa::path(get, path = "/api/v1/notifications/stream", tag = "notifications", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "resume after this event id")),
    responses(
        (status = 200, content_type = "text/event-stream",
            description = "`id:` (per-user number), `event:` (kind, e.g. `points.credited`), `data:` (JSON); keep-alive comments"),
        (status = 400, description = "Last-Event-ID is not an event id"),
        (status = 429, description = "too many open streams for this user")))]
#[tracing::instrument(skip_all)]
pub async fn stream(
    State(notifier): State<Notifier>,
    State(authenticator): State<Authenticator>,
    caller: AuthUser,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<sse::Event, Infallible>>>> {
    let resume_after = last_event_id(&headers)?;
    let registration =
        notifier.register(&caller.user_id, &caller.session_id).map_err(|refusal| match refusal {
            Refusal::TooManyStreams => ApiError::RateLimited { retry_after_secs: 5 },
            Refusal::ShuttingDown => ApiError::Unavailable {
                code: "shutting_down",
                detail: "this instance is shutting down".into(),
            },
        })?;
    // Without Last-Event-ID the stream starts now; the read comes after registering, so an event
    // committed in between is either counted here or delivered live.
    let last_sent = match resume_after {
        Some(seq) => seq,
        None => notifier.store().last_seq(&caller.user_id).await?,
    };
    let session = SessionWatch::new(authenticator, caller, notifier.session_check());
    let feed = Feed {
        notifier: notifier.clone(),
        session,
        last_sent,
        pending: VecDeque::new(),
        read_backlog: resume_after.is_some(),
        registration,
    };
    let keep_alive = notifier.keep_alive();
    Ok(Sse::new(futures::stream::unfold(feed, Feed::next)).keep_alive(KeepAlive::new().interval(keep_alive)))
}

/// `Last-Event-ID`, absent or a non-negative number; anything else is a 400.
fn last_event_id(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let invalid = || {
        ApiError::bad_request("invalid_last_event_id", "Last-Event-ID must be an event id this server sent")
    };
    let text = value.to_str().map_err(|_| invalid())?.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    text.parse::<i64>().map(Some).map_err(|_| invalid())
}

struct Feed {
    notifier: Notifier,
    session: SessionWatch,
    last_sent: i64,
    pending: VecDeque<Event>,
    read_backlog: bool,
    registration: Registration,
}

impl Feed {
    async fn next(mut self) -> Option<(Result<sse::Event, Infallible>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                if event.seq <= self.last_sent {
                    continue;
                }
                self.last_sent = event.seq;
                return Some((Ok(to_sse(&event)), self));
            }
            if self.read_backlog {
                let page = match self
                    .notifier
                    .store()
                    .after(&self.session.caller.user_id, self.last_sent, BACKLOG_PAGE)
                    .await
                {
                    Ok(page) => page,
                    Err(err) => {
                        // Ending the stream is safe: the client resumes from what it received.
                        tracing::warn!(error = %err, "reading the notification backlog failed");
                        return None;
                    }
                };
                self.read_backlog = page.len() as i64 == BACKLOG_PAGE;
                self.pending.extend(page);
                continue;
            }
            // `None`: the hub closed this stream (too slow, its session ended, or shutting down).
            let event = tokio::select! {
                event = self.registration.receiver.recv() => event?,
                () = self.session.next_check() => {
                    if self.session.is_over().await {
                        return None;
                    }
                    continue;
                }
            };
            if event.seq == self.last_sent + 1 {
                self.pending.push_back(event);
            } else if event.seq > self.last_sent {
                self.read_backlog = true;
            }
        }
    }
}

/// When a stream must end because its session did: the access token's expiry, and a periodic
/// re-check in case the announcement of the session's end was lost.
struct SessionWatch {
    authenticator: Authenticator,
    caller: AuthUser,
    token_expires: Instant,
    every: Duration,
    next: Instant,
}

impl SessionWatch {
    fn new(authenticator: Authenticator, caller: AuthUser, every: Duration) -> Self {
        let left = caller.expires_at.saturating_sub(now_ms() / 1000).max(0);
        let now = Instant::now();
        let token_expires = now + Duration::from_secs(left.unsigned_abs());
        Self { authenticator, caller, token_expires, every, next: now + every }
    }

    /// Sleeps until the next check is due.
    async fn next_check(&self) {
        tokio::time::sleep_until(self.next.min(self.token_expires)).await;
    }

    /// True once the token has expired or the session has ended (or cannot be checked: the
    /// client resumes from what it received, with a token that can be).
    async fn is_over(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.token_expires {
            return true;
        }
        self.next = now + self.every;
        !still_live(&self.authenticator, &self.caller).await.unwrap_or(false)
    }
}

fn to_sse(event: &Event) -> sse::Event {
    sse::Event::default().id(event.seq.to_string()).event(&event.kind).data(event.payload.to_string())
}
