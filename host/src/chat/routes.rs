//! `/chat/rooms`, `/chat/rooms/{id}`, `/chat/rooms/{id}/messages`, the moderation routes under
//! `/admin/chat`, and the STOMP endpoint `GET /ws` ([`super::connection`]).

use super::ChatState;
use super::model::{ChatMessage, Room, RoomStatus, destination};
use crate::auth::admin::AdminUser;
use crate::auth::{AuthUser, Authenticator};
use crate::error::{ApiError, ApiResult};
use crate::http::cursor::Cursor;
use crate::http::extract::{Json, PathId, Query, Resource};
use crate::http::pagination::{PageParams, invalid_cursor, next_page, parse_limit};
use crate::weather::alerts::StoredWarning;
use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, put};
use serde::{Deserialize, Serialize};

pub struct RoomResource;

impl Resource for RoomResource {
    const NAME: &'static str = "room";
}

/// The REST routes, nested under `/api/v1`.
pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    ChatState: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new()
        .route("/chat/rooms", get(rooms))
        .route("/chat/rooms/{id}", get(room))
        .route("/chat/rooms/{id}/messages", get(messages))
        .route("/admin/chat/rooms/{id}/messages/{message_id}", delete(delete_message))
        .route("/admin/chat/rooms/{id}/mutes/{user_id}", put(mute))
}

