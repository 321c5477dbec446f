//! `/posts`, `/posts/nearby`, `/posts/{id}`, `/posts/{id}/vote` and `/me/posts`.

use super::CommunityState;
use super::model::{NewPost, Post, Vote};
use super::nearby::{self, NearbyError, NearbyQuery, Order};
use super::store::{Deletion, PostStoreError, VoteOutcome};
use crate::auth::AuthUser;
use crate::auth::Authenticator;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::geo::Point;
use crate::http::cursor::{Cursor, post_id};
use crate::http::extract::{Json, Query, parse_coordinate};
use crate::http::pagination::{PageParams, invalid_cursor, next_page, parse_limit};
use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    CommunityState: FromRef<S>,
    Authenticator: FromRef<S>,
{
    Router::new()
        .route("/posts", post(create_post))
        .route("/posts/nearby", get(nearby_posts))
        .route("/posts/{id}", get(get_post).delete(delete_post))
        .route("/posts/{id}/vote", put(set_vote).delete(withdraw_vote))
        .route("/me/posts", get(my_posts))
}

impl From<PostStoreError> for ApiError {
    fn from(err: PostStoreError) -> Self {
        match err {
            PostStoreError::Database(err) => err.into(),
        }
    }
}

impl From<NearbyError> for ApiError {
    fn from(err: NearbyError) -> Self {
        match err {
            NearbyError::CursorOrder => ApiError::bad_request("invalid_cursor", err.to_string()),
            NearbyError::TooDense => ApiError::field("radius_m", err.to_string()),
            NearbyError::Store(err) => err.into(),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePost {
    /// 1–20 characters.
    pub title: Option<String>,
    /// 1–150 characters.
    pub body: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Store the location rounded to about a kilometre instead of exactly.
    #[serde(default)]
    pub coarse_location: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuthorView {
    pub id: String,
    pub nickname: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PostView {
    pub id: String,
    pub title: String,
    pub body: String,
    pub lat: f64,
    pub lon: f64,
    /// Absent once the author deleted their account.
    pub author: Option<AuthorView>,
    pub helpful: i64,
    pub not_helpful: i64,
    /// The caller's own vote.
    pub my_vote: Option<Vote>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Metres from the point of a nearby listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
}

impl PostView {
    fn new(post: Post, distance_m: Option<f64>) -> Self {
        Self {
            author: post.author_id.map(|id| AuthorView { id, nickname: post.author_nickname }),
            id: post.id,
            title: post.title,
            body: post.body,
            lat: post.location.lat,
            lon: post.location.lon,
            helpful: post.helpful,
            not_helpful: post.not_helpful,
            my_vote: post.my_vote,
            created_at: chrono::DateTime::from_timestamp_millis(post.created_at).unwrap_or_default(),
            distance_m: distance_m.map(|d| (d * 10.0).round() / 10.0),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PostPage {
    pub posts: Vec<PostView>,
    /// Pass as `cursor` for the next page; absent on the last page. A nearby page may hold
    /// fewer posts than `limit` (even none) and still have a next page: each request reads a
    /// bounded number of posts.
    pub next_cursor: Option<String>,
    /// Nearby listings: the radius the listing covers, in metres. Nearest first covers less
    /// than the radius asked where too many posts lie in it to rank them all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radius_m: Option<f64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetVote {
    pub vote: Vote,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VoteView {
    pub post_id: String,
    pub helpful: i64,
    pub not_helpful: i64,
    pub my_vote: Option<Vote>,
}

/// Query of the nearby listing. Numbers arrive as text so that a missing or malformed one gets
/// a field-level 422 like any other invalid value.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct NearbyParams {
    /// Latitude of the centre, -90 to 90.
    #[param(value_type = f64)]
    lat: Option<String>,
    /// Longitude of the centre, -180 to 180.
    #[param(value_type = f64)]
    lon: Option<String>,
    /// Default 5000, at most 20000.
    #[param(value_type = Option<f64>)]
    radius_m: Option<String>,
    /// `newest` (default) or `nearest`.
    #[param(value_type = Option<Order>)]
    order: Option<String>,
    cursor: Option<String>,
    /// Default 20, at most 50.
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
}

impl NearbyParams {
    fn parse(&self) -> ApiResult<NearbyQuery> {
        let mut errors = Vec::new();
        let lat = parse_coordinate("lat", self.lat.as_deref(), &mut errors);
        let lon = parse_coordinate("lon", self.lon.as_deref(), &mut errors);
        let center = match (lat, lon) {
            (Some(lat), Some(lon)) => Point::new(lat, lon)
                .map_err(|(field, message)| {
                    errors.push(FieldError { field: field.into(), message: message.into() })
                })
                .ok(),
            _ => None,
        };
        let radius_m = match self.radius_m.as_deref().map(str::parse::<f64>) {
            None => nearby::DEFAULT_RADIUS_M,
            Some(Ok(radius)) if radius.is_finite() && radius > 0.0 && radius <= nearby::MAX_RADIUS_M => {
                radius
            }
            Some(_) => {
                errors.push(FieldError {
                    field: "radius_m".into(),
                    message: format!(
                        "must be a number of metres above 0 and at most {}",
                        nearby::MAX_RADIUS_M
                    ),
                });
                nearby::DEFAULT_RADIUS_M
            }
        };
        let order = match self.order.as_deref() {
            None | Some("newest") => Order::Newest,
            Some("nearest") => Order::Nearest,
            Some(_) => {
                errors
                    .push(FieldError { field: "order".into(), message: "must be newest or nearest".into() });
                Order::Newest
            }
        };
        let limit = parse_limit(self.limit.as_deref(), &mut errors);
        let (Some(center), true) = (center, errors.is_empty()) else {
            return Err(ApiError::Validation(errors));
        };
        let cursor = self.cursor.as_deref().map(Cursor::decode).transpose().map_err(|_| invalid_cursor())?;
        Ok(NearbyQuery { center, radius_m, order, limit, cursor })
    }
}

/// The canonical post id in a path, or 404 for anything that cannot be one.
fn path_post_id(raw: &str) -> ApiResult<String> {
    post_id(raw).map_err(|_| ApiError::NotFound { what: "post" })
}

#[utoipa::path(post, path = "/api/v1/posts", tag = "community", security(("bearer" = [])), request_body = CreatePost,
    responses((status = 201, body = PostView), (status = 422, description = "invalid title, body or coordinates")))]
#[tracing::instrument(skip_all)]
pub async fn create_post(
    State(community): State<CommunityState>,
    caller: AuthUser,
    Json(body): Json<CreatePost>,
) -> ApiResult<impl IntoResponse> {
    let mut missing = Vec::new();
    for (field, present) in [
        ("title", body.title.is_some()),
        ("body", body.body.is_some()),
        ("lat", body.lat.is_some()),
        ("lon", body.lon.is_some()),
    ] {
        if !present {
            missing.push(FieldError { field: field.into(), message: "is required".into() });
        }
    }
    let (Some(title), Some(text), Some(lat), Some(lon), true) =
        (body.title, body.body, body.lat, body.lon, missing.is_empty())
    else {
        return Err(ApiError::Validation(missing));
    };
    let new_post = NewPost::parse(&caller.user_id, &title, &text, lat, lon, body.coarse_location)
        .map_err(ApiError::Validation)?;
    let post = community.posts.create(new_post).await?;
    let location = format!("/api/v1/posts/{}", post.id);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(PostView::new(post, None))))
}

#[utoipa::path(get, path = "/api/v1/posts/nearby", tag = "community", security(("bearer" = [])), params(NearbyParams),
    responses((status = 200, body = PostPage), (status = 422, description = "invalid coordinates, radius or order"),
              (status = 400, description = "invalid cursor")))]
#[tracing::instrument(skip_all)]
pub async fn nearby_posts(
    State(community): State<CommunityState>,
    caller: AuthUser,
    Query(params): Query<NearbyParams>,
) -> ApiResult<axum::Json<PostPage>> {
    let query = params.parse()?;
    let page = nearby::nearby(community.posts.as_ref(), &caller.user_id, &query).await?;
    Ok(axum::Json(PostPage {
        posts: page
            .items
            .into_iter()
            .map(|found| PostView::new(found.post, Some(found.distance_m)))
            .collect(),
        next_cursor: page.next_cursor.map(|cursor| cursor.encode()),
        radius_m: Some(page.radius_m),
    }))
}

#[utoipa::path(get, path = "/api/v1/posts/{id}", tag = "community", security(("bearer" = [])),
    responses((status = 200, body = PostView), (status = 404, description = "no such post")))]
