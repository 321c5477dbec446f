//! Health, readiness, metrics, the API description and its viewer, request ids, shutdown.

use serde_json::Value;
use weatherwise_tests::{Mode, TestApp, both_modes};

both_modes!(
    health_and_readiness_name_every_adapter,
    metrics_have_latency_by_route_and_status,
    openapi_and_docs_are_served,
    request_ids_are_echoed,
    graceful_shutdown_finishes
);

async fn health_and_readiness_name_every_adapter(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let health = app.http.get(app.url("/healthz")).send().await.expect("request");
    assert_eq!(health.status(), 200);
    let ready = app.http.get(app.url("/readyz")).send().await.expect("request");
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.expect("json");
    let expected = match mode {
        Mode::Embedded => ["sqlite", "memory", "in-process", "local"],
        Mode::Scaled => ["postgres", "redis", "kafka", "s3"],
    };
    assert_eq!(ready["checks"]["database"]["backend"], expected[0]);
    assert_eq!(ready["checks"]["state"]["backend"], expected[1]);
    assert_eq!(ready["checks"]["bus"]["backend"], expected[2]);
    assert_eq!(ready["checks"]["files"]["backend"], expected[3]);
    for adapter in ["database", "state", "bus", "files"] {
        assert_eq!(ready["checks"][adapter]["status"], "ok", "{adapter}");
    }
}

async fn metrics_have_latency_by_route_and_status(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.new_user().await;
    assert_eq!(app.get_me(&user.access).await.status(), 200);
    assert_eq!(app.get_me("bad").await.status(), 401);
    let text = app.http.get(app.url("/metrics")).send().await.expect("request").text().await.expect("text");
    assert!(
        text.lines().any(|l| l.starts_with("http_request_duration_seconds_bucket")
            && l.contains("route=\"/api/v1/me\"")
            && l.contains("status=\"200\"")),
        "no histogram for GET /me 200:\n{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("http_request_duration_seconds_count")
        && l.contains("route=\"/api/v1/me\"")
        && l.contains("status=\"401\"")));
}

async fn openapi_and_docs_are_served(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let doc: Value =
        app.http.get(app.url("/openapi.json")).send().await.expect("request").json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in [
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/auth/kakao/callback",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    let docs = app.http.get(app.url("/docs/")).send().await.expect("request");
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.expect("html");
    assert!(html.contains("swagger-ui"));
    // The viewer's assets come from the binary, not from a CDN.
    assert!(!html.contains("https://"), "the viewer must work offline");
    let bundle = app.http.get(app.url("/docs/swagger-ui-bundle.js")).send().await.expect("request");
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.expect("bytes").len() > 100_000);
}

async fn request_ids_are_echoed(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()["x-request-id"], "trace-me-123");
    let generated = app.http.get(app.url("/healthz")).send().await.expect("request");
    let id = generated.headers()["x-request-id"].to_str().expect("ascii");
    assert_eq!(id.len(), 36, "a UUID is generated: {id}");
}

async fn graceful_shutdown_finishes(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.new_user().await;
    // A vote just before: the vote writer keeps a database connection between batches and
    // must give it back, or closing the pool would wait for it forever.
    let post = serde_json::json!({"title": "shutdown", "body": "본문", "lat": 37.5, "lon": 127.0});
    let post: Value = app.post_json_as(&user.access, "/posts", &post).await.json().await.expect("json");
    let vote_url = app.api(&format!("/posts/{}/vote", post["id"].as_str().expect("post id")));
    let voted =
        app.http.put(vote_url).bearer_auth(&user.access).json(&serde_json::json!({"vote": "helpful"}));
    assert_eq!(voted.send().await.expect("request").status(), 200);
    // A request in flight when shutdown starts still completes.
    let pending = tokio::spawn({
        let http = app.http.clone();
        let url = app.api("/auth/login");
        let body = serde_json::json!({"email": user.email, "password": user.password});
        async move { http.post(url).json(&body).send().await.map(|r| r.status().as_u16()) }
    });
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let address = app.address;
    tokio::time::timeout(std::time::Duration::from_secs(10), app.stop())
        .await
        .expect("shutdown within 10 s")
        .expect("clean shutdown");
    assert_eq!(pending.await.expect("task").expect("response"), 200);
    assert!(tokio::net::TcpStream::connect(address).await.is_err(), "the listener is closed");
}
