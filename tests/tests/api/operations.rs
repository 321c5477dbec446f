//! Health, readiness, metrics, the API description and its viewer, request ids, shutdown.

use super::plugin_support::{COFFEE, cup_mission};
use serde_json::{Value, json};
use std::time::Duration;
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::{Deployment, Mode, TestApp, assert_problem, both_modes};

both_modes!(
    health_and_readiness_name_every_adapter,
    metrics_and_readiness_can_require_a_token,
    a_failing_adapter_is_named_without_its_reason,
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

async fn metrics_and_readiness_can_require_a_token(mode: Mode) {
    const TOKEN: &str = "ops-token-0123456789abcdef";
    let app = TestApp::spawn_with(mode, |config| {
        config.ops.token = Some(weatherwise::config::Secret::new(TOKEN.into()));
    })
    .await;
    for path in ["/metrics", "/readyz"] {
        let anonymous = app.http.get(app.url(path)).send().await.expect("request");
        assert_problem(anonymous, 401, "ops_token_required").await;
        let wrong = app.http.get(app.url(path)).bearer_auth("ops-token-0123456789abcdeX").send().await;
        assert_problem(wrong.expect("request"), 401, "ops_token_required").await;
        let user = app.user().await;
        let user_token = app.http.get(app.url(path)).bearer_auth(&user.access).send().await;
        assert_problem(user_token.expect("request"), 401, "ops_token_required").await;
        let allowed = app.http.get(app.url(path)).bearer_auth(TOKEN).send().await.expect("request");
        assert_eq!(allowed.status(), 200, "{path} with the token");
    }
    let health = app.http.get(app.url("/healthz")).send().await.expect("request");
    assert_eq!(health.status(), 200, "liveness tells nothing and stays public");

    // Without a token configured they are public, as probes and scrapers expect by default.
    let open = TestApp::spawn(mode).await;
    assert_eq!(open.http.get(open.url("/metrics")).send().await.expect("request").status(), 200);
}

async fn a_failing_adapter_is_named_without_its_reason(mode: Mode) {
    let mut deployment = Deployment::new(mode).await;
    // A file store whose root disappears fails its check with an error naming the path.
    let root = deployment.data_dir.path().join("doomed-files");
    deployment.config.files.url = format!("file://{}", root.display());
    let app = deployment.start().await;
    assert_eq!(app.http.get(app.url("/readyz")).send().await.expect("request").status(), 200);
    std::fs::remove_dir_all(&root).expect("remove the file store's root");
    let ready = app.http.get(app.url("/readyz")).send().await.expect("request");
    let problem = assert_problem(ready, 503, "not_ready").await;
    let text = problem.to_string();
    assert!(text.contains("failing"), "the failing adapter is named: {text}");
    assert!(!text.contains("doomed-files") && !text.contains("os error"), "no reason leaks: {text}");
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
    // An id too long to log safely is replaced, on the answer and in its problem document.
    let long = "x".repeat(200);
    let replaced =
        app.http.get(app.url("/no-such-path")).header("x-request-id", &long).send().await.expect("request");
    let id = replaced.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    assert_eq!(id.len(), 36, "a UUID replaces an over-long id: {id}");
    let problem: serde_json::Value = replaced.json().await.expect("problem");
    assert_eq!(problem["request_id"], id.as_str());
}

/// Shutdown stops accepting connections at once, lets a request in flight finish (a policy
/// dry-run waiting for the model, which holds its answer until the listener is closed), then
/// stops.
async fn graceful_shutdown_finishes(mode: Mode) {
    let vision = FakeVision::start(Behaviour::Held(Box::new(Behaviour::grade(true, 0.95)))).await;
    let mut deployment = Deployment::new(mode).await;
    deployment.config.vision.base_url = Some(vision.base_url());
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let user = app.user().await;
    // A vote just before: the vote writer keeps a database connection between batches and
    // must give it back, or closing the pool would wait for it forever.
    let post = app.create_post(&user, "shutdown", 37.5, 127.0).await;
    let voted = app.vote(&user, post["id"].as_str().expect("post id"), Some("helpful")).await;
    assert_eq!(voted.status(), 200);

    let form = reqwest::multipart::Form::new()
        .part(
            "request",
            reqwest::multipart::Part::text(json!({"mission": cup_mission()}).to_string())
                .mime_str("application/json")
                .expect("mime"),
        )
        .part("photo", reqwest::multipart::Part::bytes(COFFEE.to_vec()).file_name("photo.png"));
    let request =
        app.http.post(app.api("/admin/plugins/active/dry-run")).bearer_auth(&admin.access).multipart(form);
    let pending = tokio::spawn(async move {
        let response = request.send().await?;
        let status = response.status().as_u16();
        Ok::<_, reqwest::Error>((status, response.json::<Value>().await?))
    });
    vision.wait_for_requests(1).await;

    let address = app.address;
    let stopping = tokio::spawn(app.stop());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(address).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "the listener still accepts connections after 5 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!pending.is_finished(), "the request in flight is still waiting for the model");
    assert!(!stopping.is_finished(), "shutdown waits for the request in flight");

    vision.release();
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("shutdown within 10 s")
        .expect("task")
        .expect("clean shutdown");
    let (status, body) = pending.await.expect("task").expect("response");
    assert_eq!(status, 200, "the request in flight completed: {body}");
    assert_eq!(body["verdict"]["decision"], "approved", "{body}");
    assert!(tokio::net::TcpStream::connect(address).await.is_err(), "the listener is closed");
}
