//! `/admin/coupon-events`: creating, changing and closing events, the coupons they issued, the
//! per-day counts, the end-of-day check, and reconciling the gate with the database. Every
//! change, and every read of who holds coupons, is audited.

use super::CouponsState;
use super::model::{Coupon, CouponEvent, EventChanges, EventDraft, FieldProblems};
use super::reconcile::Comparison;
use super::routes::EventResource;
use super::store::{ChangeError, DayCount, IssuedFilter};
use crate::auth::Authenticator;
use crate::auth::admin::AdminUser;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{Json, PathId, Query};
use crate::http::pagination::{PageParams, invalid_cursor, next_page, parse_limit};
use crate::weather::time::seoul_date;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    CouponsState: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new()
        .route("/admin/coupon-events", post(create).get(list))
        .route("/admin/coupon-events/{id}", get(one).patch(change))
        .route("/admin/coupon-events/{id}/close", post(close))
        .route("/admin/coupon-events/{id}/coupons", get(issued))
        .route("/admin/coupon-events/{id}/days", get(days))
        .route("/admin/coupon-events/{id}/check", get(check))
        .route("/admin/coupon-events/{id}/reconcile", post(reconcile))
}

/// The gate (or the database) could not be read: Redis restarting, say. Worth a retry.
fn unreadable(err: anyhow::Error) -> ApiError {
    tracing::warn!(error = %err, "comparing the coupon gate with the database failed");
    ApiError::Busy {
        code: "coupon_gate_unavailable",
        detail: "the coupon gate could not be read; try again shortly".into(),
        retry_after_secs: 1,
    }
}

fn invalid(problems: FieldProblems) -> ApiError {
    ApiError::Validation(
        problems.into_iter().map(|(field, message)| FieldError { field: field.into(), message }).collect(),
    )
}

async fn audit(
    coupons: &CouponsState,
    admin: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> ApiResult<()> {
    coupons.audit.record(Some(admin), action, target, detail).await?;
    Ok(())
}

async fn existing(coupons: &CouponsState, id: &str) -> ApiResult<CouponEvent> {
    let event = coupons.store.event(id).await.map_err(anyhow::Error::from)?;
    event.ok_or(ApiError::NotFound { what: "coupon event" })
}

#[utoipa::path(post, path = "/api/v1/admin/coupon-events", tag = "admin", security(("bearer" = [])),
    request_body = EventDraft,
    responses((status = 201, body = CouponEvent), (status = 422, description = "invalid fields")))]
