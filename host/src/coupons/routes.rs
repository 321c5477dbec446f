//! `/coupon-events`, `/coupon-events/{id}/claims`, `/me/coupons` and `/me/coupons/{id}/redeem`.

use super::CouponsState;
use super::bulkhead::Turn;
use super::claims::{ClaimError, Claimed};
use super::model::{Coupon, CouponEvent, Opening};
use super::store::Redeemed;
use crate::auth::{AuthUser, Authenticator};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{PathId, Query, Resource};
use crate::http::pagination::{PageParams, next_page};
use crate::weather::time::{SEOUL, seoul_date};
use axum::Router;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

pub struct EventResource;

impl Resource for EventResource {
    const NAME: &'static str = "coupon event";
}

pub struct CouponResource;

impl Resource for CouponResource {
    const NAME: &'static str = "coupon";
}

/// The header naming a claim, so a retry gets the first answer.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Events listed at most.
const MAX_EVENTS: usize = 100;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    CouponsState: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new()
        .route("/coupon-events", get(events))
        .route("/coupon-events/{id}/claims", post(claim))
        .route("/me/coupons", get(my_coupons))
        .route("/me/coupons/{id}/redeem", post(redeem))
}

impl From<ClaimError> for ApiError {
    fn from(err: ClaimError) -> Self {
        let detail = err.to_string();
        match err {
            ClaimError::NoSuchEvent => ApiError::NotFound { what: "coupon event" },
            ClaimError::NotOpenYet { opens_at_ms } => ApiError::ConflictWith {
                code: "not_open_yet",
                detail,
                extra: serde_json::json!({ "opens_at_ms": opens_at_ms, "opens_at": local_time(opens_at_ms) }),
            },
            ClaimError::Over => ApiError::conflict("event_over", detail),
            ClaimError::NotEligible(_) => ApiError::Forbidden { code: "not_eligible", detail },
            ClaimError::AlreadyHolds => ApiError::conflict("already_holds", detail),
            ClaimError::SoldOut => ApiError::conflict("sold_out", detail),
            ClaimError::Busy => ApiError::Throttled { code: "claims_busy", detail, retry_after_secs: 1 },
            ClaimError::GateRebuilding => {
                ApiError::Busy { code: "coupon_gate_rebuilding", detail, retry_after_secs: 1 }
            }
            ClaimError::GateUnavailable(err) => {
                tracing::warn!(error = %err, "the coupon gate failed");
                ApiError::Busy { code: "coupon_gate_unavailable", detail, retry_after_secs: 1 }
            }
            ClaimError::KeyReused => ApiError::Unprocessable { code: "idempotency_key_reused", detail },
            ClaimError::InProgress => ApiError::ConflictWith {
                code: "claim_in_progress",
                detail,
                extra: serde_json::json!({ "retry_after_secs": 1 }),
            },
            ClaimError::Internal(err) => ApiError::Internal(err),
        }
    }
}

/// An instant as RFC 3339 in Korea's offset, as people there read it.
pub fn local_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().with_timezone(&SEOUL).to_rfc3339()
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventView {
    #[serde(flatten)]
    pub event: CouponEvent,
    /// Claimable now.
    pub open_now: bool,
    /// Coupons left today (the whole daily quantity before today's opening).
    pub left_today: i64,
    /// The next opening (unix ms), later today or on a later day; absent when none remains.
    pub next_opening_ms: Option<i64>,
    pub next_opening: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventsPage {
    pub events: Vec<EventView>,
}

#[utoipa::path(get, path = "/api/v1/coupon-events", tag = "coupons", security(("bearer" = [])),
    responses((status = 200, body = EventsPage)))]
