//! Malformed requests of every kind: each gets the right status and a problem document, and
//! nothing is created by a rejected request.

use serde_json::json;
use weatherwise_tests::{Deployment, Mode, TestApp, assert_problem, both_modes};

both_modes!(
    malformed_bodies_are_problems,
    invalid_fields_are_listed,
    routing_errors_are_problems,
    an_answer_before_the_body_is_read_closes_the_connection,
    control_characters_are_refused_at_the_edge
);

async fn malformed_bodies_are_problems(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let signup = app.api("/auth/signup");
    let send = |body: &'static str, content_type: &'static str| {
        app.http.post(&signup).header("content-type", content_type).body(body).send()
    };
    assert_problem(send("{\"email\":", "application/json").await.expect("request"), 400, "invalid_json")
        .await;
    assert_problem(send("not json at all", "application/json").await.expect("request"), 400, "invalid_json")
        .await;
    assert_problem(
        send("{\"email\":\"a@b.co\",\"password\":\"x\"}", "text/plain").await.expect("request"),
        415,
        "unsupported_media_type",
    )
    .await;
    let wrong_type =
        send("{\"email\":42,\"password\":\"password1\",\"nickname\":\"Kim\"}", "application/json")
            .await
            .expect("request");
    assert_problem(wrong_type, 422, "validation_failed").await;
    let missing =
        send("{\"email\":\"a@b.co\",\"password\":\"password1\"}", "application/json").await.expect("request");
    assert_problem(missing, 422, "validation_failed").await;
    let unknown = send(
        "{\"email\":\"a@b.co\",\"password\":\"password1\",\"nickname\":\"Kim\",\"role\":\"admin\"}",
        "application/json",
    )
    .await
    .expect("request");
    let problem = assert_problem(unknown, 422, "validation_failed").await;
    assert!(problem["errors"][0]["message"].as_str().is_some_and(|m| m.contains("role")), "{problem}");

    let oversized = app
        .http
        .post(&signup)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"email\":\"{}@b.co\",\"password\":\"password1\",\"nickname\":\"Kim\"}}",
            "a".repeat(200_000)
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(oversized.headers().get("connection").map(|v| v.as_bytes()), Some(&b"close"[..]));
    assert_problem(oversized, 413, "payload_too_large").await;

    // None of the rejected requests created an account.
    assert_eq!(app.signup("a@b.co", "password1", "Kim").await.status(), 201);
}

