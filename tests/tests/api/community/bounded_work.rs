//! A box full of posts the circle never shows: thousands placed in the corners of the
//! listing's bounding box, outside its radius. Each request reads a bounded number of rows
//! (`nearby_rows_examined_total` moves by at most `MAX_ROWS_EXAMINED` per request), and the
//! listing still shows exactly the posts inside the circle: newest first by continuing across
//! pages, nearest first over the radius it can rank, which it reports.

use super::support::{reference_distance_m, walk};
use serde_json::Value;
use std::collections::BTreeSet;
use weatherwise::community::nearby::{MAX_RANKED, MAX_ROWS_EXAMINED};
use weatherwise::geo::{BoundingBox, Point, lat_band};
use weatherwise_tests::{Mode, Session, TestApp, both_modes, metric};

both_modes!(community_nearby_reads_a_bounded_number_of_rows_per_request);

const CENTER: (f64, f64) = (37.5665, 126.9780);
const RADIUS_M: f64 = 1_000.0;
/// More than one request may read, in the corners alone.
const CORNER_POSTS: usize = MAX_ROWS_EXAMINED + 1_000;

async fn rows_examined(server: &TestApp) -> f64 {
    metric(&server.metrics().await, "nearby_rows_examined_total", "").unwrap_or(0.0)
}

/// Inserts posts at `points` in a few statements (creating thousands one by one would be the
/// slowest part of the test); their ids are fresh UUIDv7s, so newer than every earlier post.
async fn seed(server: &TestApp, author: &str, points: &[(f64, f64)]) -> Vec<String> {
    let pool = server.state().adapters.db.pool();
    let mut ids = Vec::new();
    for chunk in points.chunks(200) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let n = i * 5;
                format!(
                    "(${}, ${}, 'corner', 'far', ${}, ${}, ${}, 0, 0, 0)",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5
                )
            })
            .collect();
        let sql = format!(
            "insert into posts (id, author_id, title, body, lat, lon, lat_band, helpful_count, not_helpful_count, created_at) values {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for &(lat, lon) in chunk {
            let id = uuid::Uuid::now_v7().to_string();
            query = query.bind(id.clone()).bind(author.to_owned()).bind(lat).bind(lon).bind(lat_band(lat));
            ids.push(id);
        }
        query.execute(pool).await.expect("seed corner posts");
    }
    ids
}

/// Follows a listing page by page, checking how many rows each request read.
async fn walk_counting(server: &TestApp, caller: &Session, first: &str) -> (Vec<Value>, Vec<Value>) {
    let (mut posts, mut pages) = (Vec::new(), Vec::new());
    let mut path = first.to_owned();
    for _ in 0..100 {
        let before = rows_examined(server).await;
        let page = server.get_json(caller, &path).await;
        let read = rows_examined(server).await - before;
        assert!(read <= MAX_ROWS_EXAMINED as f64, "one request read {read} rows: {path}");
        posts.extend(page["posts"].as_array().expect("posts").iter().cloned());
        let next = page["next_cursor"].as_str().map(|cursor| format!("{first}&cursor={cursor}"));
        pages.push(page);
        match next {
            Some(next) => path = next,
            None => return (posts, pages),
        }
    }
    panic!("the listing never ended");
}

async fn community_nearby_reads_a_bounded_number_of_rows_per_request(mode: Mode) {
    let server = TestApp::spawn(mode).await;
    let author = server.user().await;
    let (lat, lon) = CENTER;
    // Thirty posts well inside the circle (within 400 m), created first: the oldest.
    let mut inside = BTreeSet::new();
    for i in 0..30 {
        let offset = (i as f64 - 15.0) * 0.000_15;
        let post = server.create_post(&author, &format!("inside {i}"), lat + offset, lon - offset).await;
        inside.insert(post["id"].as_str().expect("id").to_owned());
    }
    // The corners of the box: inside it, about 1.27 radii from the centre.
    let area = BoundingBox::around(Point { lat, lon }, RADIUS_M);
    let (dlat, dlon) = ((area.max_lat - lat) * 0.9, (area.max_lon - lon) * 0.9);
    let corners: Vec<(f64, f64)> = (0..CORNER_POSTS)
        .map(|i| {
            let jitter = (i % 97) as f64 * 1e-6;
            let (sign_lat, sign_lon) = [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)][i % 4];
            (lat + sign_lat * (dlat - jitter), lon + sign_lon * (dlon - jitter))
        })
        .collect();
    assert!(corners.iter().all(|&(plat, plon)| reference_distance_m(lat, lon, plat, plon) > RADIUS_M));
    let corner_ids = seed(&server, &author.user_id, &corners).await;
    let newest_inside = inside.iter().max().expect("posts inside");
    assert!(corner_ids.iter().all(|id| id > newest_inside), "the corner posts are the newest");

    // Newest first walks through the corners in bounded requests and shows exactly the inside.
    let path = format!("/posts/nearby?lat={lat}&lon={lon}&radius_m={RADIUS_M}&order=newest&limit=50");
    let (listed, pages) = walk_counting(&server, &author, &path).await;
    let listed: Vec<String> = listed.iter().map(|post| post["id"].as_str().expect("id").to_owned()).collect();
    assert_eq!(listed.iter().cloned().collect::<BTreeSet<_>>(), inside, "exactly the posts inside");
    assert_eq!(listed.len(), inside.len(), "no duplicates");
    assert!(listed.windows(2).all(|pair| pair[0] > pair[1]), "newest first");
    assert!(pages.len() >= 2, "the corners took more than one request");
    assert!(pages[0]["posts"].as_array().is_some_and(Vec::is_empty), "the first request read only corners");
    assert!(pages.iter().all(|page| page["radius_m"] == RADIUS_M));

    // Nearest first cannot rank the box: it ranks a smaller one, says so, and its posts are
    // exactly those inside that radius, nearest first.
    let path = format!("/posts/nearby?lat={lat}&lon={lon}&radius_m={RADIUS_M}&order=nearest&limit=20");
    let (listed, pages) = walk_counting(&server, &author, &path).await;
    let covered = pages[0]["radius_m"].as_f64().expect("the covered radius");
    assert!((400.0..RADIUS_M).contains(&covered), "covered {covered} m");
    assert!(pages.iter().all(|page| page["radius_m"] == covered), "every page covers the same radius");
    let distances: Vec<f64> =
        listed.iter().map(|post| post["distance_m"].as_f64().expect("distance")).collect();
    assert!(distances.windows(2).all(|pair| pair[0] <= pair[1]), "nearest first");
    let ids: BTreeSet<String> =
        listed.iter().map(|post| post["id"].as_str().expect("id").to_owned()).collect();
    assert_eq!(ids, inside, "every post inside, within the covered radius");
    assert!(inside.len() <= MAX_RANKED);

    // Without the corners' weight the whole radius is ranked.
    let small = format!("/posts/nearby?lat={lat}&lon={lon}&radius_m=400&order=nearest&limit=50");
    let all = walk(&server, &author, &small).await;
    assert_eq!(all.len(), inside.len());
}
