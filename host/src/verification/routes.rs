//! `/verifications/{id}` (poll, photo, appeal) and the admin review queue `/admin/reviews`.

use super::decided::after_decision;
use super::model::{Decision, Verification, VerificationView};
use super::state::Verifier;
use super::store::{Decider, DecisionInput};
use super::upload::{MAX_UPLOAD_BODY, submit};
use crate::auth::AuthUser;
use crate::auth::Authenticator;
use crate::auth::admin::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, PathId, Query};
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Appeals and review reasons are read by people; keep them short.
const MAX_TEXT_CHARS: usize = 500;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Verifier>: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new()
        .route("/missions/{id}/verifications", post(submit).layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY)))
        .route("/verifications/{id}", get(verification))
        .route("/verifications/{id}/photo", get(photo))
        .route("/verifications/{id}/appeal", post(appeal))
        .route("/admin/reviews", get(review_queue))
        .route("/admin/reviews/{id}", post(review))
        .route("/admin/verifications/{id}", get(admin_verification))
        .route("/admin/verifications/{id}/photo", get(admin_photo))
}

async fn own(verifier: &Arc<Verifier>, caller: &AuthUser, id: &str) -> ApiResult<super::Verification> {
    verifier
        .verifications
        .get(id)
        .await?
        .filter(|v| v.user_id == caller.user_id)
        .ok_or(ApiError::NotFound { what: "verification" })
}

#[utoipa::path(get, path = "/api/v1/verifications/{id}", tag = "missions", security(("bearer" = [])),
    params(("id" = String, Path, description = "the verification's id (a UUID)")),
    responses((status = 200, body = VerificationView), (status = 404, description = "no such verification of yours")))]
#[tracing::instrument(skip_all)]
pub async fn verification(
    State(verifier): State<Arc<Verifier>>,
    caller: AuthUser,
    PathId { id, .. }: PathId<Verification>,
) -> ApiResult<axum::Json<VerificationView>> {
    Ok(axum::Json(own(&verifier, &caller, &id).await?.into()))
}

async fn photo_response(verifier: &Arc<Verifier>, key: &str) -> ApiResult<impl IntoResponse + use<>> {
    let bytes = verifier.files.get(key).await?.ok_or(ApiError::NotFound { what: "photo" })?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "private, max-age=86400")], bytes))
}

#[utoipa::path(get, path = "/api/v1/verifications/{id}/photo", tag = "missions", security(("bearer" = [])),
    params(("id" = String, Path, description = "the verification's id (a UUID)")),
    responses((status = 200, content_type = "image/jpeg", description = "the normalised photo (≤ 1024 px, no metadata)"),
              (status = 404, description = "no such verification of yours")))]
pub async fn photo(
    State(verifier): State<Arc<Verifier>>,
    caller: AuthUser,
    PathId { id, .. }: PathId<Verification>,
) -> ApiResult<impl IntoResponse> {
    let verification = own(&verifier, &caller, &id).await?;
    photo_response(&verifier, &verification.normalised_key).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealRequest {
    /// Why the rejection is wrong, 1–500 characters.
    pub message: String,
}

#[utoipa::path(post, path = "/api/v1/verifications/{id}/appeal", tag = "missions", security(("bearer" = [])),
    params(("id" = String, Path, description = "the verification's id (a UUID)")),
    request_body = AppealRequest,
    responses((status = 200, body = VerificationView, description = "sent to review"),
              (status = 409, description = "only the latest rejection by the policy can be appealed, once"),
              (status = 422, description = "empty or too long message")))]
#[tracing::instrument(skip_all)]
pub async fn appeal(
    State(verifier): State<Arc<Verifier>>,
    caller: AuthUser,
    PathId { id, .. }: PathId<Verification>,
    Json(body): Json<AppealRequest>,
) -> ApiResult<axum::Json<VerificationView>> {
    let message = checked_text("message", &body.message)?;
    own(&verifier, &caller, &id).await?;
    if !verifier.verifications.appeal(&id, &caller.user_id, &message).await? {
        return Err(ApiError::conflict(
            "not_appealable",
            "only the latest rejection by the policy can be appealed, once, before another photo",
        ));
    }
    Ok(axum::Json(own(&verifier, &caller, &id).await?.into()))
}

fn checked_text(field: &str, text: &str) -> ApiResult<String> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_TEXT_CHARS {
        return Err(ApiError::field(field, format!("must be 1–{MAX_TEXT_CHARS} characters")));
    }
    Ok(text.to_owned())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct QueueParams {
    /// The last id of the previous page.
    cursor: Option<String>,
    /// Default 20, at most 100.
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    #[serde(flatten)]
    pub verification: VerificationView,
    pub user_id: String,
    pub mission: crate::missions::MissionView,
    /// The policy call behind the current state, for replay.
    pub call_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewPage {
    pub items: Vec<ReviewItem>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/admin/reviews", tag = "admin", security(("bearer" = [])), params(QueueParams),
    responses((status = 200, body = ReviewPage, description = "verifications waiting for a person, oldest first")))]