async fn invalid_fields_are_listed(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let response = app
        .post_json("/auth/signup", &json!({"email": "not-an-email", "password": "short", "nickname": "x"}))
        .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    let fields: Vec<&str> =
        problem["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["email", "nickname", "password"]);
    let long_password = app
        .post_json(
            "/auth/signup",
            &json!({"email": "a@b.co", "password": "p".repeat(129), "nickname": "Kim"}),
        )
        .await;
    assert_problem(long_password, 422, "validation_failed").await;
    let login_long =
        app.post_json("/auth/login", &json!({"email": "a@b.co", "password": "p".repeat(5000)})).await;
    assert_problem(login_long, 401, "invalid_credentials").await;
}

async fn routing_errors_are_problems(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    assert_problem(app.http.get(app.api("/no/such/thing")).send().await.expect("request"), 404, "not_found")
        .await;
    let wrong_method = app.http.delete(app.api("/auth/login")).send().await.expect("request");
    assert_eq!(wrong_method.headers().get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    assert_problem(wrong_method, 405, "method_not_allowed").await;
    let bad_query =
        app.http.get(app.api("/auth/kakao/callback?code=x&state=y&state=z")).send().await.expect("request");
    assert!(bad_query.status().is_client_error());
    assert_eq!(bad_query.headers()["content-type"], "application/problem+json");
}

/// An upload refused before its body is read (here: no such mission) leaves the body unread,
/// so the server drops the connection; the answer says so, and a body that was read does not.
async fn an_answer_before_the_body_is_read_closes_the_connection(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.user().await;
    let photo = reqwest::multipart::Part::bytes(vec![0u8; 256 * 1024]).file_name("p.jpg");
    let refused = app
        .http
        .post(app.api("/missions/0190a0a0-0000-7000-8000-000000000000/verifications"))
        .bearer_auth(&user.access)
        .multipart(reqwest::multipart::Form::new().part("photo", photo))
        .send()
        .await
        .expect("request");
    assert_eq!(refused.headers().get("connection").map(|v| v.as_bytes()), Some(&b"close"[..]));
    assert_problem(refused, 404, "not_found").await;

    let read = app
        .post_json(
            "/auth/login",
            &serde_json::json!({"email": "nobody@example.com", "password": "wrong password"}),
        )
        .await;
    assert_eq!(read.status(), 401);
    assert!(read.headers().get("connection").is_none(), "a request whose body was read keeps its connection");
}

/// The field a 422 problem names.
async fn refused_field(response: reqwest::Response) -> String {
    let problem = assert_problem(response, 422, "validation_failed").await;
    problem["errors"][0]["field"].as_str().unwrap_or_else(|| panic!("no field in {problem}")).to_owned()
}

/// A control character (NUL above all, which PostgreSQL's text cannot hold) in a path, a query
/// or a JSON body is refused before any handler: 404 for a path, 422 naming the field
/// otherwise, never a 500. Path ids that are not UUIDs name nothing.
async fn control_characters_are_refused_at_the_edge(mode: Mode) {
    let deployment = Deployment::new(mode).await;
    let app = deployment.start().await;
    let user = app.user().await;
    let admin = deployment.admin(&app).await;
    let unknown_id = "0190a0a0-0000-7000-8000-000000000000";

    let login = app.post_json("/auth/login", &json!({"email": "a\u{0}@b.co", "password": "password1"})).await;
    assert_eq!(refused_field(login).await, "email");
    let escaped = app
        .http
        .post(app.api("/auth/login"))
        .header("content-type", "application/json")
        .body(r#"{"email":"a@b.co","password":"pass\u0007word"}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(refused_field(escaped).await, "password");

    for path in [
        "/missions/%00",
        "/missions/not-a-mission",
        "/missions/1%002",
        "/verifications/%00",
        "/verifications/%00/photo",
        "/verifications/not-a-verification",
        "/admin/verifications/%00",
        "/admin/verifications/%1b/photo",
    ] {
        let caller = if path.starts_with("/admin") { &admin } else { &user };
        let response = app.get(caller, path).await;
        assert_problem(response, 404, "not_found").await;
    }
    let photo = reqwest::multipart::Part::bytes(vec![0u8; 1024]).file_name("p.jpg");
    let upload = app
        .http
        .post(app.api("/missions/%00/verifications"))
        .bearer_auth(&user.access)
        .multipart(reqwest::multipart::Form::new().part("photo", photo))
        .send()
        .await
        .expect("request");
    assert_problem(upload, 404, "not_found").await;
    let appeal_unknown = app.post(&user, "/verifications/%00/appeal", &json!({"message": "wrong"})).await;
    assert_problem(appeal_unknown, 404, "not_found").await;
    let review_unknown =
        app.post(&admin, "/admin/reviews/%00", &json!({"decision": "approved", "reason": "fine"})).await;
    assert_problem(review_unknown, 404, "not_found").await;
    assert_problem(app.get(&admin, "/admin/plugins/%00").await, 404, "not_found").await;

    let appeal = app
        .post(&user, &format!("/verifications/{unknown_id}/appeal"), &json!({"message": "it\u{0}was rain"}))
        .await;
    assert_eq!(refused_field(appeal).await, "message");
    let review = app
        .post(
            &admin,
            &format!("/admin/reviews/{unknown_id}"),
            &json!({"decision": "rejected", "reason": "blurry\u{0}"}),
        )
        .await;
    assert_eq!(refused_field(review).await, "reason");
    assert_eq!(refused_field(app.get(&user, "/rankings/search?nickname=%00").await).await, "nickname");
    assert_eq!(refused_field(app.get(&user, "/rankings/search?nickname=ab%C2%85").await).await, "nickname");

    for (query, field) in [("label=v1%00&note=x", "label"), ("label=v1&note=first%00", "note")] {
        let upload = app
            .http
            .post(app.api(&format!("/admin/plugins?{query}")))
            .bearer_auth(&admin.access)
            .header("content-type", "application/wasm")
            .body(b"\0asm not a component".to_vec())
            .send()
            .await
            .expect("request");
        assert_eq!(refused_field(upload).await, field);
    }

    // Line breaks and tabs are text, not control: a search with them is answered.
    let search = app.get(&user, "/rankings/search?nickname=a%0Ab%09c").await;
    assert_eq!(search.status(), 200);
}
