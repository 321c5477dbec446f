//! What the policy cannot decide waits for an admin; rejections can be retried within the
//! daily bound, or appealed once.

use super::support::{any_mission, configure, decided, distinct_photo, get, spawn, submit, submitted};
use serde_json::{Value, json};
use weatherwise_tests::fake_vision::Behaviour;
use weatherwise_tests::{Deployment, Mode, Session, TestApp, assert_problem, both_modes};

both_modes!(
    missions_without_a_model_wait_for_review_and_an_admin_decides,
    missions_rejections_are_retried_within_the_daily_bound,
    missions_an_appeal_sends_a_rejection_to_review
);

async fn review(app: &TestApp, admin: &Session, id: &str, decision: &str, reason: &str) -> reqwest::Response {
    app.http
        .post(app.api(&format!("/admin/reviews/{id}")))
        .bearer_auth(&admin.access)
        .json(&json!({"decision": decision, "reason": reason}))
        .send()
        .await
        .expect("request")
}

async fn queue(app: &TestApp, admin: &Session) -> Vec<Value> {
    get(app, &admin.access, "/admin/reviews").await["items"].as_array().expect("items").clone()
}

async fn missions_without_a_model_wait_for_review_and_an_admin_decides(mode: Mode) {
    let mut deployment = Deployment::new(mode).await;
    configure(&mut deployment.config, None);
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let user = app.new_user().await;
    let mission = any_mission(&app, &user.access).await;
    let id = submitted(&app, &user.access, &mission, distinct_photo(1), "image/jpeg").await;
    assert_eq!(decided(&app, &user.access, &id).await["state"], "needs_review");
    assert_eq!(get(&app, &user.access, &format!("/missions/{mission}")).await["state"], "needs_review");

    // Only admins see the queue; it shows the photo's facts, the mission and the call.
    let refused =
        app.http.get(app.api("/admin/reviews")).bearer_auth(&user.access).send().await.expect("request");
    assert_problem(refused, 403, "admin_only").await;
    let items = queue(&app, &admin).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["mission"]["id"], mission.as_str());
    assert!(items[0]["call_id"].is_string(), "{}", items[0]);
    let photo = app
        .http
        .get(app.api(&format!("/admin/verifications/{id}/photo")))
        .bearer_auth(&admin.access)
        .send()
        .await
        .expect("request");
    assert_eq!(photo.status(), 200);
    assert_eq!(photo.headers()["content-type"], "image/jpeg");
    assert!(image::load_from_memory(&photo.bytes().await.expect("bytes")).is_ok());

    assert_problem(review(&app, &admin, &id, "needs_review", "hm").await, 422, "validation_failed").await;
    assert_problem(review(&app, &admin, &id, "approved", "").await, 422, "validation_failed").await;
    let approved = review(&app, &admin, &id, "approved", "The cup is clearly there.").await;
    assert_eq!(approved.status(), 200);
    let body: Value = approved.json().await.expect("json");
    assert_eq!(body["state"], "approved");
    assert_eq!(body["decided_by"], "review");
    assert_eq!(body["reason"], "The cup is clearly there.");
    // Decided once: a second review conflicts, and the points were credited once.
    assert_problem(review(&app, &admin, &id, "rejected", "changed my mind").await, 409, "not_in_review")
        .await;
    let points = get(&app, &user.access, "/me/points").await;
    let mission_points = get(&app, &user.access, &format!("/missions/{mission}")).await["points"].clone();
    assert_eq!(points["total"], mission_points);
    assert!(queue(&app, &admin).await.is_empty());
    let inspected = get(&app, &admin.access, &format!("/admin/verifications/{id}")).await;
    assert_eq!(inspected["user_id"], user.user_id.as_str());

    // Every read of the user's verification, photo and queue entry is on the record.
    let audit = get(&app, &admin.access, "/admin/audit").await;
    let entries = audit["entries"].as_array().unwrap_or_else(|| panic!("audit entries: {audit}"));
    let recorded = |action: &str, target: &str| {
        entries.iter().any(|entry| {
            entry["action"] == action && entry["target"] == target && entry["actor"] == admin.user_id.as_str()
        })
    };
    assert!(recorded("verification.review", &id), "{audit}");
    assert!(recorded("verification.photo.read", &id), "{audit}");
    assert!(recorded("verification.read", &id), "{audit}");
    assert!(recorded("verification.queue.read", "review-queue"), "{audit}");
}

async fn missions_rejections_are_retried_within_the_daily_bound(mode: Mode) {
    let (app, _vision) = spawn(mode, Behaviour::grade(false, 0.97)).await;
    let user = app.new_user().await;
    let mission = any_mission(&app, &user.access).await;
    for attempt in 0..3u64 {
        let id = submitted(&app, &user.access, &mission, distinct_photo(10 + attempt), "image/jpeg").await;
        let verdict = decided(&app, &user.access, &id).await;
        assert_eq!(verdict["state"], "rejected", "attempt {attempt}: {verdict}");
        let detail = get(&app, &user.access, &format!("/missions/{mission}")).await;
        assert_eq!(detail["state"], "rejected");
        assert_eq!(detail["attempts_left"], 2 - attempt as i64);
    }
    let refused = submit(&app, &user.access, &mission, distinct_photo(20), "image/jpeg").await;
    assert_problem(refused, 409, "attempts_exhausted").await;
    assert_eq!(get(&app, &user.access, "/me/points").await["total"], 0);
}

async fn missions_an_appeal_sends_a_rejection_to_review(mode: Mode) {
    let vision = weatherwise_tests::fake_vision::FakeVision::start(Behaviour::grade(false, 0.97)).await;
    let mut deployment = Deployment::new(mode).await;
    configure(&mut deployment.config, Some(&vision));
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let user = app.new_user().await;
    let mission = any_mission(&app, &user.access).await;
    let id = submitted(&app, &user.access, &mission, distinct_photo(30), "image/jpeg").await;
    assert_eq!(decided(&app, &user.access, &id).await["state"], "rejected");

    let appeal = |message: &str| {
        app.http
            .post(app.api(&format!("/verifications/{id}/appeal")))
            .bearer_auth(&user.access)
            .json(&json!({"message": message}))
            .send()
    };
    assert_problem(appeal("").await.expect("request"), 422, "validation_failed").await;
    let sent = appeal("That is my tumbler, look at the left side.").await.expect("request");
    assert_eq!(sent.status(), 200);
    let body: Value = sent.json().await.expect("json");
    assert_eq!(body["state"], "needs_review");
    assert_eq!(body["appeal"], "That is my tumbler, look at the left side.");
    assert_problem(appeal("again").await.expect("request"), 409, "not_appealable").await;
    // Under review, the mission takes no new photo.
    let refused = submit(&app, &user.access, &mission, distinct_photo(31), "image/jpeg").await;
    assert_problem(refused, 409, "mission_not_open").await;

    let items = queue(&app, &admin).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["appeal"], "That is my tumbler, look at the left side.");
    assert_eq!(review(&app, &admin, &id, "approved", "Appeal accepted.").await.status(), 200);
    assert_eq!(get(&app, &user.access, &format!("/missions/{mission}")).await["state"], "approved");
    assert!(get(&app, &user.access, "/me/points").await["total"].as_i64().unwrap_or_default() > 0);
    // Someone else's verification cannot be appealed or even seen.
    let stranger = app.new_user().await;
    let response = app
        .http
        .get(app.api(&format!("/verifications/{id}")))
        .bearer_auth(&stranger.access)
        .send()
        .await
        .expect("request");
    assert_problem(response, 404, "not_found").await;
}
