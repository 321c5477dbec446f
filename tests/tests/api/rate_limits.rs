//! Login and sign-up limits: 429 with `Retry-After`, per IP and per account, and in the scaled
//! mode shared by every instance of a deployment.

use serde_json::json;
use weatherwise::config::RateLimit;
use weatherwise_tests::{Deployment, Mode, TestApp, assert_problem, both_modes};

both_modes!(
    login_is_limited_per_ip,
    login_is_limited_per_account,
    signup_is_limited_per_ip,
    signup_is_limited_per_account
);

fn limit(limit: u64) -> RateLimit {
    RateLimit { limit, window_secs: 60 }
}

async fn login_is_limited_per_ip(mode: Mode) {
    let app = TestApp::spawn_with(mode, |config| config.rate_limits.login_per_ip = limit(3)).await;
    for i in 0..3 {
        let response = app
            .post_json("/auth/login", &json!({"email": format!("n{i}@example.com"), "password": "password1"}))
            .await;
        assert_eq!(response.status(), 401);
    }
    let limited =
        app.post_json("/auth/login", &json!({"email": "n9@example.com", "password": "password1"})).await;
    let retry_after: u64 =
        limited.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_problem(limited, 429, "rate_limited").await;
}

async fn login_is_limited_per_account(mode: Mode) {
    let app = TestApp::spawn_with(mode, |config| config.rate_limits.login_per_account = limit(2)).await;
    let user = app.new_user().await;
    for _ in 0..2 {
        let wrong =
            app.post_json("/auth/login", &json!({"email": user.email, "password": "wrong password"})).await;
        assert_eq!(wrong.status(), 401);
    }
    // Even the right password waits now: guessing cannot continue against this account.
    let limited = app
        .post_json("/auth/login", &json!({"email": user.email.to_uppercase(), "password": user.password()}))
        .await;
    assert_problem(limited, 429, "rate_limited").await;
    // Other accounts are unaffected.
    let other = app.new_user().await;
    let ok = app.post_json("/auth/login", &json!({"email": other.email, "password": other.password()})).await;
    assert_eq!(ok.status(), 200);
}

async fn signup_is_limited_per_ip(mode: Mode) {
    let app = TestApp::spawn_with(mode, |config| config.rate_limits.signup_per_ip = limit(2)).await;
    assert_eq!(app.signup("s1@example.com", "password1", "Sone").await.status(), 201);
    assert_eq!(app.signup("s2@example.com", "password1", "Stwo").await.status(), 201);
    assert_problem(app.signup("s3@example.com", "password1", "Sthree").await, 429, "rate_limited").await;
}

async fn signup_is_limited_per_account(mode: Mode) {
    let app = TestApp::spawn_with(mode, |config| config.rate_limits.signup_per_account = limit(2)).await;
    assert_eq!(app.signup("same@example.com", "password1", "First").await.status(), 201);
    assert_problem(app.signup("same@example.com", "password1", "Second").await, 409, "email_taken").await;
    assert_problem(app.signup("SAME@example.com", "password1", "Third").await, 429, "rate_limited").await;
    assert_eq!(app.signup("other@example.com", "password1", "Fourth").await.status(), 201);
}

/// Two instances of one scaled deployment count into the same window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_instances_share_limits_and_revocations() {
    let mut deployment = Deployment::new(Mode::Scaled).await;
    deployment.config.rate_limits.login_per_ip = limit(4);
    let first = deployment.start().await;
    let second = deployment.start().await;

    let user = first.new_user().await;
    // Logout on one instance ends the session on the other at once.
    assert_eq!(second.get_me(&user.access).await.status(), 200);
    let logout =
        first.http.post(first.api("/auth/logout")).bearer_auth(&user.access).send().await.expect("request");
    assert_eq!(logout.status(), 204);
    assert_problem(second.get_me(&user.access).await, 401, "token_revoked").await;

    for app in [&first, &second, &first, &second] {
        let response = app
            .post_json("/auth/login", &json!({"email": "ghost@example.com", "password": "password1"}))
            .await;
        assert_eq!(response.status(), 401);
    }
    let limited = second
        .post_json("/auth/login", &json!({"email": "ghost@example.com", "password": "password1"}))
        .await;
    assert_problem(limited, 429, "rate_limited").await;
    let limited =
        first.post_json("/auth/login", &json!({"email": "ghost@example.com", "password": "password1"})).await;
    assert_problem(limited, 429, "rate_limited").await;
}
