//! The rules of a claim, each answer with its own code; idempotent retries; redeeming once;
//! the `coupon.issued` notification; and what admins do with events.

use super::support::{check, claim, create_event, open_event, today};
use serde_json::{Value, json};
use std::time::Duration;
use weatherwise_tests::{Deployment, Mode, both_modes};

async fn each_claim_is_answered_by_the_rules(mode: Mode) {
    let deployment = Deployment::new(mode).await;
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let event = open_event(&app, &admin, 2, 2).await;
    let users = deployment.stored_users(4).await;
    let (a, b, c, idle) = (&users[0], &users[1], &users[2], &users[3]);
    deployment.approve_a_mission_today(&users[..3]).await;
    let mut stream = app.stream(a, None).await;

    // No approved mission today: not eligible.
    let (status, body) = claim(&app, idle, &event, "k-idle").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("not_eligible")), "{body}");
    // No key: refused before anything else.
    let keyless = app.post(a, &format!("/coupon-events/{event}/claims"), &json!({})).await;
    assert_eq!(keyless.status(), 400);
    assert_eq!(keyless.json::<Value>().await.expect("json")["code"], "idempotency_key_required");

    // Issued, then the same answer again for the same key.
    let (status, first) = claim(&app, a, &event, "k-a1").await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        (first["event_id"].as_str(), first["user_id"].as_str()),
        (Some(event.as_str()), Some(a.user_id.as_str()))
    );
    assert_eq!(first["day"], today().to_string());
    let retry = app
        .http
        .post(app.api(&format!("/coupon-events/{event}/claims")))
        .bearer_auth(&a.access)
        .header("Idempotency-Key", "k-a1")
        .send()
        .await
        .expect("retry");
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers().get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(retry.json::<Value>().await.expect("json")["id"], first["id"], "the same coupon");
    // Another key: one coupon per user.
    let (status, body) = claim(&app, a, &event, "k-a2").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("already_holds")), "{body}");
    let event_ = stream.next_within(Duration::from_secs(10)).await.expect("a notification");
    assert_eq!(event_.event.as_deref(), Some("coupon.issued"));
    assert_eq!(event_.json()["coupon_id"], first["id"]);

    // The second and last coupon of the day, then sold out.
    assert_eq!(claim(&app, b, &event, "k-b").await.0, 201);
    let (status, body) = claim(&app, c, &event, "k-c").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("sold_out")), "{body}");
    let listed = app.get_json(c, "/coupon-events").await;
    let listed =
        listed["events"].as_array().expect("events").iter().find(|e| e["id"] == event.as_str()).cloned();
    let listed = listed.expect("the event is listed");
    assert_eq!(
        (listed["left_today"].as_i64(), listed["open_now"].as_bool()),
        (Some(0), Some(true)),
        "{listed}"
    );
    assert!(listed["next_opening"].as_str().is_some_and(|t| t.ends_with("+09:00")), "{listed}");

    // A key names one claim: reused on another event it is refused.
    let other = open_event(&app, &admin, 5, 1).await;
    let (status, body) = claim(&app, a, &other, "k-a1").await;
    assert_eq!((status, body["code"].as_str()), (422, Some("idempotency_key_reused")), "{body}");

    // Not open yet: tomorrow's event says when it opens.
    let tomorrow = today() + chrono::Days::new(1);
    let later = create_event(
        &app,
        &admin,
        &json!({"kind": "tumbler", "title": "Tumbler sale", "starts_on": tomorrow.to_string(),
                "ends_on": tomorrow.to_string(), "opens_at": "10:30", "daily_quantity": 10}),
    )
    .await;
    let (status, body) = claim(&app, b, &later, "k-later").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_open_yet")), "{body}");
    assert_eq!(body["opens_at"], format!("{tomorrow}T10:30:00+09:00"), "{body}");
    // Closed: over. Unknown: 404.
    let closed = app.post(&admin, &format!("/admin/coupon-events/{other}/close"), &json!({})).await;
    assert_eq!(closed.status(), 200);
    let (status, body) = claim(&app, b, &other, "k-closed").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("event_over")), "{body}");
    assert_eq!(claim(&app, b, &uuid::Uuid::now_v7().to_string(), "k-404").await.0, 404);

    // A points minimum: eligible by mission, short of points.
    let demanding = create_event(
        &app,
        &admin,
        &json!({"kind": "umbrella", "title": "Umbrella", "starts_on": today().to_string(),
                "ends_on": today().to_string(), "opens_at": "00:00", "daily_quantity": 10, "min_points": 50}),
    )
    .await;
    let (status, body) = claim(&app, c, &demanding, "k-points").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("not_eligible")), "{body}");

    // Redeemed once; nobody else's.
    let mine = app.get_json(a, "/me/coupons").await;
    assert_eq!(mine["coupons"].as_array().map(Vec::len), Some(1), "{mine}");
    let coupon = first["id"].as_str().expect("id");
    let stolen = app.post(b, &format!("/me/coupons/{coupon}/redeem"), &json!({})).await;
    assert_eq!(stolen.status(), 404);
    let used = app.post(a, &format!("/me/coupons/{coupon}/redeem"), &json!({})).await;
    assert_eq!(used.status(), 200);
    assert!(used.json::<Value>().await.expect("json")["redeemed_at_ms"].as_i64().is_some());
    let again = app.post(a, &format!("/me/coupons/{coupon}/redeem"), &json!({})).await;
    assert_eq!(again.status(), 409);
    assert_eq!(again.json::<Value>().await.expect("json")["code"], "already_redeemed");

    let checked = check(&app, &admin, &event).await;
    assert_eq!(checked["ok"], true, "{checked}");
    assert_eq!(checked["stored"]["coupons"], 2, "{checked}");
}

