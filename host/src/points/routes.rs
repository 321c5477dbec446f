//! `/me/points`, `/rankings`, `/rankings/me` and `/rankings/search`.

use super::PointsService;
use super::ledger::{Entry, HistoryCursor};
use super::service::{MAX_PREFIX_CHARS, MAX_SEARCH, Ranked};
use crate::auth::AuthUser;
use crate::auth::Authenticator;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Query;
use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

const DEFAULT_PAGE: i64 = 20;
const MAX_PAGE: i64 = 100;
const DEFAULT_TOP: i64 = 10;
const DEFAULT_SEARCH: i64 = 20;
/// Longer cursors are refused before decoding.
const MAX_CURSOR_CHARS: usize = 256;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PointsService: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new()
        .route("/me/points", get(my_points))
        .route("/rankings", get(top))
        .route("/rankings/me", get(my_rank))
        .route("/rankings/search", get(search))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PointsView {
    pub total: i64,
    /// Credits, newest first.
    pub history: Vec<Entry>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RankingView {
    pub rankings: Vec<Ranked>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MyRankView {
    /// Absent before the first credit.
    pub rank: Option<u64>,
    pub total: i64,
    pub reached_at_ms: Option<i64>,
}

/// Numbers arrive as text so that a malformed one gets a field-level 422.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct HistoryParams {
    cursor: Option<String>,
    /// 1 to 100, default 20.
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TopParams {
    /// 1 to 100, default 10.
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// The start of a nickname, 1 to 12 characters (compared case-insensitively).
    nickname: Option<String>,
    /// 1 to 50, default 20.
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
}

/// A limit in `1..=max`; anything else is a 422 naming the field.
fn parse_limit(raw: Option<&str>, default: i64, max: i64) -> ApiResult<i64> {
    match raw.map(str::parse::<i64>) {
        None => Ok(default),
        Some(Ok(limit)) if (1..=max).contains(&limit) => Ok(limit),
        Some(_) => Err(ApiError::field("limit", format!("must be an integer from 1 to {max}"))),
    }
}

fn encode_cursor(entry: &Entry) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", entry.credited_at_ms, entry.verification_id))
}

fn decode_cursor(raw: &str) -> ApiResult<HistoryCursor> {
    let invalid = || ApiError::field("cursor", "is not a cursor this server issued");
    if raw.len() > MAX_CURSOR_CHARS {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (at, id) = text.split_once(':').ok_or_else(invalid)?;
    let credited_at_ms = at.parse::<i64>().map_err(|_| invalid())?;
    if id.is_empty() || id.len() > super::ledger::MAX_VERIFICATION_ID_BYTES {
        return Err(invalid());
    }
    Ok(HistoryCursor { credited_at_ms, verification_id: id.to_owned() })
}

#[utoipa::path(get, path = "/api/v1/me/points", tag = "points", security(("bearer" = [])), params(HistoryParams),
    responses((status = 200, body = PointsView), (status = 422, description = "invalid limit or cursor")))]
#[tracing::instrument(skip_all)]
pub async fn my_points(
    State(points): State<PointsService>,
    caller: AuthUser,
    Query(params): Query<HistoryParams>,
) -> ApiResult<Json<PointsView>> {
    let limit = parse_limit(params.limit.as_deref(), DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = params.cursor.as_deref().map(decode_cursor).transpose()?;
    let standing = points.standing(&caller.user_id).await?;
    // One more than asked tells whether another page follows.
    let mut history = points.history(&caller.user_id, cursor.as_ref(), limit + 1).await?;
    let next_cursor = if history.len() as i64 > limit {
        history.truncate(limit as usize);
        history.last().map(encode_cursor)
    } else {
        None
    };
    Ok(Json(PointsView { total: standing.map_or(0, |s| s.total), history, next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/rankings", tag = "points", security(("bearer" = [])), params(TopParams),
    responses((status = 200, body = RankingView), (status = 422, description = "invalid limit")))]
#[tracing::instrument(skip_all)]
pub async fn top(
    State(points): State<PointsService>,
    _caller: AuthUser,
    Query(params): Query<TopParams>,
) -> ApiResult<Json<RankingView>> {
    let limit = parse_limit(params.limit.as_deref(), DEFAULT_TOP, super::ranking::MAX_TOP as i64)?;
    Ok(Json(RankingView { rankings: points.top(limit as usize).await? }))
}

#[utoipa::path(get, path = "/api/v1/rankings/me", tag = "points", security(("bearer" = [])),
    responses((status = 200, body = MyRankView)))]
#[tracing::instrument(skip_all)]
pub async fn my_rank(State(points): State<PointsService>, caller: AuthUser) -> ApiResult<Json<MyRankView>> {
    let view = match points.rank_of(&caller.user_id).await? {
        Some((rank, standing)) => {
            MyRankView { rank, total: standing.total, reached_at_ms: Some(standing.reached_at_ms) }
        }
        None => MyRankView { rank: None, total: 0, reached_at_ms: None },
    };
    Ok(Json(view))
}

#[utoipa::path(get, path = "/api/v1/rankings/search", tag = "points", security(("bearer" = [])), params(SearchParams),
    responses((status = 200, body = RankingView), (status = 422, description = "missing or invalid nickname or limit")))]
#[tracing::instrument(skip_all)]
pub async fn search(
    State(points): State<PointsService>,
    _caller: AuthUser,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<RankingView>> {
    let mut errors = Vec::new();
    let prefix = params.nickname.as_deref().map(str::trim).unwrap_or_default();
    if !(1..=MAX_PREFIX_CHARS).contains(&prefix.chars().count()) {
        errors.push(FieldError {
            field: "nickname".into(),
            message: format!("must be 1 to {MAX_PREFIX_CHARS} characters"),
        });
    }
    let limit = match parse_limit(params.limit.as_deref(), DEFAULT_SEARCH, MAX_SEARCH as i64) {
        Ok(limit) => limit,
        Err(ApiError::Validation(mut fields)) => {
            errors.append(&mut fields);
            DEFAULT_SEARCH
        }
        Err(other) => return Err(other),
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(Json(RankingView { rankings: points.search(prefix, limit as usize).await? }))
}
