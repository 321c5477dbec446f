//! The whole journey: sign up, today's missions from the weather, a real photo, the model's
//! approval, the live event, points and rank.

use super::support::{COFFEE, decided, get, mission_like, spawn, submit, today};
use std::time::Duration;
use weatherwise_tests::fake_vision::Behaviour;
use weatherwise_tests::sse::SseStream;
use weatherwise_tests::{Mode, both_modes};

both_modes!(missions_sign_up_to_points_and_rank);

async fn missions_sign_up_to_points_and_rank(mode: Mode) {
    let (app, vision) = spawn(mode, Behaviour::grade(true, 0.93)).await;
    let user = app.new_user().await;
    let mut events = SseStream::open(&app.http, &app.api("/notifications/stream"), &user.access, None).await;

    // Today's missions come from the cold, dry fixture day, and asking again changes nothing.
    let first = today(&app, &user.access).await;
    let missions = first["missions"].as_array().expect("missions");
    assert!(!missions.is_empty() && missions.len() <= 3, "{first}");
    assert_eq!(first["weather_stale"], false);
    assert!(!first["region"].as_str().unwrap_or_default().is_empty());
    assert_eq!(today(&app, &user.access).await["missions"], first["missions"], "idempotent per day");
    let (mission_id, mission) = mission_like(&app, &user.access, "tumbler").await;
    assert_eq!(mission["state"], "assigned");
    let points = mission["points"].as_i64().expect("points");

    // A real photo of a coffee cup.
    let response = submit(&app, &user.access, &mission_id, COFFEE.to_vec(), "image/png").await;
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let body: serde_json::Value = response.json().await.expect("json");
    let id = body["id"].as_str().expect("id").to_owned();
    assert_eq!(location, format!("/api/v1/verifications/{id}"));
    assert!(matches!(body["state"].as_str(), Some("queued" | "verifying" | "approved")), "{body}");

    let verdict = decided(&app, &user.access, &id).await;
    assert_eq!(verdict["state"], "approved", "{verdict}");
    assert_eq!(verdict["decided_by"], "policy");
    assert!(verdict["reason"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(vision.requests().len(), 1, "one question to the model");

    // The decision and the credit arrive live, in that order.
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        let event = events.next_within(Duration::from_secs(10)).await.expect("an event within 10 s");
        if matches!(event.event.as_deref(), Some("verification.decided" | "points.credited")) {
            kinds.push((event.event.clone().unwrap_or_default(), event.json()));
        }
    }
    assert_eq!(kinds[0].0, "verification.decided");
    assert_eq!(kinds[0].1["verification_id"], id.as_str());
    assert_eq!(kinds[0].1["state"], "approved");
    assert_eq!(kinds[1].0, "points.credited");
    assert_eq!(kinds[1].1["points"], points);
    assert_eq!(kinds[1].1["total"], points);

    // The mission is approved, the points are mine, and I lead the ranking.
    let detail = get(&app, &user.access, &format!("/missions/{mission_id}")).await;
    assert_eq!(detail["state"], "approved");
    assert_eq!(detail["attempts_left"], 0);
    assert_eq!(detail["verifications"][0]["id"], id.as_str());
    let mine = get(&app, &user.access, "/me/points").await;
    assert_eq!(mine["total"], points, "{mine}");
    let rank = get(&app, &user.access, "/rankings/me").await;
    assert_eq!(rank["rank"], 1, "{rank}");
    assert_eq!(rank["total"], points, "{rank}");

    // An approved mission takes no second photo.
    let again = submit(&app, &user.access, &mission_id, COFFEE.to_vec(), "image/png").await;
    weatherwise_tests::assert_problem(again, 409, "mission_not_open").await;

    // The history lists today's missions, newest first.
    let history = get(&app, &user.access, "/missions?limit=2").await;
    assert_eq!(history["missions"].as_array().map(Vec::len), Some(2.min(missions.len())));
}
