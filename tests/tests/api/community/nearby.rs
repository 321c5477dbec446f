//! The nearby listing against a reference haversine: thousands of seeded random points across
//! Korea, many of them a few metres inside or outside the radius.

use super::support::{destination, reference_distance_m, walk};
use futures::StreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use weatherwise::community::NewPost;
use weatherwise::geo::Point;
use weatherwise_tests::{Mode, TestApp, both_modes};

both_modes!(community_nearby_matches_a_reference_haversine);

/// (name, lat, lon, radius in metres)
const CENTERS: [(&str, f64, f64, f64); 5] = [
    ("Seoul City Hall", 37.5665, 126.9780, 5_000.0),
    ("Busan", 35.1796, 129.0756, 1_000.0),
    ("Jeju", 33.4996, 126.5312, 20_000.0),
    ("Daejeon", 36.3504, 127.3845, 2_500.0),
    ("Gangneung", 37.7519, 128.8761, 7_500.0),
];

async fn community_nearby_matches_a_reference_haversine(mode: Mode) {
    let server = TestApp::spawn(mode).await;
    let author = server.user().await;
    let mut rng = StdRng::seed_from_u64(0x5eed_2026);
    let mut points = Vec::new();
    for (_, lat, lon, radius) in CENTERS {
        for _ in 0..400 {
            // Uniform over the disc of 1.5 radii.
            let distance = 1.5 * radius * rng.random::<f64>().sqrt();
            points.push(destination(lat, lon, rng.random_range(0.0..std::f64::consts::TAU), distance));
        }
        for i in 0..120 {
            // Just inside or just outside: radius ± 0.5–3 m.
            let offset = rng.random_range(0.5..3.0) * if i % 2 == 0 { 1.0 } else { -1.0 };
            points.push(destination(lat, lon, rng.random_range(0.0..std::f64::consts::TAU), radius + offset));
        }
    }
    for _ in 0..800 {
        // Anywhere in South Korea's bounding box.
        points.push((rng.random_range(33.0..38.7), rng.random_range(124.5..131.0)));
    }
    let posts = server.state().community.posts.clone();
    let ids: Vec<(String, (f64, f64))> = futures::stream::iter(points)
        .map(|(lat, lon)| {
            let (posts, author) = (posts.clone(), author.user_id.clone());
            async move {
                let new = NewPost {
                    author_id: author,
                    title: "p".into(),
                    body: "b".into(),
                    location: Point { lat, lon },
                };
                (posts.create(new).await.expect("create").id, (lat, lon))
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let located: HashMap<&str, (f64, f64)> = ids.iter().map(|(id, at)| (id.as_str(), *at)).collect();

    for (name, lat, lon, radius) in CENTERS {
        let expected: BTreeSet<&str> = located
            .iter()
            .filter(|(_, (plat, plon))| reference_distance_m(lat, lon, *plat, *plon) <= radius)
            .map(|(id, _)| *id)
            .collect();
        let near_edge = located
            .values()
            .filter(|(plat, plon)| (reference_distance_m(lat, lon, *plat, *plon) - radius).abs() < 3.0)
            .count();
        assert!(near_edge >= 100, "{name}: the edge is exercised ({near_edge} points)");

        for order in ["newest", "nearest"] {
            let path = format!("/posts/nearby?lat={lat}&lon={lon}&radius_m={radius}&order={order}&limit=50");
            let listed = walk(&server, &author, &path).await;
            let listed_ids: Vec<&str> = listed.iter().filter_map(|p| p["id"].as_str()).collect();
            let unique: BTreeSet<&str> = listed_ids.iter().copied().collect();
            assert_eq!(unique.len(), listed_ids.len(), "{name} {order}: no duplicates");
            let missing: Vec<_> = expected.difference(&unique).collect();
            let extra: Vec<_> = unique.difference(&expected).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{name} {order}: missing {missing:?}, extra {extra:?}"
            );
            check_order_and_distances(&listed, order, lat, lon);
        }
    }
}

fn check_order_and_distances(listed: &[Value], order: &str, lat: f64, lon: f64) {
    let mut previous: Option<(f64, &str)> = None;
    for post in listed {
        let (id, plat, plon) = (
            post["id"].as_str().expect("id"),
            post["lat"].as_f64().expect("lat"),
            post["lon"].as_f64().expect("lon"),
        );
        let distance = post["distance_m"].as_f64().expect("distance_m");
        assert!((distance - reference_distance_m(lat, lon, plat, plon)).abs() <= 0.05 + 1e-9, "{post}");
        if let Some((previous_distance, previous_id)) = previous {
            match order {
                "newest" => assert!(id < previous_id, "newest first"),
                _ => assert!(distance >= previous_distance, "nearest first"),
            }
        }
        previous = Some((distance, id));
    }
}
