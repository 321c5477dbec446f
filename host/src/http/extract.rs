//! Extractors whose rejections are problems with precise codes instead of axum's plain text.
//! Control characters in paths and queries are refused before extraction
//! ([`super::control_chars::refused_in_uri`], asked by the edge); in JSON bodies, here.

use super::control_chars;
use crate::error::{ApiError, FieldError};
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// JSON body: 415 without a JSON content type, 400 for malformed JSON, 422 for JSON of the
/// wrong shape (wrong types, missing or unknown fields) or holding a control character in any
/// string, 413 past the body limit.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(request.headers()) {
            return Err(StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response());
        }
        let body = Bytes::from_request(request, state).await.map_err(|err| json_rejection(err.into()))?;
        let axum::Json(value) = axum::Json::<T>::from_bytes(&body).map_err(json_rejection)?;
        if let Some(field) = control_chars::refused_in_json(&body) {
            return Err(ApiError::Validation(vec![field]).into_response());
        }
        Ok(Self(value))
    }
}

/// `application/json` or any `application/*+json`, parameters aside (axum's own rule).
fn has_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A resource that path ids name: what a 404 calls it.
pub trait Resource {
    const NAME: &'static str;
}

/// The id of an `R` from the path. Ids are UUIDs, so any other text names nothing and is
/// answered 404 before a lookup.
pub struct PathId<R> {
    pub id: String,
    resource: PhantomData<fn() -> R>,
}

impl<S, R> FromRequestParts<S> for PathId<R>
where
    R: Resource,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let not_found = || ApiError::NotFound { what: R::NAME };
        let Path(id) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| not_found())?;
        uuid::Uuid::try_parse(&id).map_err(|_| not_found())?;
        Ok(Self { id, resource: PhantomData })
    }
}

fn json_rejection(rejection: JsonRejection) -> Response {
    let detail = rejection.body_text();
    match rejection {
        JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response(),
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("invalid_json", detail).into_response(),
        JsonRejection::JsonDataError(_) => {
            ApiError::Validation(vec![crate::error::FieldError { field: "body".into(), message: detail }])
                .into_response()
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            StatusCode::PAYLOAD_TOO_LARGE.into_response()
        }
        other => ApiError::bad_request("invalid_body", other.body_text()).into_response(),
    }
}

/// Query string: 400 `invalid_query` when it does not parse into `T`.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> Response {
    ApiError::bad_request("invalid_query", rejection.body_text()).into_response()
}

/// A coordinate from a query parameter: a field error when missing or not a number.
pub fn parse_coordinate(name: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<f64> {
    let value = match raw.map(str::parse::<f64>) {
        Some(Ok(value)) => Some(value),
        Some(Err(_)) => None,
        None => {
            errors.push(FieldError { field: name.into(), message: "is required".into() });
            return None;
        }
    };
    if value.is_none() {
        errors.push(FieldError { field: name.into(), message: "must be a number".into() });
    }
    value
}
