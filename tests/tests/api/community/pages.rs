//! Keyset pages of the nearby listing stay stable while another client inserts and deletes
//! posts between page requests.

use super::support::destination;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use weatherwise_tests::{Mode, Session, TestApp, both_modes};

both_modes!(community_pages_stay_stable_while_posts_come_and_go);

const LAT: f64 = 37.5665;
const LON: f64 = 126.978;
const RADIUS: f64 = 3_000.0;

async fn post_near(server: &TestApp, caller: &Session, rng: &mut StdRng, title: &str) -> String {
    let (lat, lon) = destination(
        LAT,
        LON,
        rng.random_range(0.0..std::f64::consts::TAU),
        rng.random_range(0.0..RADIUS * 0.99),
    );
    server.create_post(caller, title, lat, lon).await["id"].as_str().expect("id").to_owned()
}

async fn community_pages_stay_stable_while_posts_come_and_go(mode: Mode) {
    let server = Arc::new(TestApp::spawn(mode).await);
    let (reader, writer) = (server.user().await, server.user().await);
    let mut rng = StdRng::seed_from_u64(7);
    let mut stable = HashSet::new();
    let mut volatile = Vec::new();
    for i in 0..160 {
        if i % 4 == 0 {
            volatile.push(post_near(&server, &writer, &mut rng, "volatile").await);
        } else {
            stable.insert(post_near(&server, &writer, &mut rng, "stable").await);
        }
    }

    // The churn: inserts a post and deletes an earlier volatile or churned one, again and again.
    let running = Arc::new(AtomicBool::new(true));
    let churn = {
        let (server, running, writer) = (server.clone(), running.clone(), writer.clone());
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(8);
            let mut rounds = 0;
            while running.load(Ordering::Relaxed) {
                volatile.push(post_near(&server, &writer, &mut rng, "churn").await);
                let victim = volatile.swap_remove(rng.random_range(0..volatile.len()));
                assert_eq!(server.delete(&writer, &format!("/posts/{victim}")).await.status(), 204);
                rounds += 1;
            }
            rounds
        })
    };

    for order in ["newest", "nearest"] {
        let first = format!("/posts/nearby?lat={LAT}&lon={LON}&radius_m={RADIUS}&order={order}&limit=7");
        let mut path = first.clone();
        let mut seen: Vec<Value> = Vec::new();
        loop {
            let page = server.get_json(&reader, &path).await;
            seen.extend(page["posts"].as_array().expect("posts").iter().cloned());
            let Some(cursor) = page["next_cursor"].as_str() else { break };
            path = format!("{first}&cursor={cursor}");
            // Let the churn land between pages.
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        let ids: Vec<&str> = seen.iter().filter_map(|p| p["id"].as_str()).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{order}: no post twice");
        let skipped: Vec<_> = stable.iter().filter(|id| !unique.contains(id.as_str())).collect();
        assert!(skipped.is_empty(), "{order}: posts present for the whole walk were skipped: {skipped:?}");
        assert!(seen.iter().all(|p| p["distance_m"].as_f64().is_some_and(|d| d <= RADIUS)));
        for pair in seen.windows(2) {
            match order {
                "newest" => assert!(pair[1]["id"].as_str() < pair[0]["id"].as_str(), "newest first"),
                _ => {
                    assert!(pair[1]["distance_m"].as_f64() >= pair[0]["distance_m"].as_f64(), "nearest first")
                }
            }
        }
    }
    running.store(false, Ordering::Relaxed);
    let rounds = churn.await.expect("churn");
    assert!(rounds >= 10, "the churn ran during the walks ({rounds} rounds)");
}
