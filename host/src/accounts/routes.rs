//! `/me`: read the profile, change the nickname, language or password, delete the account.

use super::model::UserView;
use super::nickname::Nickname;
use crate::auth::AuthUser;
use crate::auth::password::check_strength;
use crate::auth::service::{self, store_error};
use crate::auth::{AuthState, Authenticator};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::language::Language;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use serde::Deserialize;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AuthState: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new()
        .route("/me", get(me).patch(update_me).delete(delete_me))
        .route("/me/password", put(change_password))
}

/// Changes what is given; at least one field.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    pub nickname: Option<String>,
    /// `ko` or `en` for missions and verdicts; `null` to follow the client's `Accept-Language`
    /// again (Korean by default).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Language>)]
    pub language: Option<Option<Language>>,
}

/// Tells a field sent as `null` (`Some(None)`) from a field left out (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DeleteMe {
    /// Required for accounts that have a password.
    pub password: Option<String>,
}

async fn current_user(auth: &AuthState, caller: &AuthUser) -> ApiResult<super::User> {
    auth.users.by_id(&caller.user_id).await.map_err(store_error)?.ok_or_else(account_gone)
}

fn account_gone() -> ApiError {
    ApiError::unauthorized("account_deleted", "this account no longer exists")
}

#[utoipa::path(get, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, description = "not authenticated")))]
#[tracing::instrument(skip_all)]
pub async fn me(State(auth): State<AuthState>, caller: AuthUser) -> ApiResult<axum::Json<UserView>> {
    let view = auth.users.view(&caller.user_id).await.map_err(store_error)?;
    Ok(axum::Json(view.ok_or_else(account_gone)?))
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "me", security(("bearer" = [])), request_body = UpdateMe,
    responses((status = 200, body = UserView), (status = 409, description = "nickname taken"), (status = 422, description = "invalid nickname or language")))]
#[tracing::instrument(skip_all)]
pub async fn update_me(
    State(auth): State<AuthState>,
    caller: AuthUser,
    Json(body): Json<UpdateMe>,
) -> ApiResult<axum::Json<UserView>> {
    let nickname = match &body.nickname {
        Some(raw) => Some(Nickname::parse(raw).map_err(|message| ApiError::field("nickname", message))?),
        None if body.language.is_none() => {
            return Err(ApiError::field("nickname", "give a nickname or a language"));
        }
        None => None,
    };
    let gone = || ApiError::unauthorized("account_deleted", "this account no longer exists");
    let mut user = None;
    if let Some(nickname) = nickname {
        let updated = auth
            .users
            .set_nickname(&caller.user_id, &nickname.display, &nickname.key)
            .await
            .map_err(store_error)?;
        user = Some(updated.ok_or_else(gone)?);
    }
    if let Some(language) = body.language {
        user = Some(
            auth.users
                .set_language(&caller.user_id, language)
                .await
                .map_err(store_error)?
                .ok_or_else(gone)?,
        );
    }
    let user = user.ok_or_else(gone)?;
    Ok(axum::Json(UserView::from(&user)))
}

#[utoipa::path(put, path = "/api/v1/me/password", tag = "me", security(("bearer" = [])), request_body = ChangePassword,
    responses((status = 204, description = "changed; other sessions ended"), (status = 403, description = "current password wrong"),
              (status = 429, description = "too many password confirmations for this account")))]
#[tracing::instrument(skip_all)]
pub async fn change_password(
    State(auth): State<AuthState>,
    caller: AuthUser,
    Json(body): Json<ChangePassword>,
) -> ApiResult<StatusCode> {
    check_strength(&body.new_password).map_err(|message| ApiError::field("new_password", message))?;
    let user = current_user(&auth, &caller).await?;
    if user.password_hash.is_none()
        || !service::confirm_password(&auth, &user, &body.current_password).await?
    {
        return Err(ApiError::Forbidden {
            code: "wrong_password",
            detail: "the current password is wrong".into(),
        });
    }
    let hash = auth.passwords.hash(&body.new_password).await?;
    auth.users.set_password_hash(&user.id, &hash).await.map_err(store_error)?;
    // Whoever else held a session (perhaps the reason for the change) is logged out.
    service::end_other_sessions(&auth, &user.id, Some(&caller.session_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/me", tag = "me", security(("bearer" = [])), request_body = DeleteMe,
    responses((status = 204, description = "account and personal data removed"), (status = 403, description = "password wrong"),
              (status = 429, description = "too many password confirmations for this account")))]
#[tracing::instrument(skip_all)]
pub async fn delete_me(
    State(auth): State<AuthState>,
    caller: AuthUser,
    body: Bytes,
) -> ApiResult<StatusCode> {
    // The body is optional (Kakao-only accounts have no password to confirm with).
    let body: DeleteMe = if body.is_empty() {
        DeleteMe::default()
    } else {
        serde_json::from_slice(&body).map_err(|err| ApiError::field("body", err.to_string()))?
    };
    let user = current_user(&auth, &caller).await?;
    if user.password_hash.is_some() {
        let password = body.password.unwrap_or_default();
        if !service::confirm_password(&auth, &user, &password).await? {
            return Err(ApiError::Forbidden {
                code: "wrong_password",
                detail: "confirm with the account's password".into(),
            });
        }
    }
    let ended = auth.users.delete(&user.id).await.map_err(store_error)?.unwrap_or_default();
    service::end_sessions(&auth, &user.id, &ended).await?;
    service::announce(&auth, "account.deleted", &user.id).await;
    Ok(StatusCode::NO_CONTENT)
}
