//! The one error type of the HTTP layer, mapped once to RFC 9457 `application/problem+json`.
//!
//! Handlers return [`ApiError`]. Its `IntoResponse` attaches a [`Problem`] to the response as an
//! extension; [`crate::http::problem::render`] then writes the body with the request id and the
//! path, and also turns every other 4xx/5xx (router 404/405, body-limit 413, timeouts) into a
//! problem, so no error leaves the server in another shape.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One field-level complaint inside a validation problem.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// A conflict the client needs data to resolve; `extra` travels as members of the problem.
    #[error("{detail}")]
    ConflictWith { code: &'static str, detail: String, extra: Value },
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    /// 429 with `Retry-After` and a code of its own: a part of the server at its budget.
    #[error("{detail}")]
    Throttled { code: &'static str, detail: String, retry_after_secs: u64 },
    #[error("{detail}")]
    PayloadTooLarge { code: &'static str, detail: String },
    #[error("{detail}")]
    UnsupportedMediaType { code: &'static str, detail: String },
    /// Well-formed input the server understands and refuses (a photo that is animated, say).
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("{detail}")]
    Upstream { code: &'static str, detail: String },
    #[error("{detail}")]
    Unavailable { code: &'static str, detail: String },
    /// 503 with `Retry-After`: the server is at a capacity it keeps on purpose.
    #[error("{detail}")]
    Busy { code: &'static str, detail: String, retry_after_secs: u64 },
    /// Anything the client cannot act on; logged in full, answered as a bare 500.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What the problem renderer needs; carried as a response extension.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: Option<String>,
    pub extra: Option<Value>,
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest { code, detail: detail.into() }
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Unauthorized { code, detail: detail.into() }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict { code, detail: detail.into() }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError { field: field.into(), message: message.into() }])
    }

    fn problem(&self) -> Problem {
        let (status, code, title) = match self {
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, *code, "Bad request"),
            Self::Validation(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Validation failed")
            }
            Self::Unauthorized { code, .. } => (StatusCode::UNAUTHORIZED, *code, "Unauthorized"),
            Self::Forbidden { code, .. } => (StatusCode::FORBIDDEN, *code, "Forbidden"),
            Self::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            Self::Conflict { code, .. } | Self::ConflictWith { code, .. } => {
                (StatusCode::CONFLICT, *code, "Conflict")
            }
            Self::PayloadTooLarge { code, .. } => (StatusCode::PAYLOAD_TOO_LARGE, *code, "Payload too large"),
            Self::UnsupportedMediaType { code, .. } => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, *code, "Unsupported media type")
            }
            Self::Unprocessable { code, .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, *code, "Unprocessable content")
            }
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many requests"),
            Self::Throttled { code, .. } => (StatusCode::TOO_MANY_REQUESTS, *code, "Too many requests"),
            Self::Upstream { code, .. } => (StatusCode::BAD_GATEWAY, *code, "Upstream service failed"),
            Self::Unavailable { code, .. } => (StatusCode::SERVICE_UNAVAILABLE, *code, "Service unavailable"),
            Self::Busy { code, .. } => (StatusCode::SERVICE_UNAVAILABLE, *code, "Busy"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal server error"),
        };
        let detail = match self {
            Self::Internal(_) => None,
            Self::RateLimited { retry_after_secs } => Some(format!("try again in {retry_after_secs} s")),
            other => Some(other.to_string()),
        };
        let extra = match self {
            Self::Validation(errors) => Some(serde_json::json!({ "errors": errors })),
            Self::ConflictWith { extra, .. } => Some(extra.clone()),
            _ => None,
        };
        Problem { status, code, title, detail, extra }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(err) = &self {
            tracing::error!(error = ?err, "request failed");
        }
        let problem = self.problem();
        let mut response = problem.status.into_response();
        if let Self::RateLimited { retry_after_secs }
        | Self::Busy { retry_after_secs, .. }
        | Self::Throttled { retry_after_secs, .. } = self
        {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
        }
        response.extensions_mut().insert(problem);
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        Self::Internal(err.into())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
