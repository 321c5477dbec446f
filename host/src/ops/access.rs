//! Who may read the operations endpoints that tell about the deployment (`/metrics`,
//! `/readyz`): anyone by default, so a probe or a scraper works out of the box on a private
//! network; only holders of the configured token once `[ops] token` is set, for deployments
//! whose port is reachable from outside. `/healthz` stays public: it tells nothing.

use crate::auth::extract::bearer_token;
use crate::config::Secret;
use crate::error::ApiError;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Shortest token accepted: it is the only thing between the internet and the deployment's
/// internals.
const MIN_TOKEN_BYTES: usize = 16;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsConfig {
    /// When set, `/metrics` and `/readyz` answer only `Authorization: Bearer <token>`.
    pub token: Option<Secret<String>>,
}

impl OpsConfig {
    pub fn validate(&self) -> Result<(), String> {
        match &self.token {
            Some(token) if token.expose().len() < MIN_TOKEN_BYTES => {
                Err(format!("ops.token must be at least {MIN_TOKEN_BYTES} bytes"))
            }
            _ => Ok(()),
        }
    }
}

/// The token the operations endpoints require, if any.
#[derive(Clone, Default)]
pub struct OpsAccess(Option<Arc<Secret<String>>>);

impl OpsAccess {
    pub fn from_config(config: &OpsConfig) -> Self {
        Self(config.token.clone().map(Arc::new))
    }
}

/// A caller allowed to read the operations endpoints.
pub struct Operator;

impl<S> FromRequestParts<S> for Operator
where
    OpsAccess: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let OpsAccess(Some(expected)) = OpsAccess::from_ref(state) else {
            return Ok(Self);
        };
        let presented =
            parts.headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(bearer_token);
        match presented {
            Some(token) if bool::from(token.as_bytes().ct_eq(expected.expose().as_bytes())) => Ok(Self),
            _ => Err(ApiError::unauthorized(
                "ops_token_required",
                "send the operations token as a bearer token",
            )),
        }
    }
}