async fn admins_run_events_and_see_what_was_issued(mode: Mode) {
    let deployment = Deployment::new(mode).await;
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let users = deployment.stored_users(3).await;
    deployment.approve_a_mission_today(&users).await;

    // Bad fields are named; a user is not an admin.
    let invalid = app
        .post(
            &admin,
            "/admin/coupon-events",
            &json!({"kind": "Bad Kind", "title": "", "starts_on": "2026-13-01", "ends_on": "x",
                    "opens_at": "7am", "daily_quantity": 0}),
        )
        .await;
    assert_eq!(invalid.status(), 422);
    let problem: Value = invalid.json().await.expect("json");
    let fields: Vec<&str> =
        problem["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["kind", "title", "starts_on", "ends_on", "opens_at", "daily_quantity"], "{problem}");
    let refused = app.post(&users[0], "/admin/coupon-events", &json!({})).await;
    assert_eq!(refused.status(), 403);

    let event = open_event(&app, &admin, 3, 3).await;
    for (n, user) in users.iter().enumerate() {
        assert_eq!(claim(&app, user, &event, &format!("k{n}")).await.0, 201);
    }
    let coupon = app.get_json(&users[0], "/me/coupons").await["coupons"][0]["id"].clone();
    let used = app
        .post(&users[0], &format!("/me/coupons/{}/redeem", coupon.as_str().expect("id")), &json!({}))
        .await;
    assert_eq!(used.status(), 200);

    // The quantity cannot go under what today issued; above it, it applies today.
    let path = format!("/admin/coupon-events/{event}");
    let below = app
        .http
        .patch(app.api(&path))
        .bearer_auth(&admin.access)
        .json(&json!({"daily_quantity": 2}))
        .send()
        .await;
    let below = below.expect("patch");
    assert_eq!(below.status(), 409);
    assert_eq!(below.json::<Value>().await.expect("json")["code"], "quantity_below_issued");
    let raised = app
        .http
        .patch(app.api(&path))
        .bearer_auth(&admin.access)
        .json(&json!({"daily_quantity": 4}))
        .send()
        .await;
    let raised: Value = raised.expect("patch").json().await.expect("json");
    assert_eq!(raised["daily_quantity"], 4, "{raised}");
    let late = deployment.stored_users(1).await;
    deployment.approve_a_mission_today(&late).await;
    assert_eq!(claim(&app, &late[0], &event, "k-late").await.0, 201, "the raised quantity applies today");

    // Issued coupons, filtered; per-day counts; the check.
    let all = app.get_json(&admin, &format!("/admin/coupon-events/{event}/coupons?limit=2")).await;
    assert_eq!(all["coupons"].as_array().map(Vec::len), Some(2));
    let rest = app
        .get_json(
            &admin,
            &format!(
                "/admin/coupon-events/{event}/coupons?cursor={}",
                all["next_cursor"].as_str().expect("cursor")
            ),
        )
        .await;
    assert_eq!(rest["coupons"].as_array().map(Vec::len), Some(2));
    let used = app.get_json(&admin, &format!("/admin/coupon-events/{event}/coupons?redeemed=true")).await;
    assert_eq!(used["coupons"].as_array().map(Vec::len), Some(1), "{used}");
    let by_user = app
        .get_json(&admin, &format!("/admin/coupon-events/{event}/coupons?user_id={}", users[1].user_id))
        .await;
    assert_eq!(by_user["coupons"][0]["user_id"], users[1].user_id.as_str());
    let bad = app.get(&admin, &format!("/admin/coupon-events/{event}/coupons?day=yesterday")).await;
    assert_eq!(bad.status(), 422);
    let days = app.get_json(&admin, &format!("/admin/coupon-events/{event}/days")).await;
    assert_eq!(
        days["days"][0],
        json!({"day": today().to_string(), "quantity": 4, "issued": 4, "redeemed": 1})
    );
    let checked = check(&app, &admin, &event).await;
    assert_eq!(checked["ok"], true, "{checked}");

    let closed = app.post(&admin, &format!("/admin/coupon-events/{event}/close"), &json!({})).await;
    assert!(closed.json::<Value>().await.expect("json")["closed_at_ms"].as_i64().is_some());
    let listed = app.get_json(&users[0], "/coupon-events").await;
    assert!(
        !listed["events"].as_array().expect("events").iter().any(|e| e["id"] == event.as_str()),
        "{listed}"
    );

    let audit = app.get_json(&admin, "/admin/audit").await;
    let actions: Vec<&str> =
        audit["entries"].as_array().expect("entries").iter().filter_map(|e| e["action"].as_str()).collect();
    for action in ["coupon.event.create", "coupon.event.update", "coupon.event.close", "coupon.list"] {
        assert!(actions.contains(&action), "{action} audited: {actions:?}");
    }
}

/// Past the claim path's budget and queue, a claim is turned away at once with 429 and
/// `Retry-After`, before it costs the database anything; the rest of the server is not.
async fn a_full_claim_path_turns_claims_away_at_once(mode: Mode) {
    let mut deployment = Deployment::new(mode).await;
    deployment.config.coupons.claim_concurrency = 1;
    deployment.config.coupons.claim_queue = 1;
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let event = open_event(&app, &admin, 100, 1).await;
    let users = deployment.stored_users(40).await;
    deployment.approve_a_mission_today(&users).await;
    let answers = futures::future::join_all(users.iter().enumerate().map(|(n, user)| {
        let (app, event) = (&app, &event);
        async move {
            let response = app
                .http
                .post(app.api(&format!("/coupon-events/{event}/claims")))
                .bearer_auth(&user.access)
                .header("Idempotency-Key", format!("k{n}"))
                .send()
                .await
                .expect("claim");
            let retry_after =
                response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("json");
            (status, body, retry_after)
        }
    }))
    .await;
    let busy: Vec<_> = answers.iter().filter(|(status, ..)| *status == 429).collect();
    assert!(!busy.is_empty(), "some claims found the path full");
    for (_, body, retry_after) in &busy {
        assert_eq!(
            (body["code"].as_str(), retry_after.as_deref()),
            (Some("claims_busy"), Some("1")),
            "{body}"
        );
    }
    assert!(answers.iter().all(|(status, ..)| [201, 429].contains(status)));
    assert_eq!(app.get_me(&admin.access).await.status(), 200, "the rest of the server answers");
    // Servers inside one test process share the metrics recorder: other tests of the process
    // may count too, so the count is at least this test's.
    let turned_away =
        weatherwise_tests::metric(&app.metrics().await, "coupon_claims_total", "outcome=\"busy\"");
    assert!(turned_away.is_some_and(|counted| counted >= busy.len() as f64), "{turned_away:?}");
}

both_modes!(
    each_claim_is_answered_by_the_rules,
    admins_run_events_and_see_what_was_issued,
    a_full_claim_path_turns_claims_away_at_once,
);
