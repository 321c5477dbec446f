//! Dry-runs: a generator against posted weather (JSON), or a policy against a posted photo
//! (multipart), on a given version or the active one, without touching user data. Each
//! dry-run is recorded like any call, so it can be replayed.

use super::PluginsState;
use super::calls::Target;
use super::records::{PolicyVerdict, Purpose};
use super::validate;
use crate::auth::Authenticator;
use crate::auth::admin::AdminUser;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Json;
use crate::language::Language;
use crate::missions::{GenerationContext, MissionContent};
use crate::photos::{self, MAX_PHOTO_BYTES};
use crate::plugins::CallError;
use crate::verification::PhotoFeatures;
use crate::vision::ImageInput;
use crate::weather::SlotWeather;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, FromRequest, Multipart, Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The JSON part of a policy dry-run.
const MAX_REQUEST_PART_BYTES: usize = 64 * 1024;
/// The handle the posted photo gets inside the policy.
pub(super) const PHOTO_HANDLE: u64 = 1;

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PluginsState: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new().route(
        "/admin/plugins/{id}/dry-run",
        post(dry_run).layer(DefaultBodyLimit::max(MAX_PHOTO_BYTES + MAX_REQUEST_PART_BYTES + 4096)),
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunRequest {
    pub weather: Vec<SlotWeather>,
    /// `language` defaults to `ko`; a 0.1.0 generator does not receive it.
    pub user: GenerationContext,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DryRunResult {
    /// The call's record, for `…/plugin-calls/{id}` and its replay.
    pub call_id: String,
    pub sha256: String,
    pub missions: Vec<MissionContent>,
    pub dropped_for_safety: Vec<String>,
    pub fuel_used: u64,
}

/// The `request` part of a policy dry-run; the photo comes in the `photo` part.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDryRunRequest {
    pub mission: MissionContent,
    /// The language the policy answers in (default `ko`; a 0.1.0 policy does not receive it).
    #[serde(default)]
    pub language: Language,
    /// What the upload pipeline would have measured besides the pixels.
    #[serde(default)]
    pub capture_age_seconds: Option<i64>,
    #[serde(default)]
    pub gps_distance_m: Option<f32>,
    #[serde(default)]
    pub reused: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PolicyDryRunResult {
    pub call_id: String,
    pub sha256: String,
    pub verdict: PolicyVerdict,
    pub features: PhotoFeatures,
    pub fuel_used: u64,
}

/// Runs a version (a hash, or `active`) without touching user data: a generator with a JSON
/// body, a policy with a multipart body (`request` JSON part and `photo` file part).
#[utoipa::path(post, path = "/api/v1/admin/plugins/{id}/dry-run", tag = "admin", security(("bearer" = [])),
    request_body(content = DryRunRequest, description = "JSON for generators; multipart (`request`: PolicyDryRunRequest, `photo`: image) for policies"),
    responses((status = 200, body = DryRunResult), (status = 200, body = PolicyDryRunResult),
              (status = 422, description = "bad input, or the plugin failed (the field names the error kind)")))]