#[tracing::instrument(skip_all)]
pub async fn create(
    State(coupons): State<CouponsState>,
    AdminUser(admin): AdminUser,
    Json(draft): Json<EventDraft>,
) -> ApiResult<(StatusCode, axum::Json<CouponEvent>)> {
    let problems = draft.validate();
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let event = coupons.store.create_event(&draft).await.map_err(anyhow::Error::from)?;
    let detail = format!(
        "{} {}..{} at {}, {} a day, min points {}",
        event.kind, event.starts_on, event.ends_on, event.opens_at, event.daily_quantity, event.min_points
    );
    audit(&coupons, &admin.user_id, "coupon.event.create", &event.id, &detail).await?;
    Ok((StatusCode::CREATED, axum::Json(event)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AdminEventsPage {
    /// Newest first.
    pub events: Vec<CouponEvent>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/admin/coupon-events", tag = "admin", security(("bearer" = [])),
    params(PageParams), responses((status = 200, body = AdminEventsPage)))]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(coupons): State<CouponsState>,
    _admin: AdminUser,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<AdminEventsPage>> {
    let (limit, before) = page.parse()?;
    let mut events = coupons.store.events(before.as_deref(), limit).await.map_err(anyhow::Error::from)?;
    let next_cursor = next_page(&mut events, limit, |event| &event.id);
    Ok(axum::Json(AdminEventsPage { events, next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/admin/coupon-events/{id}", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = CouponEvent), (status = 404, description = "no such event")))]
#[tracing::instrument(skip_all)]
pub async fn one(
    State(coupons): State<CouponsState>,
    _admin: AdminUser,
    id: PathId<EventResource>,
) -> ApiResult<axum::Json<CouponEvent>> {
    Ok(axum::Json(existing(&coupons, &id.id).await?))
}

#[utoipa::path(patch, path = "/api/v1/admin/coupon-events/{id}", tag = "admin", security(("bearer" = [])),
    request_body = EventChanges,
    responses((status = 200, body = CouponEvent), (status = 404, description = "no such event"),
        (status = 409, description = "quantity_below_issued: more were issued today than the new quantity"),
        (status = 422, description = "invalid fields")))]
#[tracing::instrument(skip_all)]
pub async fn change(
    State(coupons): State<CouponsState>,
    AdminUser(admin): AdminUser,
    id: PathId<EventResource>,
    Json(changes): Json<EventChanges>,
) -> ApiResult<axum::Json<CouponEvent>> {
    let event = existing(&coupons, &id.id).await?;
    let problems = changes.validate(&event);
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let today = seoul_date(now_ms()).to_string();
    let changed = match coupons.store.change_event(&id.id, &changes, &today).await {
        Ok(changed) => changed.ok_or(ApiError::NotFound { what: "coupon event" })?,
        Err(err @ ChangeError::BelowIssued { .. }) => {
            return Err(ApiError::conflict("quantity_below_issued", err.to_string()));
        }
        Err(ChangeError::Database(err)) => return Err(err.into()),
    };
    // A new quantity renewed today's gate epoch: the gate is built again to match, and every
    // instance finds its cached epoch stale and reads the new one.
    let day = super::gate::DayKey { event_id: changed.id.clone(), day: today };
    if changes.daily_quantity.is_some()
        && let Err(err) = coupons.keeper.rebuild_as_stored(&day).await
    {
        tracing::warn!(error = %err, "rebuilding the coupon gate after a change failed; reconcile repairs it");
    }
    let detail = format!(
        "title {:?}, ends {}, opens {}, {} a day, min points {}",
        changed.title, changed.ends_on, changed.opens_at, changed.daily_quantity, changed.min_points
    );
    audit(&coupons, &admin.user_id, "coupon.event.update", &changed.id, &detail).await?;
    Ok(axum::Json(changed))
}

#[utoipa::path(post, path = "/api/v1/admin/coupon-events/{id}/close", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = CouponEvent), (status = 404, description = "no such event")))]
#[tracing::instrument(skip_all)]
pub async fn close(
    State(coupons): State<CouponsState>,
    AdminUser(admin): AdminUser,
    id: PathId<EventResource>,
) -> ApiResult<axum::Json<CouponEvent>> {
    let closed = coupons.store.close_event(&id.id).await.map_err(anyhow::Error::from)?;
    let closed = closed.ok_or(ApiError::NotFound { what: "coupon event" })?;
    audit(&coupons, &admin.user_id, "coupon.event.close", &closed.id, "").await?;
    Ok(axum::Json(closed))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct IssuedParams {
    /// Issued on this day (`YYYY-MM-DD`).
    pub day: Option<String>,
    pub user_id: Option<String>,
    /// `true`: used ones only; `false`: unused ones only.
    pub redeemed: Option<bool>,
    pub cursor: Option<String>,
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedPage {
    /// Newest first.
    pub coupons: Vec<Coupon>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/admin/coupon-events/{id}/coupons", tag = "admin", security(("bearer" = [])),
    params(IssuedParams), responses((status = 200, body = IssuedPage), (status = 404, description = "no such event")))]
#[tracing::instrument(skip_all)]
pub async fn issued(
    State(coupons): State<CouponsState>,
    AdminUser(admin): AdminUser,
    id: PathId<EventResource>,
    Query(params): Query<IssuedParams>,
) -> ApiResult<axum::Json<IssuedPage>> {
    existing(&coupons, &id.id).await?;
    let mut errors = Vec::new();
    let limit = parse_limit(params.limit.as_deref(), &mut errors);
    if let Some(day) = &params.day
        && chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_err()
    {
        errors.push(FieldError { field: "day".into(), message: "must be a date YYYY-MM-DD".into() });
    }
    if let Some(user_id) = &params.user_id
        && uuid::Uuid::try_parse(user_id).is_err()
    {
        errors.push(FieldError { field: "user_id".into(), message: "must be a user id".into() });
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let before = match params.cursor.as_deref().map(crate::http::cursor::Cursor::decode) {
        None => None,
        Some(Ok(crate::http::cursor::Cursor::Before { id })) => Some(id),
        Some(_) => return Err(invalid_cursor()),
    };
    let filter = IssuedFilter {
        day: params.day.as_deref(),
        user_id: params.user_id.as_deref(),
        redeemed: params.redeemed,
    };
    let mut found =
        coupons.store.issued(&id.id, &filter, before.as_deref(), limit).await.map_err(anyhow::Error::from)?;
    let next_cursor = next_page(&mut found, limit, |coupon| &coupon.id);
    let detail = format!("{filter:?}");
    audit(&coupons, &admin.user_id, "coupon.list", &id.id, &detail).await?;
    Ok(axum::Json(IssuedPage { coupons: found, next_cursor }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DaysView {
    /// Latest day first.
    pub days: Vec<DayCount>,
}

#[utoipa::path(get, path = "/api/v1/admin/coupon-events/{id}/days", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = DaysView), (status = 404, description = "no such event")))]
#[tracing::instrument(skip_all)]
pub async fn days(
    State(coupons): State<CouponsState>,
    _admin: AdminUser,
    id: PathId<EventResource>,
) -> ApiResult<axum::Json<DaysView>> {
    existing(&coupons, &id.id).await?;
    let days = coupons.store.day_counts(&id.id).await.map_err(anyhow::Error::from)?;
    Ok(axum::Json(DaysView { days }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DayParams {
    /// `YYYY-MM-DD` (Asia/Seoul); today by default.
    pub day: Option<String>,
}

impl DayParams {
    fn day(&self) -> ApiResult<String> {
        match &self.day {
            None => Ok(seoul_date(now_ms()).to_string()),
            Some(day) if chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok() => Ok(day.clone()),
            Some(_) => Err(ApiError::field("day", "must be a date YYYY-MM-DD")),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckView {
    /// The database is consistent and the gate agrees with it.
    pub ok: bool,
    #[serde(flatten)]
    pub comparison: Comparison,
}

#[utoipa::path(get, path = "/api/v1/admin/coupon-events/{id}/check", tag = "admin", security(("bearer" = [])),
    params(DayParams),
    responses((status = 200, body = CheckView, description = "issued within the quantity, users unique, every issued answer with its coupon, the gate in agreement"),
        (status = 404, description = "no such event"), (status = 503, description = "the gate cannot be read")))]
#[tracing::instrument(skip_all)]
pub async fn check(
    State(coupons): State<CouponsState>,
    _admin: AdminUser,
    id: PathId<EventResource>,
    Query(params): Query<DayParams>,
) -> ApiResult<axum::Json<CheckView>> {
    existing(&coupons, &id.id).await?;
    let comparison = coupons.keeper.compare(&id.id, &params.day()?).await.map_err(unreadable)?;
    Ok(axum::Json(CheckView { ok: comparison.database_consistent && comparison.gate_agrees, comparison }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReconcileView {
    pub before: Comparison,
    pub after: Comparison,
    /// The gate was rebuilt from the database.
    pub repaired: bool,
}

#[utoipa::path(post, path = "/api/v1/admin/coupon-events/{id}/reconcile", tag = "admin", security(("bearer" = [])),
    params(DayParams),
    responses((status = 200, body = ReconcileView), (status = 404, description = "no such event"),
        (status = 503, description = "the gate cannot be reached")))]
#[tracing::instrument(skip_all)]
pub async fn reconcile(
    State(coupons): State<CouponsState>,
    AdminUser(admin): AdminUser,
    id: PathId<EventResource>,
    Query(params): Query<DayParams>,
) -> ApiResult<axum::Json<ReconcileView>> {
    existing(&coupons, &id.id).await?;
    let day = params.day()?;
    let (before, after) = coupons.keeper.reconcile(&id.id, &day).await.map_err(unreadable)?;
    let repaired = !before.gate_agrees;
    let detail = format!("{day}: gate agreed {}, repaired {repaired}", before.gate_agrees);
    audit(&coupons, &admin.user_id, "coupon.reconcile", &id.id, &detail).await?;
    Ok(axum::Json(ReconcileView { before, after, repaired }))
}