#[tracing::instrument(skip_all)]
pub async fn get_post(
    State(community): State<CommunityState>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<PostView>> {
    let id = path_post_id(&id)?;
    let post = community.posts.get(&id, &caller.user_id).await?.ok_or(ApiError::NotFound { what: "post" })?;
    Ok(axum::Json(PostView::new(post, None)))
}

#[utoipa::path(delete, path = "/api/v1/posts/{id}", tag = "community", security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 403, description = "not the author"), (status = 404, description = "no such post")))]
#[tracing::instrument(skip_all)]
pub async fn delete_post(
    State(community): State<CommunityState>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_post_id(&id)?;
    match community.posts.delete(&id, &caller.user_id).await? {
        Deletion::Deleted => Ok(StatusCode::NO_CONTENT),
        Deletion::NotFound => Err(ApiError::NotFound { what: "post" }),
        Deletion::NotAuthor => Err(ApiError::Forbidden {
            code: "not_post_author",
            detail: "only the author can delete this post".into(),
        }),
    }
}

fn vote_view(post_id: String, outcome: VoteOutcome) -> axum::Json<VoteView> {
    axum::Json(VoteView {
        post_id,
        helpful: outcome.helpful,
        not_helpful: outcome.not_helpful,
        my_vote: outcome.current,
    })
}

#[utoipa::path(put, path = "/api/v1/posts/{id}/vote", tag = "community", security(("bearer" = [])), request_body = SetVote,
    responses((status = 200, body = VoteView, description = "the counts as this vote left them"), (status = 404, description = "no such post")))]
