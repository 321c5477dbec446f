//! `AuthUser`: the caller proven by a bearer access token that is valid and not revoked.

use super::state::Authenticator;
use super::tokens::TokenError;
use crate::error::ApiError;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: String,
    pub session_id: String,
    /// Expiry of the presented token (unix seconds).
    pub expires_at: i64,
}

/// The token from `Authorization: Bearer …` (scheme case-insensitive).
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|token| !token.is_empty())
}

impl<S> FromRequestParts<S> for AuthUser
where
    Authenticator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("missing_token", "send an access token as `Authorization: Bearer <token>`")
        })?;
        let token = header.to_str().ok().and_then(bearer_token).ok_or_else(|| {
            ApiError::unauthorized("invalid_token", "the Authorization header is not a bearer token")
        })?;
        authenticate(&Authenticator::from_ref(state), token).await
    }
}

/// Verifies an access token and checks that its session is still live. Shared by every
/// transport that carries the token (REST, SSE, STOMP CONNECT).
pub async fn authenticate(auth: &Authenticator, token: &str) -> Result<AuthUser, ApiError> {
    let claims = auth.tokens.verify(token).map_err(|err| match err {
        TokenError::Expired => ApiError::unauthorized("token_expired", err.to_string()),
        TokenError::Invalid => ApiError::unauthorized("invalid_token", err.to_string()),
    })?;
    if !auth.sessions.is_live(&claims.sid).await? {
        return Err(session_ended());
    }
    Ok(AuthUser { user_id: claims.sub.clone(), session_id: claims.sid.clone(), expires_at: claims.exp })
}

/// Whether the caller's session is still live (a long-lived stream asks again from time to time).
pub async fn still_live(auth: &Authenticator, caller: &AuthUser) -> anyhow::Result<bool> {
    auth.sessions.is_live(&caller.session_id).await
}

pub fn session_ended() -> ApiError {
    ApiError::unauthorized("token_revoked", "this session has ended; log in again")
}
