//! Renders every error response as RFC 9457 `application/problem+json`.
//!
//! Handlers attach a [`Problem`] (see [`crate::error`]); responses produced elsewhere (router
//! 404/405, extractor rejections, the body limit, the timeout layer, a caught panic) arrive as a
//! bare status and are given a problem here, so clients meet exactly one error shape.

use super::REQUEST_ID;
use crate::error::Problem;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

pub const CONTENT_TYPE: &str = "application/problem+json";
/// How much of an unstructured error body is kept as the problem's detail.
const MAX_DETAIL_BYTES: usize = 512;

/// What an error's problem document names besides the error: the path asked for and the
/// request's id. Taken from the request before it is handed on (cheap clones of shared bytes).
pub struct Origin {
    path: Uri,
    request_id: Option<HeaderValue>,
}

impl Origin {
    pub fn of<B>(request: &Request<B>) -> Self {
        Self { path: request.uri().clone(), request_id: request.headers().get(&REQUEST_ID).cloned() }
    }
}

/// Gives `response` its problem document if it is an error: from the [`Problem`] a handler
/// attached, or from its bare status.
pub async fn render(origin: Origin, mut response: Response) -> Response {
    let problem = response.extensions_mut().remove::<Problem>();
    let status = response.status();
    let needs_rendering = problem.is_some()
        || ((status.is_client_error() || status.is_server_error()) && !is_problem(&response));
    if !needs_rendering {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let problem = match problem {
        Some(problem) => problem,
        None => from_status(status, body).await,
    };
    let request_id = origin.request_id.as_ref().and_then(|value| value.to_str().ok());
    let mut body = Map::new();
    body.insert("type".into(), json!(format!("https://weatherwise.dev/problems/{}", problem.code)));
    body.insert("title".into(), json!(problem.title));
    body.insert("status".into(), json!(problem.status.as_u16()));
    if let Some(detail) = problem.detail {
        body.insert("detail".into(), json!(detail));
    }
    body.insert("instance".into(), json!(origin.path.path()));
    body.insert("code".into(), json!(problem.code));
    body.insert("request_id".into(), json!(request_id));
    if let Some(Value::Object(extra)) = problem.extra {
        body.extend(extra);
    }
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    parts.status = problem.status;
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(CONTENT_TYPE.as_bytes()))
}

/// A problem for a response that carries only a status and perhaps a plain-text reason.
async fn from_status(status: StatusCode, body: Body) -> Problem {
    let body = axum::body::to_bytes(body, MAX_DETAIL_BYTES * 4).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let detail = (!text.trim().is_empty() && !status.is_server_error()).then(|| truncate(text.trim()));
    let (code, title) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "Bad request"),
        StatusCode::UNAUTHORIZED => ("unauthorized", "Unauthorized"),
        StatusCode::NOT_FOUND => ("not_found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "Method not allowed"),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "Request timeout"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "Payload too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "Unsupported media type"),
        StatusCode::UNPROCESSABLE_ENTITY => ("validation_failed", "Validation failed"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "Too many requests"),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "Service unavailable"),
        status if status.is_server_error() => ("internal", "Internal server error"),
        _ => ("client_error", "Client error"),
    };
    Problem { status, code, title, detail, extra: None }
}

fn truncate(text: &str) -> String {
    if text.len() <= MAX_DETAIL_BYTES {
        return text.to_owned();
    }
    let mut end = MAX_DETAIL_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Router fallback: an unknown path.
pub async fn not_found() -> Response {
    crate::error::ApiError::NotFound { what: "resource" }.into_response()
}

/// A panic in a handler is logged and answered 500; [`render`] makes that a problem.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "handler panicked");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}
