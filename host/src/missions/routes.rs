//! `/missions/today`, `/missions/{id}` and `/missions` (history).

use super::MissionService;
use super::model::{Mission, MissionView};
use super::today::{TodayError, missions_today};
use crate::auth::AuthUser;
use crate::auth::Authenticator;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::geo::Point;
use crate::http::extract::{PathId, Query, parse_coordinate};
use crate::http::pagination::{PageParams, next_page};
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, header};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<MissionService>: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new()
        .route("/missions/today", get(today))
        .route("/missions/{id}", get(mission))
        .route("/missions", get(history))
}

impl From<TodayError> for ApiError {
    fn from(err: TodayError) -> Self {
        match err {
            TodayError::LocationNeeded => ApiError::Validation(vec![
                FieldError {
                    field: "lat".into(),
                    message: "is required for the first request of the day".into(),
                },
                FieldError {
                    field: "lon".into(),
                    message: "is required for the first request of the day".into(),
                },
            ]),
            TodayError::Weather(err) => err.into(),
            TodayError::GeneratorFailed => {
                ApiError::Unavailable { code: "generator_failed", detail: err.to_string() }
            }
            TodayError::Internal(err) => ApiError::Internal(err),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TodayParams {
    /// Where the user is; needed on the first request of the day.
    #[param(value_type = Option<f64>)]
    lat: Option<String>,
    #[param(value_type = Option<f64>)]
    lon: Option<String>,
}

impl TodayParams {
    fn location(&self) -> ApiResult<Option<(f64, f64)>> {
        if self.lat.is_none() && self.lon.is_none() {
            return Ok(None);
        }
        let mut errors = Vec::new();
        let lat = parse_coordinate("lat", self.lat.as_deref(), &mut errors);
        let lon = parse_coordinate("lon", self.lon.as_deref(), &mut errors);
        if let (Some(lat), Some(lon)) = (lat, lon)
            && let Err((field, message)) = Point::new(lat, lon)
        {
            errors.push(FieldError { field: field.into(), message: message.into() });
        }
        match (lat, lon) {
            (Some(lat), Some(lon)) if errors.is_empty() => Ok(Some((lat, lon))),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TodayView {
    /// The local day (Asia/Seoul), `YYYY-MM-DD`.
    pub local_date: String,
    /// The province the missions were made for.
    pub region: String,
    /// True when the weather behind these missions was an old snapshot.
    pub weather_stale: bool,
    pub missions: Vec<MissionView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MissionPage {
    pub missions: Vec<MissionView>,
    pub next_cursor: Option<String>,
}

/// The first request of the day makes the missions, in the language the profile chose, else
/// the one `Accept-Language` prefers (`ko` or `en`), else Korean; they keep that language all
/// day.
#[utoipa::path(get, path = "/api/v1/missions/today", tag = "missions", security(("bearer" = [])),
    params(TodayParams, ("Accept-Language" = Option<String>, Header, description = "e.g. `en`; used when the profile chose no language")),
    responses((status = 200, body = TodayView), (status = 422, description = "missing or invalid location"),
              (status = 503, description = "no weather or no generator answer yet; try again")))]
#[tracing::instrument(skip_all)]
pub async fn today(
    State(service): State<Arc<MissionService>>,
    caller: AuthUser,
    Query(params): Query<TodayParams>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<TodayView>> {
    let location = params.location()?;
    let accept_language = headers.get(header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok());
    let today =
        missions_today(&service, &caller.user_id, location, accept_language, crate::db::now_ms()).await?;
    let max = service.max_daily_attempts;
    Ok(axum::Json(TodayView {
        local_date: today.day.local_date,
        region: today.day.region,
        weather_stale: today.day.weather_stale,
        missions: today.missions.into_iter().map(|m| MissionView::new(m, max)).collect(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MissionDetail {
    #[serde(flatten)]
    pub mission: MissionView,
    /// Verifications of this mission, newest first.
    pub verifications: Vec<crate::verification::VerificationView>,
}

#[utoipa::path(get, path = "/api/v1/missions/{id}", tag = "missions", security(("bearer" = [])),
    params(("id" = String, Path, description = "the mission's id (a UUID)")),
    responses((status = 200, body = MissionDetail), (status = 404, description = "no such mission of yours")))]
#[tracing::instrument(skip_all)]
pub async fn mission(
    State(service): State<Arc<MissionService>>,
    caller: AuthUser,
    PathId { id, .. }: PathId<Mission>,
) -> ApiResult<axum::Json<MissionDetail>> {
    let mission = service
        .store
        .get(&id)
        .await?
        .filter(|m| m.user_id == caller.user_id)
        .ok_or(ApiError::NotFound { what: "mission" })?;
    let verifications = service.verifications.of_mission(&mission.id).await?;
    Ok(axum::Json(MissionDetail {
        mission: MissionView::new(mission, service.max_daily_attempts),
        verifications: verifications.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/missions", tag = "missions", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = MissionPage), (status = 400, description = "invalid cursor")))]
#[tracing::instrument(skip_all)]
pub async fn history(
    State(service): State<Arc<MissionService>>,
    caller: AuthUser,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<MissionPage>> {
    let (limit, before) = params.parse()?;
    let mut missions = service.store.history(&caller.user_id, before.as_deref(), limit as i64 + 1).await?;
    let next_cursor = next_page(&mut missions, limit, |m| &m.id);
    let max = service.max_daily_attempts;
    Ok(axum::Json(MissionPage {
        missions: missions.into_iter().map(|m| MissionView::new(m, max)).collect(),
        next_cursor,
    }))
}
