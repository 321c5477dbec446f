//! `AuthUser`: the caller proven by a bearer access token that is valid and not revoked.

use super::state::Authenticator;
use super::tokens::TokenError;
use crate::accounts::Role;
use crate::error::ApiError;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: String,
    pub role: Role,
    pub session_id: String,
    /// Expiry of the presented token (unix seconds).
    pub expires_at: i64,
}

/// State-store key marking a session revoked for as long as its access tokens could live.
pub fn revoked_session_key(session_id: &str) -> String {
    format!("revoked-session:{session_id}")
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

/// Verifies an access token and checks its session against the revocation marks. Shared by
/// every transport that carries the token (REST, SSE, STOMP CONNECT).
pub async fn authenticate(auth: &Authenticator, token: &str) -> Result<AuthUser, ApiError> {
    let claims = auth.tokens.verify(token).map_err(|err| match err {
        TokenError::Expired => ApiError::unauthorized("token_expired", err.to_string()),
        TokenError::Invalid => ApiError::unauthorized("invalid_token", err.to_string()),
    })?;
    let revoked = auth.revocations.get_many(&[&revoked_session_key(&claims.sid)]).await?;
    if revoked.first().is_some_and(Option::is_some) {
        return Err(ApiError::unauthorized("token_revoked", "this session has ended; log in again"));
    }
    Ok(AuthUser {
        user_id: claims.sub,
        role: Role::parse(&claims.role),
        session_id: claims.sid,
        expires_at: claims.exp,
    })
}
