//! `AdminUser`: an authenticated caller whose token carries the admin role.

use super::extract::AuthUser;
use super::state::Authenticator;
use crate::accounts::Role;
use crate::error::ApiError;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl<S> FromRequestParts<S> for AdminUser
where
    Authenticator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = AuthUser::from_request_parts(parts, state).await?;
        if caller.role != Role::Admin {
            return Err(ApiError::Forbidden {
                code: "admin_only",
                detail: "this needs an admin account".into(),
            });
        }
        Ok(Self(caller))
    }
}
