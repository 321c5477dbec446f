//! `GET /weather`: the day's slots at a point, for the apps.

use super::WeatherService;
use super::alerts::{AlertPoller, PollError, PollOutcome};
use super::service::{DayWeather, WeatherError};
use super::time::seoul_date;
use crate::auth::admin::AdminUser;
use crate::auth::{AuthUser, Authenticator};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Query;
use axum::extract::{FromRef, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use std::sync::Arc;

/// How many days ahead a day may be asked (the 3-day forecast's reach).
pub const MAX_DAYS_AHEAD: i64 = 2;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    WeatherService: FromRef<S>,
    Arc<AlertPoller>: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new().route("/weather", get(day)).route("/admin/alerts/poll", post(poll_alerts))
}

#[utoipa::path(post, path = "/api/v1/admin/alerts/poll", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = PollOutcome, description = "the feed was read and applied"),
        (status = 409, description = "a poll is running"), (status = 502, description = "the feed failed")))]
#[tracing::instrument(skip_all)]
pub async fn poll_alerts(
    State(poller): State<Arc<AlertPoller>>,
    AdminUser(admin): AdminUser,
) -> ApiResult<Json<PollOutcome>> {
    match poller.poll_now().await {
        Ok(outcome) => {
            tracing::info!(admin = %admin.user_id, new = outcome.new, lifted = outcome.lifted, "alerts polled on request");
            Ok(Json(outcome))
        }
        Err(PollError::Busy) => Err(ApiError::Conflict {
            code: "poll_running",
            detail: "a poll of the warning feed is running".into(),
        }),
        Err(PollError::Failed(err)) => {
            Err(ApiError::Upstream { code: "alert_feed_failed", detail: format!("{err:#}") })
        }
    }
}

impl From<WeatherError> for ApiError {
    fn from(err: WeatherError) -> Self {
        match err {
            WeatherError::InvalidPoint { field, message } => ApiError::field(field, message),
            WeatherError::Unavailable(_) => {
                ApiError::Unavailable { code: "weather_unavailable", detail: err.to_string() }
            }
        }
    }
}

/// Numbers arrive as text so that a malformed one gets a field-level 422.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct DayParams {
    /// Latitude, -90 to 90 (the point must be in Korea).
    #[param(value_type = f64)]
    lat: Option<String>,
    /// Longitude, -180 to 180.
    #[param(value_type = f64)]
    lon: Option<String>,
    /// Local date `YYYY-MM-DD` (Asia/Seoul), today to two days ahead; default today.
    #[param(value_type = Option<String>, format = Date)]
    date: Option<String>,
}

fn coordinate(name: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<f64> {
    let message = match raw.map(|text| text.trim().parse::<f64>()) {
        Some(Ok(value)) if value.is_finite() => return Some(value),
        None => "is required",
        Some(_) => "must be a number",
    };
    errors.push(FieldError { field: name.into(), message: message.into() });
    None
}

#[utoipa::path(get, path = "/api/v1/weather", tag = "weather", security(("bearer" = [])), params(DayParams),
    responses((status = 200, body = DayWeather), (status = 422, description = "invalid coordinates or date"),
        (status = 503, description = "`weather_unavailable`: the provider failed and nothing is cached")))]
#[tracing::instrument(skip_all)]
pub async fn day(
    State(weather): State<WeatherService>,
    _caller: AuthUser,
    Query(params): Query<DayParams>,
) -> ApiResult<Json<DayWeather>> {
    let mut errors = Vec::new();
    let lat = coordinate("lat", params.lat.as_deref(), &mut errors);
    let lon = coordinate("lon", params.lon.as_deref(), &mut errors);
    let today = seoul_date(chrono::Utc::now().timestamp_millis());
    let date = match params.date.as_deref().map(|text| NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")) {
        None => Some(today),
        Some(Ok(date)) if (0..=MAX_DAYS_AHEAD).contains(&(date - today).num_days()) => Some(date),
        Some(_) => {
            errors.push(FieldError {
                field: "date".into(),
                message: format!(
                    "must be a date YYYY-MM-DD from today to {MAX_DAYS_AHEAD} days ahead (Asia/Seoul)"
                ),
            });
            None
        }
    };
    let (Some(lat), Some(lon), Some(date), true) = (lat, lon, date, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    Ok(Json(weather.day(lat, lon, date).await?))
}
