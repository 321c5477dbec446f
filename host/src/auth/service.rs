//! The rules of signing up, logging in, refreshing and ending sessions, as plain functions of
//! the shared state; the routes only translate HTTP to these.

use super::extract::AuthUser;
use super::password::check_strength;
use super::rate_limit;
use super::sessions::{Rotation, hash_refresh_token, new_refresh_token};
use super::state::AuthService;
use crate::accounts::model::{UserView, normalize_email};
use crate::accounts::nickname::Nickname;
use crate::accounts::{NewUser, User, UserStoreError};
use crate::bus::topics;
use crate::bus::topics::SessionsEnded;
use crate::error::{ApiError, ApiResult, FieldError};
use serde::Serialize;
use std::net::IpAddr;

/// What a successful sign-up, login, refresh or Kakao login returns.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// Always `Bearer`.
    pub token_type: &'static str,
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque; send it to `/auth/refresh` once. Every refresh returns a new one.
    pub refresh_token: String,
    pub refresh_expires_in: i64,
    pub user: UserView,
}

pub struct SignupInput {
    pub email: String,
    pub password: String,
    pub nickname: String,
}

pub async fn signup(auth: &AuthService, ip: IpAddr, input: SignupInput) -> ApiResult<TokenPair> {
    rate_limit::check(auth.state.as_ref(), "signup-ip", &ip.to_string(), auth.rate_limits.signup_per_ip)
        .await?;
    let mut errors = Vec::new();
    let email = normalize_email(&input.email)
        .map_err(|message| errors.push(FieldError { field: "email".into(), message: message.into() }))
        .ok();
    let nickname = Nickname::parse(&input.nickname)
        .map_err(|message| errors.push(FieldError { field: "nickname".into(), message }))
        .ok();
    if let Err(message) = check_strength(&input.password) {
        errors.push(FieldError { field: "password".into(), message });
    }
    let (Some(email), Some(nickname)) = (email, nickname) else {
        return Err(ApiError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let limit = auth.rate_limits.signup_per_account;
    rate_limit::check(auth.state.as_ref(), "signup-account", &email, limit).await?;
    let password_hash = auth.passwords.hash(&input.password).await?;
    let user = auth
        .users
        .create(NewUser {
            email: Some(email),
            nickname: nickname.display,
            nickname_key: nickname.key,
            password_hash: Some(password_hash),
            kakao_id: None,
        })
        .await
        .map_err(store_error)?;
    announce(auth, "account.signed_up", &user.id).await;
    start_session(auth, &user).await
}

pub async fn login(auth: &AuthService, ip: IpAddr, email: &str, password: &str) -> ApiResult<TokenPair> {
    let limits = &auth.rate_limits;
    rate_limit::check(auth.state.as_ref(), "login-ip", &ip.to_string(), limits.login_per_ip).await?;
    let email = email.trim().to_lowercase();
    if email.len() > 254 || password.chars().count() > super::password::MAX_PASSWORD_CHARS {
        return Err(invalid_credentials());
    }
    // The account's own window counts one address's attempts, so a guesser elsewhere cannot
    // lock the owner out; the ceiling over all addresses stops guessing spread across many.
    let from_ip = format!("{email}|{ip}");
    rate_limit::check(auth.state.as_ref(), "login-account-ip", &from_ip, limits.login_per_account_from_ip)
        .await?;
    rate_limit::check(auth.state.as_ref(), "login-account", &email, limits.login_per_account).await?;
    let user = auth.users.by_email(&email).await.map_err(store_error)?;
    let stored = user.as_ref().and_then(|user| user.password_hash.as_deref());
    if !auth.passwords.verify(password, stored).await? {
        return Err(invalid_credentials());
    }
    let Some(user) = user else {
        return Err(invalid_credentials());
    };
    start_session(auth, &user).await
}

pub async fn refresh(auth: &AuthService, refresh_token: &str) -> ApiResult<TokenPair> {
    if refresh_token.is_empty() || refresh_token.len() > 128 {
        return Err(ApiError::unauthorized("invalid_refresh_token", "the refresh token is not valid"));
    }
    let (new_token, new_hash) = new_refresh_token();
    match auth.sessions.rotate(&hash_refresh_token(refresh_token), &new_hash).await? {
        Rotation::Rotated { user_id, session_id } => {
            let user = auth.users.by_id(&user_id).await.map_err(store_error)?.ok_or_else(|| {
                ApiError::unauthorized("invalid_refresh_token", "the account no longer exists")
            })?;
            token_pair(auth, &user, &session_id, new_token)
        }
        Rotation::Reused { user_id, session_id } => {
            tracing::warn!("refresh token reused: session revoked");
            metrics::counter!("refresh_token_reuse_total").increment(1);
            // Both holders' access tokens die with the session, not only the refresh tokens.
            end_sessions(auth, &user_id, std::slice::from_ref(&session_id)).await?;
            Err(ApiError::unauthorized(
                "refresh_token_reused",
                "this refresh token was already used; the session has been revoked",
            ))
        }
        Rotation::Invalid => Err(ApiError::unauthorized(
            "invalid_refresh_token",
            "the refresh token is unknown, expired or revoked",
        )),
    }
}

/// Checks the caller's password before a change only its owner may make (a new password,
/// deletion). Attempts are counted per account, right or wrong, so an access token in the
/// wrong hands cannot be used to guess the password.
pub async fn confirm_password(auth: &AuthService, user: &User, password: &str) -> ApiResult<bool> {
    let limit = auth.rate_limits.password_check_per_account;
    rate_limit::check(auth.state.as_ref(), "password-check", &user.id, limit).await?;
    Ok(auth.passwords.verify(password, user.password_hash.as_deref()).await?)
}

/// Ends the caller's session: its refresh family and every access token issued for it.
pub async fn logout(auth: &AuthService, caller: &AuthUser) -> ApiResult<()> {
    auth.sessions.revoke(&caller.session_id).await?;
    end_sessions(auth, &caller.user_id, std::slice::from_ref(&caller.session_id)).await
}

/// Ends every session of a user except `keep` (password change).
pub async fn end_other_sessions(auth: &AuthService, user_id: &str, keep: Option<&str>) -> ApiResult<()> {
    let revoked = auth.sessions.revoke_all(user_id, keep).await?;
    end_sessions(auth, user_id, &revoked).await
}

/// After the database has ended the sessions: their access tokens are refused from now on, on
/// every instance, and every instance closes their event streams.
pub async fn end_sessions(auth: &AuthService, user_id: &str, session_ids: &[String]) -> ApiResult<()> {
    if session_ids.is_empty() {
        return Ok(());
    }
    auth.live_sessions.ended(session_ids).await?;
    let ended = SessionsEnded { user_id: user_id.to_owned(), session_ids: session_ids.to_vec() };
    let message = serde_json::to_vec(&ended).map_err(anyhow::Error::from)?;
    if let Err(err) = auth.bus.publish(topics::SESSIONS, user_id, &message).await {
        // Streams also re-check their session periodically, so they close a little later.
        tracing::warn!(error = %err, "could not announce ended sessions");
    }
    Ok(())
}

pub async fn start_session(auth: &AuthService, user: &User) -> ApiResult<TokenPair> {
    let (refresh_token, hash) = new_refresh_token();
    let ttl_ms = i64::try_from(auth.config.refresh_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let session_id = auth
        .sessions
        .open(&user.id, &hash, ttl_ms)
        .await?
        .ok_or_else(|| ApiError::unauthorized("account_deleted", "this account no longer exists"))?;
    token_pair(auth, user, &session_id, refresh_token)
}

fn token_pair(
    auth: &AuthService,
    user: &User,
    session_id: &str,
    refresh_token: String,
) -> ApiResult<TokenPair> {
    let (access_token, _) = auth.tokens.issue(&user.id, user.role.as_str(), session_id)?;
    Ok(TokenPair {
        token_type: "Bearer",
        access_token,
        expires_in: auth.tokens.access_ttl_secs(),
        refresh_token,
        refresh_expires_in: i64::try_from(auth.config.refresh_ttl_secs).unwrap_or(i64::MAX),
        user: UserView::from(user),
    })
}

/// Tells other domains about an account change. The account itself is already committed, so
/// a bus outage is logged rather than failing the request.
pub async fn announce(auth: &AuthService, kind: &str, user_id: &str) {
    let payload = serde_json::json!({ "type": kind, "user_id": user_id, "at": crate::db::now_ms() });
    if let Err(err) = auth.bus.publish(topics::ACCOUNTS, user_id, payload.to_string().as_bytes()).await {
        tracing::warn!(error = %err, kind, "could not publish an account event");
    }
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "email or password is wrong")
}

pub fn store_error(err: UserStoreError) -> ApiError {
    match err {
        UserStoreError::EmailTaken => ApiError::conflict("email_taken", "this email is already registered"),
        UserStoreError::NicknameTaken => {
            ApiError::conflict("nickname_taken", "this nickname is already taken")
        }
        UserStoreError::KakaoTaken => {
            ApiError::conflict("kakao_taken", "this Kakao account is already linked")
        }
        UserStoreError::Database(err) => ApiError::from(err),
        UserStoreError::CacheUnavailable(err) => ApiError::Internal(err),
    }
}