#[tracing::instrument(skip_all)]
pub async fn set_vote(
    State(community): State<CommunityState>,
    caller: AuthUser,
    Path(id): Path<String>,
    Json(body): Json<SetVote>,
) -> ApiResult<axum::Json<VoteView>> {
    let id = path_post_id(&id)?;
    let outcome = super::votes::cast(
        community.posts.as_ref(),
        &community.vote_notices,
        &id,
        &caller.user_id,
        Some(body.vote),
    )
    .await?
    .ok_or(ApiError::NotFound { what: "post" })?;
    Ok(vote_view(id, outcome))
}

#[utoipa::path(delete, path = "/api/v1/posts/{id}/vote", tag = "community", security(("bearer" = [])),
    responses((status = 200, body = VoteView, description = "withdrawn (or there was none)"), (status = 404, description = "no such post")))]
#[tracing::instrument(skip_all)]
pub async fn withdraw_vote(
    State(community): State<CommunityState>,
    caller: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<VoteView>> {
    let id = path_post_id(&id)?;
    let outcome =
        super::votes::cast(community.posts.as_ref(), &community.vote_notices, &id, &caller.user_id, None)
            .await?
            .ok_or(ApiError::NotFound { what: "post" })?;
    Ok(vote_view(id, outcome))
}

#[utoipa::path(get, path = "/api/v1/me/posts", tag = "me", security(("bearer" = [])), params(PageParams),
    responses((status = 200, body = PostPage), (status = 400, description = "invalid cursor")))]
#[tracing::instrument(skip_all)]
pub async fn my_posts(
    State(community): State<CommunityState>,
    caller: AuthUser,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<PostPage>> {
    let (limit, before) = params.parse()?;
    let mut posts = community.posts.by_author(&caller.user_id, before.as_deref(), limit as i64 + 1).await?;
    let next_cursor = next_page(&mut posts, limit, |post| &post.id);
    Ok(axum::Json(PostPage {
        posts: posts.into_iter().map(|post| PostView::new(post, None)).collect(),
        next_cursor,
        radius_m: None,
    }))
}
