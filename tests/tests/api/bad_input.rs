//! Malformed requests of every kind: each gets the right status and a problem document, and
//! nothing is created by a rejected request.

use serde_json::json;
use weatherwise_tests::{Mode, TestApp, assert_problem, both_modes};

both_modes!(
    malformed_bodies_are_problems,
    invalid_fields_are_listed,
    routing_errors_are_problems,
    an_answer_before_the_body_is_read_closes_the_connection
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
