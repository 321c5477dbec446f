//! `AdminUser`: an authenticated caller whose account is an admin now. The role is read from
//! the database on every admin request, so revoking it takes effect at once; a token's `role`
//! claim only tells clients what to show.

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
        let auth = Authenticator::from_ref(state);
        let user = auth.users.by_id(&caller.user_id).await.map_err(anyhow::Error::from)?;
        let Some(user) = user else {
            return Err(super::extract::session_ended());
        };
        if user.role != Role::Admin {
            return Err(ApiError::Forbidden {
                code: "admin_only",
                detail: "this needs an admin account".into(),
            });
        }
        Ok(Self(caller))
    }
}
