//! The HTTP edge: the router every domain merges into, and the middleware stack that makes
//! every response carry a request id, every error a problem document, and every route a
//! latency histogram.

pub mod client_ip;
pub mod extract;
pub mod metrics;
pub mod problem;

use crate::app::SharedState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode};
use axum::middleware;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: domain routers under `/api/v1`, operations at the root.
pub fn router(state: SharedState) -> Router {
    let api = Router::new()
        .merge(crate::auth::routes::router())
        .merge(crate::accounts::routes::router())
        .merge(crate::community::routes::router())
        .merge(crate::plugins::routes::router())
        .merge(crate::weather::routes::router())
        .merge(crate::points::routes::router())
        .merge(crate::notifications::routes::router())
        .merge(crate::missions::routes::router())
        .merge(crate::verification::routes::router());
    let config = &state.config.http;
    Router::new()
        .nest("/api/v1", api)
        .merge(crate::ops::router())
        .fallback(problem::not_found)
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.request_timeout_secs.max(1)),
        ))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(middleware::from_fn(problem::render))
        .layer(middleware::from_fn(metrics::record))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            let request_id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path(), request_id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
