//! `/auth/*`: sign-up, login, refresh, logout, Kakao login.

use super::extract::AuthUser;
use super::kakao::KakaoError;
use super::service::{self, SignupInput, TokenPair};
use super::state::{AuthState, Authenticator};
use crate::accounts::nickname::{MAX_CHARS, Nickname};
use crate::accounts::{NewUser, User, UserStoreError};
use crate::error::{ApiError, ApiResult};
use crate::http::client_ip::ClientIp;
use crate::http::client_ip::TrustedProxies;
use crate::http::extract::{Json, Query};
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::Deserialize;
use std::time::Duration;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Authenticator: FromRef<S>,
    TrustedProxies: FromRef<S>,
{
    Router::new()
        .route("/auth/signup", post(signup))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/kakao/authorize", get(kakao_authorize))
        .route("/auth/kakao/callback", get(kakao_callback))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub email: String,
    /// 8 to 128 characters.
    pub password: String,
    /// 2 to 12 letters, digits, `_`, `-` or `.`; unique ignoring case.
    pub nickname: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 201, body = TokenPair), (status = 409, description = "email or nickname taken"),
              (status = 422, description = "invalid fields"), (status = 429, description = "rate limited")))]
#[tracing::instrument(skip_all)]
pub async fn signup(
    State(auth): State<AuthState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<SignupRequest>,
) -> ApiResult<Response> {
    let input = SignupInput { email: body.email, password: body.password, nickname: body.nickname };
    let tokens = service::signup(&auth, ip, input).await?;
    Ok((StatusCode::CREATED, axum::Json(tokens)).into_response())
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, description = "wrong email or password"),
              (status = 429, description = "rate limited")))]
#[tracing::instrument(skip_all)]
pub async fn login(
    State(auth): State<AuthState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<LoginRequest>,
) -> ApiResult<axum::Json<TokenPair>> {
    service::login(&auth, ip, &body.email, &body.password).await.map(axum::Json)
}

#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, description = "invalid, expired, revoked or reused")))]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    State(auth): State<AuthState>,
    Json(body): Json<RefreshRequest>,
) -> ApiResult<axum::Json<TokenPair>> {
    service::refresh(&auth, &body.refresh_token).await.map(axum::Json)
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "session ended"), (status = 401, description = "not authenticated")))]
#[tracing::instrument(skip_all)]
pub async fn logout(State(auth): State<AuthState>, caller: AuthUser) -> ApiResult<StatusCode> {
    service::logout(&auth, &caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

const KAKAO_STATE_TTL: Duration = Duration::from_secs(600);

fn kakao_state_key(state: &str) -> String {
    format!("kakao-state:{state}")
}

#[utoipa::path(get, path = "/api/v1/auth/kakao/authorize", tag = "auth",
    responses((status = 302, description = "redirect to Kakao's consent page"), (status = 503, description = "Kakao login is off")))]
#[tracing::instrument(skip_all)]
pub async fn kakao_authorize(State(auth): State<AuthState>) -> ApiResult<Response> {
    let kakao = auth.kakao.as_ref().ok_or_else(kakao_disabled)?;
    let state = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
    auth.state.put(&kakao_state_key(&state), "1", KAKAO_STATE_TTL).await?;
    Ok((StatusCode::FOUND, [(header::LOCATION, kakao.authorize_redirect(&state))]).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct KakaoCallback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/auth/kakao/callback", tag = "auth", params(KakaoCallback),
    responses((status = 200, body = TokenPair), (status = 400, description = "missing or unknown state"),
              (status = 401, description = "the user or Kakao refused"), (status = 502, description = "Kakao unavailable")))]
#[tracing::instrument(skip_all)]
pub async fn kakao_callback(
    State(auth): State<AuthState>,
    Query(query): Query<KakaoCallback>,
) -> ApiResult<axum::Json<TokenPair>> {
    let kakao = auth.kakao.as_ref().ok_or_else(kakao_disabled)?;
    // The state is single-use: taking it defeats both CSRF and replays of the callback.
    let state = query.state.filter(|state| !state.is_empty() && state.len() <= 128);
    let known = match state {
        Some(state) => auth.state.take(&kakao_state_key(&state)).await?.is_some(),
        None => false,
    };
    if !known {
        return Err(ApiError::bad_request(
            "invalid_oauth_state",
            "the login state is missing, unknown or already used",
        ));
    }
    if let Some(error) = query.error {
        let description = query.error_description.unwrap_or_default();
        return Err(ApiError::unauthorized(
            "kakao_denied",
            format!("{error}: {description}").chars().take(200).collect::<String>(),
        ));
    }
    let code = query
        .code
        .filter(|code| !code.is_empty() && code.len() <= 1024)
        .ok_or_else(|| ApiError::bad_request("missing_code", "the callback carries no authorization code"))?;
    let profile = kakao.login(&code).await.map_err(|err| match err {
        KakaoError::Rejected(detail) => ApiError::unauthorized("kakao_rejected", detail),
        KakaoError::Unavailable(detail) => {
            tracing::warn!(detail, "Kakao unavailable");
            ApiError::Upstream {
                code: "kakao_unavailable",
                detail: "Kakao could not be reached; try again".into(),
            }
        }
    })?;
    let user = kakao_user(&auth, profile).await?;
    service::start_session(&auth, &user).await.map(axum::Json)
}

/// The account linked to this Kakao id, created on first login with a nickname derived from
/// Kakao's (made unique with a numeric suffix when taken).
async fn kakao_user(auth: &AuthState, profile: super::kakao::KakaoProfile) -> ApiResult<User> {
    if let Some(user) = auth.users.by_kakao_id(&profile.id).await.map_err(service::store_error)? {
        return Ok(user);
    }
    let base: String = profile
        .nickname
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(MAX_CHARS)
        .collect();
    let base = if base.chars().count() < 2 { "kakao".to_owned() } else { base };
    let mut email = profile.email;
    for attempt in 0..8 {
        let candidate = if attempt == 0 {
            base.clone()
        } else {
            let suffix = format!("{:04}", rand::random::<u16>() % 10_000);
            let keep = MAX_CHARS - suffix.len();
            format!("{}{suffix}", base.chars().take(keep).collect::<String>())
        };
        let Ok(nickname) = Nickname::parse(&candidate) else {
            continue;
        };
        let new_user = NewUser {
            email: email.clone(),
            nickname: nickname.display,
            nickname_key: nickname.key,
            password_hash: None,
            kakao_id: Some(profile.id.clone()),
        };
        match auth.users.create(new_user).await {
            Ok(user) => {
                service::announce(auth, "account.signed_up", &user.id).await;
                return Ok(user);
            }
            Err(UserStoreError::NicknameTaken) => continue,
            // Never attach an email that another account owns: that would hand it over.
            Err(UserStoreError::EmailTaken) => email = None,
            // A concurrent callback for the same Kakao user created it first.
            Err(UserStoreError::KakaoTaken) => {
                return auth.users.by_kakao_id(&profile.id).await.map_err(service::store_error)?.ok_or_else(
                    || ApiError::Internal(anyhow::anyhow!("Kakao account vanished while linking")),
                );
            }
            Err(err) => return Err(service::store_error(err)),
        }
    }
    Err(ApiError::conflict("nickname_taken", "could not find a free nickname; try again"))
}

fn kakao_disabled() -> ApiError {
    ApiError::Unavailable {
        code: "kakao_disabled",
        detail: "Kakao login is not configured on this server".into(),
    }
}
