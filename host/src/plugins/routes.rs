//! Admin API of the plugin registry, and the audit log.

use super::PluginsState;
use super::World;
use super::inspect::{InspectError, MAX_COMPONENT_BYTES};
use super::records::Scorecard;
use super::registry::{RegistryError, Uploaded};
use super::store::VersionInfo;
use crate::audit::AuditEntry;
use crate::auth::Authenticator;
use crate::auth::admin::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Query;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRef, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PluginsState: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new()
        .route("/admin/plugins", post(upload).get(list).layer(DefaultBodyLimit::max(MAX_COMPONENT_BYTES)))
        .route("/admin/plugins/{id}", get(inspect).delete(delete))
        .route("/admin/plugins/{id}/activate", post(activate))
        .route("/admin/plugins/{id}/rollback", post(rollback))
        .route("/admin/audit", get(audit))
        .merge(super::dry_run::router())
        .merge(super::record_routes::router())
}

impl From<RegistryError> for ApiError {
    fn from(err: RegistryError) -> Self {
        match err {
            RegistryError::Inspect(InspectError::TooLarge(_)) => {
                ApiError::BadRequest { code: "component_too_large", detail: err.to_string() }
            }
            RegistryError::Inspect(InspectError::Invalid(_)) => ApiError::field("component", err.to_string()),
            RegistryError::Inspect(InspectError::UnknownWorld(_) | InspectError::UnknownContract(_)) => {
                ApiError::Validation(vec![crate::error::FieldError {
                    field: "component".into(),
                    message: err.to_string(),
                }])
            }
            RegistryError::NotFound(_) => ApiError::NotFound { what: "plugin version" },
            RegistryError::Active(_) => ApiError::conflict("version_active", err.to_string()),
            RegistryError::NothingToRollBack(_) => {
                ApiError::conflict("nothing_to_roll_back", err.to_string())
            }
            RegistryError::WrongWorld { .. } => ApiError::conflict("wrong_world", err.to_string()),
            RegistryError::GateFailed(ref scorecard) => ApiError::ConflictWith {
                code: "corpus_failed",
                detail: err.to_string(),
                extra: serde_json::json!({ "scorecard": scorecard }),
            },
            RegistryError::CallNotFound(_) => ApiError::NotFound { what: "plugin call" },
            RegistryError::NothingActive(_) => ApiError::conflict("nothing_active", err.to_string()),
            RegistryError::Internal(err) => ApiError::Internal(err),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// A human label such as `1.4.0`.
    label: String,
    #[serde(default)]
    note: String,
}

#[utoipa::path(post, path = "/api/v1/admin/plugins", tag = "admin", security(("bearer" = [])), params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 201, body = Uploaded), (status = 200, body = Uploaded, description = "already stored"),
              (status = 422, description = "not a component of a known world"), (status = 413, description = "too large")))]
#[tracing::instrument(skip_all)]
pub async fn upload(
    State(plugins): State<PluginsState>,
    AdminUser(admin): AdminUser,
    Query(params): Query<UploadParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("application/wasm") && !content_type.starts_with("application/octet-stream")
    {
        return Ok(StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response());
    }
    let label = params.label.trim();
    if label.is_empty() || label.chars().count() > 64 || params.note.chars().count() > 500 {
        return Err(ApiError::field("label", "label must be 1 to 64 characters and note at most 500"));
    }
    let uploaded = plugins.registry.upload(&body, label, &params.note, Some(&admin.user_id)).await?;
    let status = if uploaded.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(uploaded)).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionView {
    #[serde(flatten)]
    pub version: VersionInfo,
    pub active: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionDetail {
    #[serde(flatten)]
    pub version: VersionInfo,
    pub active: bool,
    /// Its result on its world's golden corpus.
    pub scorecard: Scorecard,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VersionList {
    pub versions: Vec<VersionView>,
}

#[utoipa::path(get, path = "/api/v1/admin/plugins", tag = "admin", security(("bearer" = [])), responses((status = 200, body = VersionList)))]
pub async fn list(
    State(plugins): State<PluginsState>,
    _admin: AdminUser,
) -> ApiResult<axum::Json<VersionList>> {
    let (versions, active) = plugins.registry.list().await?;
    let versions = versions
        .into_iter()
        .map(|version| {
            let active = active.iter().any(|(_, sha)| *sha == version.sha256);
            VersionView { version, active }
        })
        .collect();
    Ok(axum::Json(VersionList { versions }))
}

#[utoipa::path(get, path = "/api/v1/admin/plugins/{id}", tag = "admin", security(("bearer" = [])), responses((status = 200, body = VersionDetail)))]
pub async fn inspect(
    State(plugins): State<PluginsState>,
    _admin: AdminUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<VersionDetail>> {
    let registry = &plugins.registry;
    let version = registry.info(&id).await?;
    let (_, active) = registry.list().await?;
    let active = active.iter().any(|(_, sha)| *sha == version.sha256);
    let scorecard = registry.scorecard(&id).await?;
    Ok(axum::Json(VersionDetail { version, active, scorecard }))
}

#[utoipa::path(delete, path = "/api/v1/admin/plugins/{id}", tag = "admin", security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 409, description = "the version is active")))]
pub async fn delete(
    State(plugins): State<PluginsState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    plugins.registry.delete(&id, Some(&admin.user_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ActivateParams {
    /// Activate even though the version fails its golden corpus.
    #[serde(default)]
    force: bool,
    /// Why, when forcing (1–500 characters); kept in the audit log.
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/admin/plugins/{id}/activate", tag = "admin", security(("bearer" = [])), params(ActivateParams),
    responses((status = 200, body = VersionInfo), (status = 409, description = "the version fails its golden corpus (`corpus_failed`, with its scorecard)")))]
pub async fn activate(
    State(plugins): State<PluginsState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    Query(params): Query<ActivateParams>,
) -> ApiResult<axum::Json<VersionInfo>> {
    let reason = params.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let force = match (params.force, reason) {
        (false, _) => None,
        (true, Some(reason)) if reason.chars().count() <= 500 => Some(reason),
        (true, _) => {
            return Err(ApiError::field(
                "reason",
                "a forced activation needs a reason of 1 to 500 characters",
            ));
        }
    };
    Ok(axum::Json(plugins.registry.activate(&id, Some(&admin.user_id), force).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/plugins/{id}/rollback", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "the world: mission-generator or verification-policy")),
    responses((status = 200, body = VersionInfo), (status = 409, description = "nothing to roll back to")))]
pub async fn rollback(
    State(plugins): State<PluginsState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<VersionInfo>> {
    let world = match id.as_str() {
        "mission-generator" => World::MissionGenerator,
        "verification-policy" => World::VerificationPolicy,
        _ => return Err(ApiError::NotFound { what: "world" }),
    };
    Ok(axum::Json(plugins.registry.rollback(world, Some(&admin.user_id)).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Page {
    cursor: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", security(("bearer" = [])), params(Page), responses((status = 200, body = AuditPage)))]
pub async fn audit(
    State(plugins): State<PluginsState>,
    _admin: AdminUser,
    Query(page): Query<Page>,
) -> ApiResult<axum::Json<AuditPage>> {
    let limit = page.limit.unwrap_or(50).clamp(1, 200);
    let entries = plugins.audit.list(page.cursor.as_deref(), limit).await?;
    let next_cursor = (entries.len() as i64 == limit).then(|| entries.last().map(|e| e.id.clone())).flatten();
    Ok(axum::Json(AuditPage { entries, next_cursor }))
}
