//! Admin API over what the platform keeps about plugin calls: call records and their exact
//! replay, the shadow candidate and its agreement with the active policy.

use super::PluginsState;
use super::calls::ReplayReport;
use super::records::{CallRecord, ShadowReport};
use super::store::VersionInfo;
use crate::auth::Authenticator;
use crate::auth::admin::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PluginsState: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new()
        .route("/admin/plugin-calls/{id}", get(call))
        .route("/admin/plugin-calls/{id}/replay", post(replay))
        .route("/admin/plugins/{id}/shadow", post(start_shadow))
        .route("/admin/shadow", get(shadow).delete(stop_shadow))
}

/// Call ids are UUIDs; anything else cannot name a record.
fn call_id(id: &str) -> ApiResult<&str> {
    uuid::Uuid::parse_str(id).map(|_| id).map_err(|_| ApiError::NotFound { what: "plugin call" })
}

#[utoipa::path(get, path = "/api/v1/admin/plugin-calls/{id}", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = CallRecord), (status = 404, description = "no such call")))]
pub async fn call(
    State(plugins): State<PluginsState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CallRecord>> {
    let record = plugins.registry.call_record(call_id(&id)?).await?;
    // A call's record holds what a user's photo showed; reading it is an admin action.
    plugins.audit.record(Some(&admin.user_id), "plugin.call.read", &id, "").await?;
    Ok(axum::Json(record))
}

/// Re-runs a recorded call exactly: same version, seed and inputs, vision answered from the
/// record. The audit log keeps who replayed what.
#[utoipa::path(post, path = "/api/v1/admin/plugin-calls/{id}/replay", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = ReplayReport), (status = 404, description = "no such call")))]
pub async fn replay(
    State(plugins): State<PluginsState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<ReplayReport>> {
    let report = plugins.registry.replay(call_id(&id)?).await?;
    let detail = if report.identical { "identical" } else { "differs" };
    plugins.audit.record(Some(&admin.user_id), "plugin.replay", &report.call_id, detail).await?;
    Ok(axum::Json(report))
}

#[utoipa::path(post, path = "/api/v1/admin/plugins/{id}/shadow", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = VersionInfo), (status = 409, description = "not a verification policy")))]
pub async fn start_shadow(
    State(plugins): State<PluginsState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<VersionInfo>> {
    Ok(axum::Json(plugins.registry.start_shadow(&id, Some(&admin.user_id)).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ShadowParams {
    /// A past candidate's report instead of the current one's.
    candidate: Option<String>,
    /// How many recent disagreements to list (default 20, at most 100).
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ShadowView {
    /// The candidate running now, if any.
    pub current: Option<String>,
    pub report: Option<ShadowReport>,
}

#[utoipa::path(get, path = "/api/v1/admin/shadow", tag = "admin", security(("bearer" = [])), params(ShadowParams),
    responses((status = 200, body = ShadowView)))]
pub async fn shadow(
    State(plugins): State<PluginsState>,
    _admin: AdminUser,
    Query(params): Query<ShadowParams>,
) -> ApiResult<axum::Json<ShadowView>> {
    let current = plugins.registry.shadow_policy().map(|(sha, _)| sha);
    let limit = params.limit.unwrap_or(20).clamp(1, 100);
    let report = match params.candidate.as_ref().or(current.as_ref()) {
        Some(candidate) => Some(plugins.registry.shadow_report(candidate, limit).await?),
        None => None,
    };
    Ok(axum::Json(ShadowView { current, report }))
}

#[utoipa::path(delete, path = "/api/v1/admin/shadow", tag = "admin", security(("bearer" = [])),
    responses((status = 204, description = "no candidate runs in shadow any more")))]
pub async fn stop_shadow(
    State(plugins): State<PluginsState>,
    AdminUser(admin): AdminUser,
) -> ApiResult<StatusCode> {
    plugins.registry.stop_shadow(Some(&admin.user_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
