//! Kakao login against a local fake that speaks Kakao's request and response formats.

use serde_json::Value;
use weatherwise::config::Config;
use weatherwise_tests::fake_kakao::{CLIENT_ID, FakeKakao, KakaoUser, REDIRECT_URI};
use weatherwise_tests::{Mode, TestApp, assert_problem, both_modes};

both_modes!(
    kakao_login_creates_then_finds_the_account,
    kakao_failures_are_clear,
    kakao_off_without_configuration
);

fn point_at(config: &mut Config, base: &str) {
    config.kakao.client_id = Some(CLIENT_ID.into());
    config.kakao.redirect_uri = REDIRECT_URI.into();
    config.kakao.authorize_url = format!("{base}/oauth/authorize");
    config.kakao.token_url = format!("{base}/oauth/token");
    config.kakao.user_url = format!("{base}/v2/user/me");
}

/// Follows `/auth/kakao/authorize` and returns the `state` it put in Kakao's URL.
async fn begin(app: &TestApp) -> String {
    let response = app.http.get(app.api("/auth/kakao/authorize")).send().await.expect("request");
    assert_eq!(response.status(), 302);
    let location = url::Url::parse(response.headers()["location"].to_str().expect("location")).expect("url");
    let query: std::collections::HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(location.path(), "/oauth/authorize");
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["redirect_uri"], REDIRECT_URI);
    query["state"].clone()
}

async fn callback(app: &TestApp, query: &[(&str, &str)]) -> reqwest::Response {
    app.http.get(app.api("/auth/kakao/callback")).query(query).send().await.expect("request")
}

async fn kakao_login_creates_then_finds_the_account(mode: Mode) {
    let kakao = FakeKakao::start().await;
    let app = TestApp::spawn_with(mode, |config| point_at(config, &kakao.base())).await;
    // A password account already holds the nickname Kakao reports.
    assert_eq!(app.signup("taken@example.com", "password123", "라이언").await.status(), 201);

    let user =
        KakaoUser {
            id: 4_242_424_242, nickname: "라이언".into(), email: Some("ryan@kakao.example".into())
        };
    let state = begin(&app).await;
    let code = kakao.issue_code(user.clone());
    let first = callback(&app, &[("code", &code), ("state", &state)]).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.expect("json");
    let nickname = first["user"]["nickname"].as_str().expect("nickname");
    assert!(
        nickname.starts_with("라이언") && nickname != "라이언",
        "a unique nickname was derived: {nickname}"
    );
    assert_eq!(first["user"]["email"], "ryan@kakao.example");
    assert_eq!(first["user"]["kakao_linked"], true);
    assert_eq!(first["user"]["has_password"], false);
    assert_eq!(app.get_me(first["access_token"].as_str().expect("token")).await.status(), 200);

    let request = kakao.token_requests().pop().expect("a token request");
    assert_eq!(request["grant_type"], "authorization_code");
    assert_eq!(request["code"], code);

    // Logging in again finds the same account.
    let state = begin(&app).await;
    let code = kakao.issue_code(user);
    let second: Value =
        callback(&app, &[("code", &code), ("state", &state)]).await.json().await.expect("json");
    assert_eq!(second["user"]["id"], first["user"]["id"]);

    // A Kakao-only account deletes itself without a password.
    let deleted = app
        .http
        .delete(app.api("/me"))
        .bearer_auth(second["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), 204);
}

async fn kakao_failures_are_clear(mode: Mode) {
    let kakao = FakeKakao::start().await;
    let app = TestApp::spawn_with(mode, |config| point_at(config, &kakao.base())).await;
    let user = KakaoUser { id: 7, nickname: "어피치".into(), email: None };

    assert_problem(
        callback(&app, &[("code", "x"), ("state", "never-issued")]).await,
        400,
        "invalid_oauth_state",
    )
    .await;
    assert_problem(callback(&app, &[("code", "x")]).await, 400, "invalid_oauth_state").await;

    let state = begin(&app).await;
    let denied = callback(
        &app,
        &[("error", "access_denied"), ("error_description", "User denied access"), ("state", &state)],
    )
    .await;
    assert_problem(denied, 401, "kakao_denied").await;

    // A code Kakao does not know (used, expired) is Kakao's KOE320.
    let state = begin(&app).await;
    let rejected = callback(&app, &[("code", "code-unknown"), ("state", &state)]).await;
    let problem = assert_problem(rejected, 401, "kakao_rejected").await;
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("KOE320")), "{problem}");

    // A state works once: replaying a successful callback fails.
    let state = begin(&app).await;
    let code = kakao.issue_code(user);
    assert_eq!(callback(&app, &[("code", &code), ("state", &state)]).await.status(), 200);
    assert_problem(callback(&app, &[("code", &code), ("state", &state)]).await, 400, "invalid_oauth_state")
        .await;

    // Kakao unreachable.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let dead_base = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let offline = TestApp::spawn_with(mode, |config| point_at(config, &dead_base)).await;
    let state = begin(&offline).await;
    assert_problem(callback(&offline, &[("code", "c"), ("state", &state)]).await, 502, "kakao_unavailable")
        .await;
}

async fn kakao_off_without_configuration(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let response = app.http.get(app.api("/auth/kakao/authorize")).send().await.expect("request");
    assert_problem(response, 503, "kakao_disabled").await;
}
