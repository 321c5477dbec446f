//! The HTTP edge: the middleware stack around every domain's routes that makes
//! every response carry a request id, every error a problem document, and every route a
//! latency histogram.

pub mod client_ip;
pub mod control_chars;
pub mod cursor;
pub mod edge;
pub mod extract;
pub mod metrics;
pub mod pagination;
pub mod problem;
pub mod server;
pub mod unread_body;
pub mod watchdog;

use crate::config::HttpConfig;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode};
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the application's routes in the stack every request passes: the problem fallback for
/// unknown paths, panics caught as 500, the timeout (408), the body limit, the edge (control
/// characters refused in the path and query, problem rendering, metrics, `Connection: close`
/// for unread bodies), tracing and the request id.
pub fn with_middleware(routes: Router, config: &HttpConfig) -> Router {
    routes
        .fallback(problem::not_found)
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.request_timeout_secs.max(1)),
        ))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(edge::EdgeLayer)
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            let request_id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path(), request_id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