#[tracing::instrument(skip_all)]
pub async fn review_queue(
    State(verifier): State<Arc<Verifier>>,
    AdminUser(admin): AdminUser,
    Query(params): Query<QueueParams>,
) -> ApiResult<axum::Json<ReviewPage>> {
    let limit = params.limit.unwrap_or(20).clamp(1, 100) as usize;
    let after =
        params.cursor.as_deref().map(crate::http::cursor::post_id).transpose().map_err(|_| {
            ApiError::bad_request("invalid_cursor", "the cursor is not one this server issued")
        })?;
    let mut found = verifier.verifications.review_queue(after.as_deref(), limit as i64 + 1).await?;
    let next_cursor = if found.len() > limit {
        found.truncate(limit);
        found.last().map(|v| v.id.clone())
    } else {
        None
    };
    let max = verifier.config.max_daily_attempts;
    let mut items = Vec::with_capacity(found.len());
    for verification in found {
        let Some(mission) = verifier.missions.get(&verification.mission_id).await? else { continue };
        items.push(review_item(verification, mission, max));
    }
    let shown: Vec<&str> = items.iter().map(|item| item.verification.id.as_str()).collect();
    verifier
        .audit
        .record(Some(&admin.user_id), "verification.queue.read", "review-queue", &shown.join(","))
        .await?;
    Ok(axum::Json(ReviewPage { items, next_cursor }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// `approved` or `rejected`.
    pub decision: Decision,
    /// Shown to the user, 1–500 characters.
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/admin/reviews/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "the verification's id (a UUID)")),
    request_body = ReviewRequest,
    responses((status = 200, body = VerificationView), (status = 404, description = "no such verification"),
              (status = 409, description = "not waiting for review (decided meanwhile)"),
              (status = 422, description = "decision must be approved or rejected; reason 1–500 characters")))]
#[tracing::instrument(skip_all)]
pub async fn review(
    State(verifier): State<Arc<Verifier>>,
    AdminUser(admin): AdminUser,
    PathId { id, .. }: PathId<Verification>,
    Json(body): Json<ReviewRequest>,
) -> ApiResult<axum::Json<VerificationView>> {
    if body.decision == Decision::NeedsReview {
        return Err(ApiError::field("decision", "must be approved or rejected"));
    }
    let reason = checked_text("reason", &body.reason)?;
    verifier.verifications.get(&id).await?.ok_or(ApiError::NotFound { what: "verification" })?;
    let input = DecisionInput {
        decision: body.decision,
        confidence: None,
        reason: &reason,
        decided_by: &admin.user_id,
        policy_sha256: None,
        call_id: None,
    };
    let decided =
        verifier.verifications.decide(&id, Decider::Review, input).await?.ok_or_else(|| {
            ApiError::conflict("not_in_review", "this verification is not waiting for review")
        })?;
    verifier.audit.record(Some(&admin.user_id), "verification.review", &id, decided.state.as_str()).await?;
    after_decision(&verifier, &decided).await;
    let verification =
        verifier.verifications.get(&id).await?.ok_or(ApiError::NotFound { what: "verification" })?;
    Ok(axum::Json(verification.into()))
}

#[utoipa::path(get, path = "/api/v1/admin/verifications/{id}/photo", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "the verification's id (a UUID)")),
    responses((status = 200, content_type = "image/jpeg", description = "the normalised photo"),
              (status = 404, description = "no such verification")))]
pub async fn admin_photo(
    State(verifier): State<Arc<Verifier>>,
    AdminUser(admin): AdminUser,
    PathId { id, .. }: PathId<Verification>,
) -> ApiResult<impl IntoResponse> {
    let verification =
        verifier.verifications.get(&id).await?.ok_or(ApiError::NotFound { what: "verification" })?;
    // A user's photo seen by an admin is on the record, like every other admin action.
    verifier
        .audit
        .record(Some(&admin.user_id), "verification.photo.read", &id, &verification.user_id)
        .await?;
    photo_response(&verifier, &verification.normalised_key).await
}

#[utoipa::path(get, path = "/api/v1/admin/verifications/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "the verification's id (a UUID)")),
    responses((status = 200, body = ReviewItem, description = "any verification, with its owner, mission and policy call"),
              (status = 404, description = "no such verification")))]
pub async fn admin_verification(
    State(verifier): State<Arc<Verifier>>,
    AdminUser(admin): AdminUser,
    PathId { id, .. }: PathId<Verification>,
) -> ApiResult<axum::Json<ReviewItem>> {
    let verification =
        verifier.verifications.get(&id).await?.ok_or(ApiError::NotFound { what: "verification" })?;
    verifier.audit.record(Some(&admin.user_id), "verification.read", &id, &verification.user_id).await?;
    let mission = verifier
        .missions
        .get(&verification.mission_id)
        .await?
        .ok_or(ApiError::NotFound { what: "mission" })?;
    Ok(axum::Json(review_item(verification, mission, verifier.config.max_daily_attempts)))
}

fn review_item(
    verification: super::Verification,
    mission: crate::missions::Mission,
    max_attempts: i64,
) -> ReviewItem {
    ReviewItem {
        user_id: verification.user_id.clone(),
        call_id: verification.call_id.clone(),
        mission: crate::missions::MissionView::new(mission, max_attempts),
        verification: verification.into(),
    }
}