/// The STOMP endpoint, at the root.
pub fn ws_router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    ChatState: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new().route("/ws", get(super::connection::upgrade))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoomView {
    pub id: String,
    pub province: String,
    pub name: String,
    pub status: RoomStatus,
    /// Subscribe here over STOMP (`GET /ws`).
    pub destination: String,
    /// Names the room's history; a resuming client sends it back with its last offset.
    pub epoch: String,
    /// The offset of the latest message (0 before the first).
    pub latest_offset: i64,
    /// Connections subscribed to the room now, on every instance.
    pub online: u32,
    pub opened_at_ms: i64,
    pub closed_at_ms: Option<i64>,
    /// The warnings that opened or joined the room.
    pub alerts: Vec<StoredWarning>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoomsPage {
    /// Open rooms first, then read-only ones, newest first.
    pub rooms: Vec<RoomView>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MessagesPage {
    /// Newest first.
    pub messages: Vec<ChatMessage>,
    pub next_cursor: Option<String>,
}

async fn view(chat: &ChatState, room: Room) -> ApiResult<RoomView> {
    let keys = chat.store.warning_keys(&room.id).await.map_err(anyhow::Error::from)?;
    let alerts = chat.warnings.of_keys(&keys).await.map_err(anyhow::Error::from)?;
    Ok(RoomView {
        destination: destination(&room.id),
        online: chat.online(&room.id).await,
        latest_offset: room.next_offset - 1,
        id: room.id,
        province: room.province,
        name: room.name,
        status: room.status,
        epoch: room.epoch,
        opened_at_ms: room.opened_at_ms,
        closed_at_ms: room.closed_at_ms,
        alerts,
    })
}

#[utoipa::path(get, path = "/api/v1/chat/rooms", tag = "chat", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = RoomsPage)))]
#[tracing::instrument(skip_all)]
pub async fn rooms(
    State(chat): State<ChatState>,
    _caller: AuthUser,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<RoomsPage>> {
    let (limit, before) = page.parse()?;
    let mut found = chat.store.rooms(before.as_deref(), limit).await.map_err(anyhow::Error::from)?;
    let open = found.iter().take_while(|room| room.status == RoomStatus::Open).count();
    let mut closed = found.split_off(open);
    let next_cursor = next_page(&mut closed, limit, |room| &room.id);
    let mut rooms = Vec::with_capacity(found.len() + closed.len());
    for room in found.into_iter().chain(closed) {
        rooms.push(view(&chat, room).await?);
    }
    Ok(axum::Json(RoomsPage { rooms, next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/chat/rooms/{id}", tag = "chat", security(("bearer" = [])),
    responses((status = 200, body = RoomView), (status = 404, description = "no such room")))]
#[tracing::instrument(skip_all)]
pub async fn room(
    State(chat): State<ChatState>,
    _caller: AuthUser,
    id: PathId<RoomResource>,
) -> ApiResult<axum::Json<RoomView>> {
    let room = chat.store.room(&id.id).await.map_err(anyhow::Error::from)?;
    let room = room.ok_or(ApiError::NotFound { what: "room" })?;
    Ok(axum::Json(view(&chat, room).await?))
}

#[utoipa::path(get, path = "/api/v1/chat/rooms/{id}/messages", tag = "chat", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = MessagesPage), (status = 404, description = "no such room")))]
#[tracing::instrument(skip_all)]
pub async fn messages(
    State(chat): State<ChatState>,
    _caller: AuthUser,
    id: PathId<RoomResource>,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<MessagesPage>> {
    let mut errors = Vec::new();
    let limit = parse_limit(page.limit.as_deref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    // The cursor is the offset of the last message of the previous page: offsets never move,
    // so pages stay put while messages arrive.
    let before = match page.cursor.as_deref().map(Cursor::decode) {
        None => None,
        Some(Ok(Cursor::BeforeOffset { offset })) => Some(offset),
        Some(_) => return Err(invalid_cursor()),
    };
    if chat.store.room(&id.id).await.map_err(anyhow::Error::from)?.is_none() {
        return Err(ApiError::NotFound { what: "room" });
    }
    let mut messages = chat.store.history(&id.id, before, limit + 1).await.map_err(anyhow::Error::from)?;
    let next_cursor = if messages.len() > limit {
        messages.truncate(limit);
        messages.last().map(|message| Cursor::BeforeOffset { offset: message.offset }.encode())
    } else {
        None
    };
    Ok(axum::Json(MessagesPage { messages, next_cursor }))
}

#[utoipa::path(delete, path = "/api/v1/admin/chat/rooms/{id}/messages/{message_id}", tag = "admin",
    security(("bearer" = [])),
    responses((status = 204, description = "deleted for everyone"), (status = 404, description = "no such message")))]
#[tracing::instrument(skip_all)]
pub async fn delete_message(
    State(chat): State<ChatState>,
    AdminUser(admin): AdminUser,
    Path((room_id, message_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    if chat.delete_message(&admin.user_id, &room_id, &message_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound { what: "message" })
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteRequest {
    /// 1 to 43200 (30 days).
    pub minutes: i64,
    /// Shown in the audit log; 1 to 200 characters.
    pub reason: String,
}

#[utoipa::path(put, path = "/api/v1/admin/chat/rooms/{id}/mutes/{user_id}", tag = "admin",
    security(("bearer" = [])), request_body = MuteRequest,
    responses((status = 204, description = "muted"), (status = 404, description = "no such room or user"),
        (status = 422, description = "invalid duration or reason")))]
#[tracing::instrument(skip_all)]
pub async fn mute(
    State(chat): State<ChatState>,
    AdminUser(admin): AdminUser,
    Path((room_id, user_id)): Path<(String, String)>,
    Json(request): Json<MuteRequest>,
) -> ApiResult<StatusCode> {
    if !(1..=43_200).contains(&request.minutes) {
        return Err(ApiError::field("minutes", "must be from 1 to 43200"));
    }
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(ApiError::field("reason", "must be 1 to 200 characters"));
    }
    if chat.store.room(&room_id).await.map_err(anyhow::Error::from)?.is_none() {
        return Err(ApiError::NotFound { what: "room" });
    }
    let until = crate::db::now_ms() + request.minutes * 60_000;
    if !chat.mute(&admin.user_id, &room_id, &user_id, until, reason).await? {
        return Err(ApiError::NotFound { what: "user" });
    }
    Ok(StatusCode::NO_CONTENT)
}
