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
use axum::http::HeaderName;
use std::time::Duration;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the application's routes in the stack every request passes: the problem fallback for
/// unknown paths, the body limit, and the edge (request id, tracing span, control characters
/// refused in the path and query, the timeout (408), panics caught as 500, problem rendering,
/// metrics, `Connection: close` for unread bodies).
pub fn with_middleware(routes: Router, config: &HttpConfig) -> Router {
    routes
        .fallback(problem::not_found)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(edge::EdgeLayer { request_timeout: Duration::from_secs(config.request_timeout_secs.max(1)) })
}
