//! `POST /missions/{id}/verifications`: a photo for a mission. The photo is checked, measured
//! and stored, the verification queued, and the answer is 202 at once; the decision comes
//! later (SSE and polling). Uploads are limited per user, refused ones included, and read and
//! decoded within the process's photo memory budget.

use super::model::{PhotoFacts, VerificationView};
use super::state::Verifier;
use super::store::{NewVerification, SubmitError};
use crate::auth::{AuthUser, rate_limit};
use crate::error::{ApiError, ApiResult};
use crate::geo::{Point, distance_m};
use crate::http::extract::PathId;
use crate::missions::{Mission, MissionState};
use crate::photos::{MAX_PHOTO_BYTES, StoredPhoto};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use std::sync::Arc;

/// Room for the multipart framing around the photo.
pub const MAX_UPLOAD_BODY: usize = MAX_PHOTO_BYTES + 64 * 1024;

impl From<SubmitError> for ApiError {
    fn from(err: SubmitError) -> Self {
        match err {
            SubmitError::NotFound => ApiError::NotFound { what: "mission" },
            SubmitError::NotOpen(_) => ApiError::conflict("mission_not_open", err.to_string()),
            SubmitError::AttemptsExhausted => ApiError::conflict("attempts_exhausted", err.to_string()),
            SubmitError::Expired => ApiError::conflict("mission_expired", err.to_string()),
            SubmitError::Database(err) => err.into(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/missions/{id}/verifications", tag = "missions", security(("bearer" = [])),
    params(("id" = String, Path, description = "the mission's id (a UUID)")),
    request_body(content_type = "multipart/form-data", description = "`photo`: a JPEG, PNG or WebP image, at most 10 MiB and 40 megapixels"),
    responses((status = 202, body = VerificationView, description = "queued; the decision arrives by SSE and at /verifications/{id}"),
              (status = 404, description = "no such mission of yours"),
              (status = 409, description = "the mission takes no photo now (decided, under review, out of attempts, another day)"),
              (status = 413, description = "the photo is larger than 10 MiB"),
              (status = 415, description = "not a supported image type, or not the declared one"),
              (status = 422, description = "the photo is unreadable, too large in pixels or animated"),
              (status = 429, description = "too many uploads by this user; `Retry-After` says when to try again"),
              (status = 503, description = "the server's photo memory is taken by other uploads; `Retry-After` says when to try again")))]
#[tracing::instrument(skip_all, fields(mission = %mission_id))]
pub async fn submit(
    State(verifier): State<Arc<Verifier>>,
    caller: AuthUser,
    PathId { id: mission_id, .. }: PathId<Mission>,
    headers: HeaderMap,
    multipart: Multipart,
) -> ApiResult<impl IntoResponse> {
    // Every upload counts, refused or not: a refused photo costs as much until its refusal.
    rate_limit::check(verifier.state.as_ref(), "photo-upload", &caller.user_id, verifier.upload_limit)
        .await?;
    let mission = verifier
        .missions
        .get(&mission_id)
        .await?
        .filter(|m| m.user_id == caller.user_id)
        .ok_or(ApiError::NotFound { what: "mission" })?;
    let today = crate::weather::seoul_date(crate::db::now_ms()).format("%Y-%m-%d").to_string();
    let max_attempts = verifier.config.max_daily_attempts;
    // Refused before the photo is read, when the answer cannot be yes.
    if mission.local_date != today {
        return Err(SubmitError::Expired.into());
    }
    if !MissionState::OPEN.contains(&mission.state) {
        return Err(SubmitError::NotOpen(mission.state).into());
    }
    if mission.attempts >= max_attempts {
        return Err(SubmitError::AttemptsExhausted.into());
    }
    // The body's memory is taken from the photo budget before a byte of it is read, and held
    // while the photo and its copies are.
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok())
        .unwrap_or(MAX_UPLOAD_BODY);
    let _body_memory = verifier.photos.budget().reserve(declared_length.min(MAX_UPLOAD_BODY)).await?;
    let (bytes, declared) = read_photo(multipart, declared_length.min(MAX_PHOTO_BYTES)).await?;
    let prepared = verifier.photos.prepare(bytes, declared.as_deref()).await?;
    let day = verifier.missions.day(&caller.user_id, &mission.local_date).await?;
    let gps_distance_m = match (prepared.gps, day) {
        (Some((lat, lon)), Some(day)) => match (Point::new(lat, lon), Point::new(day.lat, day.lon)) {
            (Ok(photo), Ok(user)) => Some(distance_m(photo, user)),
            _ => None,
        },
        _ => None,
    };
    let reused = verifier.verifications.seen_before(prepared.dhash).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let StoredPhoto { normalised_key, full_key } =
        crate::photos::store(verifier.files.as_ref(), &id, &prepared).await?;
    let new = NewVerification {
        id: id.clone(),
        mission_id: mission.id.clone(),
        user_id: caller.user_id.clone(),
        photo: PhotoFacts {
            sha256: prepared.sha256_hex(),
            mime: prepared.mime.to_owned(),
            width: prepared.width,
            height: prepared.height,
            brightness: prepared.brightness,
            dhash: prepared.dhash,
            captured_at: prepared.captured_at_ms,
            gps_distance_m,
            reused,
        },
        normalised_key: normalised_key.clone(),
        full_key: full_key.clone(),
    };
    if let Err(err) = verifier.verifications.submit(&new, max_attempts, &today).await {
        // Nothing refers to the stored copies; do not keep them.
        for key in [&normalised_key, &full_key] {
            if let Err(err) = verifier.files.delete(key).await {
                tracing::warn!(error = ?err, key, "removing an orphaned photo failed");
            }
        }
        return Err(err.into());
    }
    verifier.job_signal.queued();
    let verification =
        verifier.verifications.get(&id).await?.ok_or_else(|| anyhow::anyhow!("verification vanished"))?;
    let location = format!("/api/v1/verifications/{id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        axum::Json(VerificationView::from(verification)),
    ))
}

/// The `photo` part, read in chunks and refused as soon as it passes the size limit. Its
/// buffer is `expected` bytes from the start: grown by doubling, a 9 MiB photo would hold 16
/// MiB, and both the old and the new buffer while it moves.
async fn read_photo(mut multipart: Multipart, expected: usize) -> ApiResult<(Vec<u8>, Option<String>)> {
    let mut photo = None;
    while let Some(mut field) = multipart.next_field().await.map_err(bad_multipart)? {
        if field.name() != Some("photo") {
            return Err(ApiError::field(
                field.name().unwrap_or("(unnamed)"),
                "unexpected part; send only `photo`",
            ));
        }
        if photo.is_some() {
            return Err(ApiError::field("photo", "send one photo"));
        }
        let declared = field.content_type().map(str::to_owned);
        let mut bytes = Vec::with_capacity(expected);
        while let Some(chunk) = field.chunk().await.map_err(bad_multipart)? {
            if bytes.len() + chunk.len() > MAX_PHOTO_BYTES {
                return Err(crate::photos::PhotoError::TooLarge(bytes.len() + chunk.len()).into());
            }
            bytes.extend_from_slice(&chunk);
        }
        photo = Some((bytes, declared));
    }
    photo.ok_or_else(|| ApiError::field("photo", "is required"))
}

fn bad_multipart(err: axum::extract::multipart::MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return crate::photos::PhotoError::TooLarge(MAX_UPLOAD_BODY).into();
    }
    ApiError::bad_request("invalid_multipart", err.body_text())
}
