//! `AdminUser`: an authenticated caller whose token carries the admin role.

use super::extract::AuthUser;
use crate::accounts::Role;
use crate::app::SharedState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl FromRequestParts<SharedState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &SharedState) -> Result<Self, Self::Rejection> {
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
