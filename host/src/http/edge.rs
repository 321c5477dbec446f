//! The middleware every request passes once, as one service: the request id (the client's, or
//! a new UUID) on the request and its answer, the request's tracing span, control characters
//! refused in the path and query, the request timeout (408), a handler's panic answered 500,
//! the problem document of an error, `Connection: close` when the body was left unread, and the
//! latency histogram by route.
//!
//! Written as one `tower` service rather than a layer for each concern: every layer would wrap
//! the request's future in its own (boxed or moved) future and the body in its own body, and on
//! a route as cheap as `/healthz` those wrappers cost more than the route.

use super::metrics::{UNMATCHED, record_request};
use super::{REQUEST_ID, control_chars, problem, unread_body};
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use futures::future::BoxFuture;
use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower::{Layer, Service};
use tracing::Instrument;

/// A client's own request id is kept if it is at most this long (and visible ASCII).
const MAX_CLIENT_REQUEST_ID: usize = 128;

#[derive(Debug, Clone, Copy)]
pub struct EdgeLayer {
    /// How long a handler may take before the request is answered 408.
    pub request_timeout: Duration,
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Edge { inner, request_timeout: self.request_timeout }
    }
}

#[derive(Debug, Clone)]
pub struct Edge<S> {
    inner: S,
    request_timeout: Duration,
}

impl<S> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let started = Instant::now();
        let request_id = request_id_of(&mut request);
        let route = request.extensions().get::<MatchedPath>().cloned();
        let method = request.method().clone();
        let span = tracing::info_span!(
            "http",
            method = %method,
            path = %request.uri().path(),
            request_id = request_id.to_str().unwrap_or("-"),
        );
        let origin = problem::Origin::of(&request);
        let (request, body_read) = unread_body::track(request);
        let answer = match control_chars::refused_in_uri(request.uri()) {
            Some(refusal) => Answer::Now(refusal.into_response()),
            // A panic while the handler's future is made is a panic of the handler all the same.
            None => match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
                Ok(future) => Answer::Later(future),
                Err(panic) => Answer::Now(problem::panic_response(panic)),
            },
        };
        let timeout = self.request_timeout;
        Box::pin(
            async move {
                let response = match answer {
                    Answer::Now(response) => response,
                    Answer::Later(future) => handled(future, timeout).await,
                };
                let mut response = problem::render(origin, response).await;
                unread_body::close_if_unread(&body_read, &mut response);
                response.headers_mut().insert(REQUEST_ID, request_id);
                let took = started.elapsed();
                let status = response.status().as_u16();
                if response.status().is_server_error() {
                    tracing::error!(status, ?took, "answered with a server error");
                } else {
                    tracing::debug!(status, ?took, "answered");
                }
                record_request(route.as_ref().map_or(UNMATCHED, MatchedPath::as_str), &method, status, took);
                Ok(response)
            }
            .instrument(span),
        )
    }
}

enum Answer<F> {
    /// Answered at the edge, without the handler.
    Now(Response),
    Later(F),
}

/// The handler's answer; 408 once `timeout` has passed, 500 if it panics.
async fn handled<F>(future: F, timeout: Duration) -> Response
where
    F: Future<Output = Result<Response, Infallible>>,
{
    match tokio::time::timeout(timeout, AssertUnwindSafe(future).catch_unwind()).await {
        Ok(Ok(Ok(response))) => response,
        Ok(Ok(Err(never))) => match never {},
        Ok(Err(panic)) => problem::panic_response(panic),
        Err(_elapsed) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// The request's id: the client's `X-Request-Id` when it sent a usable one, else a new UUID,
/// which is then set on the request for the handlers and the problem documents to read.
fn request_id_of(request: &mut Request) -> HeaderValue {
    let sent = request.headers().get(&REQUEST_ID).filter(|value| {
        let bytes = value.as_bytes();
        !bytes.is_empty() && bytes.len() <= MAX_CLIENT_REQUEST_ID && bytes.iter().all(u8::is_ascii_graphic)
    });
    if let Some(sent) = sent {
        return sent.clone();
    }
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
    let value = HeaderValue::from_str(id).expect("a UUID is visible ASCII");
    request.headers_mut().insert(REQUEST_ID, value.clone());
    value
}
