//! Extractors whose rejections are problems with precise codes instead of axum's plain text.

use crate::error::{ApiError, FieldError};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// JSON body: 415 without a JSON content type, 400 for malformed JSON, 422 for JSON of the
/// wrong shape (wrong types, missing or unknown fields), 413 past the body limit.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
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
