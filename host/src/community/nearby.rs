//! The nearby listing: posts within a radius of a point, newest first or nearest first, a page
//! at a time.
//!
//! The store answers a bounding box from its index; the exact great-circle distance filters
//! here. Pages are keyset pages over that filtered stream, so a page is always full unless the
//! stream is exhausted, and the next page starts strictly after the last item shown: posts
//! inserted or deleted between pages never cause a duplicate or skip one that stayed.

use super::model::Post;
use super::store::{Located, PostStore, PostStoreError};
use crate::geo::{BoundingBox, Point, distance_m};
use crate::http::cursor::Cursor;
use std::collections::HashMap;

pub use crate::http::pagination::{DEFAULT_LIMIT, MAX_LIMIT};

pub const DEFAULT_RADIUS_M: f64 = 5_000.0;
pub const MAX_RADIUS_M: f64 = 20_000.0;
/// Nearest-first ranks every post in the box; past this many the request is refused rather
/// than allowed to read without bound (a smaller radius or newest-first still answers).
pub const MAX_RANKED_CANDIDATES: usize = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    Newest,
    Nearest,
}

#[derive(Debug, Clone)]
pub struct NearbyQuery {
    pub center: Point,
    pub radius_m: f64,
    pub order: Order,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Clone)]
pub struct Found {
    pub post: Post,
    pub distance_m: f64,
}

#[derive(Debug, Clone)]
pub struct NearbyPage {
    pub items: Vec<Found>,
    pub next_cursor: Option<Cursor>,
}

#[derive(Debug, thiserror::Error)]
pub enum NearbyError {
    #[error("this cursor belongs to the other order")]
    CursorOrder,
    #[error("more than {MAX_RANKED_CANDIDATES} posts in this area: use a smaller radius or newest first")]
    TooDense,
    #[error(transparent)]
    Store(#[from] PostStoreError),
}

/// One page of posts within `query.radius_m` of `query.center`, as `viewer` sees them.
pub async fn nearby(
    store: &dyn PostStore,
    viewer: &str,
    query: &NearbyQuery,
) -> Result<NearbyPage, NearbyError> {
    let area = BoundingBox::around(query.center, query.radius_m);
    let (hits, next_cursor) = match query.order {
        Order::Newest => newest(store, &area, query).await?,
        Order::Nearest => nearest(store, &area, query).await?,
    };
    let ids: Vec<String> = hits.iter().map(|(located, _)| located.id.clone()).collect();
    let mut posts: HashMap<String, Post> =
        store.get_many(&ids, viewer).await?.into_iter().map(|post| (post.id.clone(), post)).collect();
    // A post deleted since it was ranked is simply left out; the cursor still moves past it.
    let items = hits
        .into_iter()
        .filter_map(|(located, distance_m)| posts.remove(&located.id).map(|post| Found { post, distance_m }))
        .collect();
    Ok(NearbyPage { items, next_cursor })
}

type Hits = Vec<(Located, f64)>;

/// Walks the box newest first in batches until a page plus one more hit is found (the extra
/// one tells whether a next page exists) or the box is exhausted.
async fn newest(
    store: &dyn PostStore,
    area: &BoundingBox,
    query: &NearbyQuery,
) -> Result<(Hits, Option<Cursor>), NearbyError> {
    let mut before = match &query.cursor {
        None => None,
        Some(Cursor::Before { id }) => Some(id.clone()),
        Some(Cursor::After { .. }) => return Err(NearbyError::CursorOrder),
    };
    // The circle fills about π/4 of its box, so twice a page is nearly always one batch.
    let batch = ((query.limit + 1) * 2).max(32);
    let mut hits = Vec::with_capacity(query.limit + 1);
    loop {
        let candidates = store.in_area(area, before.as_deref(), batch as i64).await?;
        let exhausted = candidates.len() < batch;
        before = candidates.last().map(|located| located.id.clone());
        for located in candidates {
            let distance = distance_m(query.center, located.location);
            if distance <= query.radius_m {
                hits.push((located, distance));
                if hits.len() > query.limit {
                    break;
                }
            }
        }
        if hits.len() > query.limit || exhausted {
            break;
        }
    }
    let next_cursor = if hits.len() > query.limit {
        hits.truncate(query.limit);
        hits.last().map(|(located, _)| Cursor::Before { id: located.id.clone() })
    } else {
        None
    };
    Ok((hits, next_cursor))
}

/// Ranks every post of the box by (distance, id) and returns those after the cursor.
async fn nearest(
    store: &dyn PostStore,
    area: &BoundingBox,
    query: &NearbyQuery,
) -> Result<(Hits, Option<Cursor>), NearbyError> {
    let after = match &query.cursor {
        None => None,
        Some(Cursor::After { distance_m, id }) => Some((*distance_m, id.as_str())),
        Some(Cursor::Before { .. }) => return Err(NearbyError::CursorOrder),
    };
    let candidates = store.in_area(area, None, MAX_RANKED_CANDIDATES as i64 + 1).await?;
    if candidates.len() > MAX_RANKED_CANDIDATES {
        return Err(NearbyError::TooDense);
    }
    let is_after = |distance: f64, id: &str| match after {
        None => true,
        Some((cursor_distance, cursor_id)) => {
            distance.total_cmp(&cursor_distance).then_with(|| id.cmp(cursor_id)).is_gt()
        }
    };
    let mut hits: Hits = candidates
        .into_iter()
        .map(|located| {
            let distance = distance_m(query.center, located.location);
            (located, distance)
        })
        .filter(|(located, distance)| *distance <= query.radius_m && is_after(*distance, &located.id))
        .collect();
    hits.sort_by(|(a, da), (b, db)| da.total_cmp(db).then_with(|| a.id.cmp(&b.id)));
    let next_cursor = if hits.len() > query.limit {
        hits.truncate(query.limit);
        hits.last().map(|(located, distance)| Cursor::After { distance_m: *distance, id: located.id.clone() })
    } else {
        None
    };
    Ok((hits, next_cursor))
}