pub async fn dry_run(
    State(plugins): State<PluginsState>,
    _admin: AdminUser,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Response> {
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let target = if id == "active" { Target::Active } else { Target::Version(&id) };
    if content_type.starts_with("multipart/form-data") {
        let multipart = Multipart::from_request(request, &plugins)
            .await
            .map_err(|err| ApiError::bad_request("invalid_multipart", err.body_text()))?;
        Ok(axum::Json(policy_dry_run(&plugins, target, multipart).await?).into_response())
    } else {
        // A refused body is already the precise problem (415, 400, 422 or 413).
        let body = match Json::<DryRunRequest>::from_request(request, &plugins).await {
            Ok(Json(body)) => body,
            Err(rejection) => return Ok(rejection),
        };
        Ok(axum::Json(generator_dry_run(&plugins, target, body).await?).into_response())
    }
}

fn plugin_failed(err: CallError) -> ApiError {
    ApiError::Validation(vec![FieldError { field: err.kind.as_str().into(), message: err.message }])
}

async fn generator_dry_run(
    plugins: &PluginsState,
    target: Target<'_>,
    body: DryRunRequest,
) -> ApiResult<DryRunResult> {
    if body.weather.len() > 3 {
        return Err(ApiError::field("weather", "at most one snapshot per slot (3)"));
    }
    let run = plugins.registry.generate(target, &body.weather, &body.user, Purpose::DryRun).await?;
    let generated = run.outcome.map_err(plugin_failed)?;
    Ok(DryRunResult {
        call_id: run.call_id,
        sha256: run.sha256,
        missions: generated.missions,
        dropped_for_safety: generated.dropped_for_safety,
        fuel_used: generated.fuel_used,
    })
}

async fn read_parts(mut multipart: Multipart) -> ApiResult<(PolicyDryRunRequest, Vec<u8>)> {
    let (mut request, mut photo) = (None, None);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|err| ApiError::bad_request("invalid_multipart", err.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes =
            field.bytes().await.map_err(|err| ApiError::bad_request("invalid_multipart", err.body_text()))?;
        match name.as_str() {
            "request" if bytes.len() <= MAX_REQUEST_PART_BYTES => {
                let parsed: PolicyDryRunRequest = serde_json::from_slice(&bytes).map_err(|err| {
                    ApiError::field("request", format!("not a policy dry-run request: {err}"))
                })?;
                request = Some(parsed);
            }
            "request" => return Err(ApiError::field("request", "the request part is too large")),
            "photo" => photo = Some(bytes.to_vec()),
            other => return Err(ApiError::field(other, "unexpected part; send `request` and `photo`")),
        }
    }
    let request = request.ok_or_else(|| ApiError::field("request", "the `request` part is missing"))?;
    let photo = photo.ok_or_else(|| ApiError::field("photo", "the `photo` part is missing"))?;
    Ok((request, photo))
}

/// What a policy learns of a photo besides its pixels, given by the caller of a dry-run.
pub(super) struct StatedFeatures {
    pub capture_age_seconds: Option<i64>,
    pub gps_distance_m: Option<f32>,
    pub reused: bool,
}

/// Prepares a posted photo for a policy run through the upload pipeline: its features under
/// [`PHOTO_HANDLE`], and the normalised, metadata-free JPEG the model is shown.
pub(super) fn prepare_photo(
    bytes: &[u8],
    stated: StatedFeatures,
) -> Result<(PhotoFeatures, ImageInput), photos::PhotoError> {
    let photo = photos::prepare(bytes, None)?;
    let features = PhotoFeatures {
        handle: PHOTO_HANDLE,
        width: photo.width,
        height: photo.height,
        capture_age_seconds: stated.capture_age_seconds,
        gps_distance_m: stated.gps_distance_m.filter(|d| d.is_finite() && *d >= 0.0),
        brightness: photo.brightness,
        perceptual_hash: photo.dhash,
        reused: stated.reused,
    };
    Ok((features, ImageInput::new(photo.normalised, "image/jpeg")))
}

async fn policy_dry_run(
    plugins: &PluginsState,
    target: Target<'_>,
    multipart: Multipart,
) -> ApiResult<PolicyDryRunResult> {
    let (request, photo) = read_parts(multipart).await?;
    let mission = request.mission;
    validate::missions(std::slice::from_ref(&mission))
        .map_err(|err| ApiError::field("mission", err.message))?;
    let stated = StatedFeatures {
        capture_age_seconds: request.capture_age_seconds,
        gps_distance_m: request.gps_distance_m,
        reused: request.reused,
    };
    let (features, image) = tokio::task::spawn_blocking(move || prepare_photo(&photo, stated))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(|err| ApiError::field("photo", err.to_string()))?;
    let grader = plugins.vision.grader(HashMap::from([(PHOTO_HANDLE, image)]));
    let run = plugins
        .registry
        .verify(target, &mission, &features, request.language, grader, Purpose::DryRun)
        .await?;
    let verified = run.outcome.map_err(plugin_failed)?;
    Ok(PolicyDryRunResult {
        call_id: run.call_id,
        sha256: run.sha256,
        verdict: verified.verdict.into(),
        features,
        fuel_used: verified.fuel_used,
    })
}
