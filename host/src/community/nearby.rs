//! The nearby listing: posts within a radius of a point, newest first or nearest first, a page
//! at a time.
//!
//! The store answers a bounding box from its index; the exact great-circle distance filters
//! here. Pages are keyset pages over that filtered stream: the next page starts strictly after
//! the last item shown, so posts inserted or deleted between pages never cause a duplicate or
//! skip one that stayed.
//!
//! The work of one request is bounded: it reads at most [`MAX_ROWS_EXAMINED`] rows from the
//! store, wherever the posts lie (the corners of the box are outside the circle, so a box can
//! be full of posts that are never shown). Newest first stops when the budget is spent and
//! returns what it found with a cursor that continues after the last row read, so a page may
//! hold fewer than `limit` posts and still have a next page. Nearest first must rank every
//! post of the box; where more than [`MAX_RANKED`] lie in it, the listing covers a smaller
//! radius (halved until they fit, at most [`RADIUS_STEPS`] times) and says which.

use super::model::Post;
use super::store::{Located, PostStore, PostStoreError};
use crate::geo::{BoundingBox, Point, distance_m};
use crate::http::cursor::Cursor;
use std::collections::HashMap;

pub use crate::http::pagination::{DEFAULT_LIMIT, MAX_LIMIT};

pub const DEFAULT_RADIUS_M: f64 = 5_000.0;
pub const MAX_RADIUS_M: f64 = 20_000.0;
/// Posts nearest-first ranks in one request; a denser box is ranked over a smaller radius.
pub const MAX_RANKED: usize = 1_000;
/// Times nearest-first halves the radius looking for a box it can rank (20 km → 2.5 km).
pub const RADIUS_STEPS: usize = 4;
/// Rows one request reads from the store, whatever the order: every probe of nearest-first,
/// and the batches of newest-first.
pub const MAX_ROWS_EXAMINED: usize = RADIUS_STEPS * (MAX_RANKED + 1);

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
    /// The radius the page covers: the one asked, or a smaller one where nearest-first found
    /// too many posts to rank.
    pub radius_m: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum NearbyError {
    #[error("this cursor belongs to the other order")]
    CursorOrder,
    #[error("more than {MAX_RANKED} posts even within an eighth of this radius: use newest first")]
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
    let mut rows = RowBudget::default();
    let outcome = match query.order {
        Order::Newest => newest(store, query, &mut rows).await,
        Order::Nearest => nearest(store, query, &mut rows).await,
    };
    metrics::counter!("nearby_rows_examined_total").increment(rows.read as u64);
    metrics::histogram!("nearby_rows_examined").record(rows.read as f64);
    let (hits, next_cursor, radius_m) = outcome?;
    let ids: Vec<String> = hits.iter().map(|(located, _)| located.id.clone()).collect();
    let mut posts: HashMap<String, Post> =
        store.get_many(&ids, viewer).await?.into_iter().map(|post| (post.id.clone(), post)).collect();
    // A post deleted since it was ranked is simply left out; the cursor still moves past it.
    let items = hits
        .into_iter()
        .filter_map(|(located, distance_m)| posts.remove(&located.id).map(|post| Found { post, distance_m }))
        .collect();
    Ok(NearbyPage { items, next_cursor, radius_m })
}

type Hits = Vec<(Located, f64)>;

/// Rows read from the store so far in this request, against [`MAX_ROWS_EXAMINED`].
#[derive(Default)]
struct RowBudget {
    read: usize,
}

impl RowBudget {
    fn left(&self) -> usize {
        MAX_ROWS_EXAMINED.saturating_sub(self.read)
    }

    async fn in_area(
        &mut self,
        store: &dyn PostStore,
        area: &BoundingBox,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Located>, NearbyError> {
        let limit = limit.min(self.left());
        let rows = store.in_area(area, before, limit as i64).await?;
        self.read += rows.len();
        Ok(rows)
    }
}

/// Walks the box newest first in batches until a page plus one more hit is found (the extra
/// one tells whether a next page exists), the box is exhausted, or the row budget is spent
/// (then the cursor continues after the last row read).
async fn newest(
    store: &dyn PostStore,
    query: &NearbyQuery,
    rows: &mut RowBudget,
) -> Result<(Hits, Option<Cursor>, f64), NearbyError> {
    let mut before = match &query.cursor {
        None => None,
        Some(Cursor::Before { id }) => Some(id.clone()),
        Some(Cursor::After { .. } | Cursor::BeforeOffset { .. }) => return Err(NearbyError::CursorOrder),
    };
    let area = BoundingBox::around(query.center, query.radius_m);
    // The circle fills about π/4 of its box, so twice a page is nearly always one batch.
    let batch = ((query.limit + 1) * 2).max(32);
    let mut hits = Vec::with_capacity(query.limit + 1);
    loop {
        let asked = batch.min(rows.left());
        let candidates = rows.in_area(store, &area, before.as_deref(), asked).await?;
        let exhausted = candidates.len() < asked;
        let mut last_read = None;
        for located in candidates {
            last_read = Some(located.id.clone());
            let distance = distance_m(query.center, located.location);
            if distance <= query.radius_m {
                hits.push((located, distance));
                if hits.len() > query.limit {
                    break;
                }
            }
        }
        if hits.len() > query.limit {
            hits.truncate(query.limit);
            let next = hits.last().map(|(located, _)| Cursor::Before { id: located.id.clone() });
            return Ok((hits, next, query.radius_m));
        }
        if exhausted {
            return Ok((hits, None, query.radius_m));
        }
        before = last_read.or(before);
        if rows.left() == 0 {
            // The budget is spent: what was found, and the way on from the last row read.
            let next = before.map(|id| Cursor::Before { id });
            return Ok((hits, next, query.radius_m));
        }
    }
}

/// Ranks every post of the box by (distance, id) and returns those after the cursor; a box
/// holding more than [`MAX_RANKED`] posts is replaced by the box of half the radius.
async fn nearest(
    store: &dyn PostStore,
    query: &NearbyQuery,
    rows: &mut RowBudget,
) -> Result<(Hits, Option<Cursor>, f64), NearbyError> {
    let after = match &query.cursor {
        None => None,
        Some(Cursor::After { distance_m, id }) => Some((*distance_m, id.as_str())),
        Some(Cursor::Before { .. } | Cursor::BeforeOffset { .. }) => return Err(NearbyError::CursorOrder),
    };
    let mut radius_m = query.radius_m;
    let candidates = loop {
        let area = BoundingBox::around(query.center, radius_m);
        let candidates = rows.in_area(store, &area, None, MAX_RANKED + 1).await?;
        if candidates.len() <= MAX_RANKED {
            break candidates;
        }
        if rows.left() < MAX_RANKED + 1 {
            return Err(NearbyError::TooDense);
        }
        radius_m /= 2.0;
    };
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
        .filter(|(located, distance)| *distance <= radius_m && is_after(*distance, &located.id))
        .collect();
    hits.sort_by(|(a, da), (b, db)| da.total_cmp(db).then_with(|| a.id.cmp(&b.id)));
    let next_cursor = if hits.len() > query.limit {
        hits.truncate(query.limit);
        hits.last().map(|(located, distance)| Cursor::After { distance_m: *distance, id: located.id.clone() })
    } else {
        None
    };
    Ok((hits, next_cursor, radius_m))
}