#[tracing::instrument(skip_all)]
pub async fn events(
    State(coupons): State<CouponsState>,
    _caller: AuthUser,
) -> ApiResult<axum::Json<EventsPage>> {
    let now = now_ms();
    let today = seoul_date(now).to_string();
    let found = coupons.store.current_events(&today, MAX_EVENTS).await.map_err(anyhow::Error::from)?;
    let events = found
        .into_iter()
        .map(|(event, issued_today)| {
            let next_opening_ms = event.next_opening_ms(now);
            EventView {
                open_now: matches!(event.opening(now), Opening::Open { .. }),
                left_today: (event.daily_quantity - issued_today).max(0),
                next_opening: next_opening_ms.map(local_time),
                next_opening_ms,
                event,
            }
        })
        .collect();
    Ok(axum::Json(EventsPage { events }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CouponView {
    #[serde(flatten)]
    pub coupon: Coupon,
}

#[utoipa::path(post, path = "/api/v1/coupon-events/{id}/claims", tag = "coupons", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "1–100 visible ASCII characters naming this claim: a retry with the same key gets the first answer")),
    responses(
        (status = 201, body = CouponView, description = "issued (or issued before under this key: `Idempotent-Replayed: true`)"),
        (status = 400, description = "missing or malformed Idempotency-Key"),
        (status = 403, description = "not_eligible: no approved mission today, or too few points"),
        (status = 404, description = "no such event"),
        (status = 409, description = "already_holds, sold_out, not_open_yet (with `opens_at`), event_over, or claim_in_progress (a claim with this key is still running: retry)"),
        (status = 422, description = "idempotency_key_reused: the key named another claim"),
        (status = 429, description = "claims_busy: the claim path is at its budget (Retry-After)"),
        (status = 503, description = "the coupon gate is being rebuilt or cannot be reached (Retry-After)")))]
#[tracing::instrument(skip_all)]
pub async fn claim(
    turn: ClaimTurn,
    State(coupons): State<CouponsState>,
    caller: AuthUser,
    id: PathId<EventResource>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?.to_owned();
    let claimed = coupons.claim_to_the_end(turn.turn, caller.user_id, id.id, key, now_ms()).await?;
    let (coupon, replayed) = match claimed {
        Claimed::Issued(coupon) => (coupon, false),
        Claimed::Replayed(coupon) => (coupon, true),
    };
    let mut response = (StatusCode::CREATED, axum::Json(CouponView { coupon })).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A turn in the claim path's bulkhead, taken before any other extractor (authentication
/// reads the database for a session it has not seen): a storm waits, bounded, or is refused at
/// once before it costs the database anything.
pub struct ClaimTurn {
    turn: Turn,
}

impl<S> FromRequestParts<S> for ClaimTurn
where
    CouponsState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match CouponsState::from_ref(state).enter().await {
            Some(turn) => Ok(Self { turn }),
            None => Err(ClaimError::Busy.into()),
        }
    }
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<&str> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Err(ApiError::bad_request(
            "idempotency_key_required",
            "a claim needs an Idempotency-Key header (1–100 visible ASCII characters)",
        ));
    };
    value
        .to_str()
        .ok()
        .filter(|key| (1..=100).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key: 1–100 visible ASCII characters",
            )
        })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CouponsPage {
    /// Newest first.
    pub coupons: Vec<Coupon>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/me/coupons", tag = "coupons", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = CouponsPage)))]
#[tracing::instrument(skip_all)]
pub async fn my_coupons(
    State(coupons): State<CouponsState>,
    caller: AuthUser,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<CouponsPage>> {
    let (limit, before) = page.parse()?;
    let mut found = coupons
        .store
        .coupons_of(&caller.user_id, before.as_deref(), limit)
        .await
        .map_err(anyhow::Error::from)?;
    let next_cursor = next_page(&mut found, limit, |coupon| &coupon.id);
    Ok(axum::Json(CouponsPage { coupons: found, next_cursor }))
}

#[utoipa::path(post, path = "/api/v1/me/coupons/{id}/redeem", tag = "coupons", security(("bearer" = [])),
    responses((status = 200, body = CouponView), (status = 404, description = "no such coupon of yours"),
        (status = 409, description = "already_redeemed")))]
#[tracing::instrument(skip_all)]
pub async fn redeem(
    State(coupons): State<CouponsState>,
    caller: AuthUser,
    id: PathId<CouponResource>,
) -> ApiResult<axum::Json<CouponView>> {
    match coupons.store.redeem(&caller.user_id, &id.id).await.map_err(anyhow::Error::from)? {
        Redeemed::Now(coupon) => Ok(axum::Json(CouponView { coupon })),
        Redeemed::Already(coupon) => Err(ApiError::ConflictWith {
            code: "already_redeemed",
            detail: "this coupon was used already".into(),
            extra: serde_json::json!({ "redeemed_at_ms": coupon.redeemed_at_ms }),
        }),
        Redeemed::NoSuchCoupon => Err(ApiError::NotFound { what: "coupon" }),
    }
}
