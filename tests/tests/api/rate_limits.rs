//! Login, sign-up and password-confirmation limits: 429 with `Retry-After`, per IP and per
//! account, and in the scaled mode shared by every instance of a deployment. The client's
//! address behind trusted proxies is the one they saw, not one the client wrote.

use serde_json::json;
use weatherwise::config::RateLimit;
use weatherwise_tests::{Deployment, Mode, TestApp, assert_problem, both_modes};

both_modes!(
    login_is_limited_per_ip,
    login_is_limited_per_account,
    signup_is_limited_per_ip,
    signup_is_limited_per_account,
    forged_forwarded_addresses_do_not_escape_the_login_limit,
    a_guesser_cannot_lock_the_owner_out,
    password_confirmations_are_limited_per_account
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

/// A login sent through the proxy as if from `forwarded` (what the client wrote, then what the
/// proxy saw). The test's own connection plays the proxy.
async fn login_via_proxy(app: &TestApp, forwarded: &str, email: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.api("/auth/login"))
        .header("x-forwarded-for", forwarded)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("request")
}

async fn forged_forwarded_addresses_do_not_escape_the_login_limit(mode: Mode) {
    let app = TestApp::spawn_with(mode, |config| {
        config.http.trust_forwarded_for = true;
        config.rate_limits.login_per_ip = limit(3);
    })
    .await;
    // The client writes a new address each time; the proxy appends the one it really saw.
    for i in 0..3 {
        let response =
            login_via_proxy(&app, &format!("198.51.100.{i}, 203.0.113.7"), "n@example.com", "password1")
                .await;
        assert_eq!(response.status(), 401);
    }
    let forged = login_via_proxy(&app, "198.51.100.99, 203.0.113.7", "n@example.com", "password1").await;
    assert_problem(forged, 429, "rate_limited").await;
    let forged_many =
        login_via_proxy(&app, "10.9.9.9, 198.51.100.98, 203.0.113.7", "n@example.com", "password1").await;
    assert_problem(forged_many, 429, "rate_limited").await;
    // Another client behind the same proxy has its own window.
    let other = login_via_proxy(&app, "198.51.100.99, 203.0.113.8", "n@example.com", "password1").await;
    assert_eq!(other.status(), 401);

    // A peer that is not a trusted proxy is the client, whatever it forwards.
    let direct = TestApp::spawn_with(mode, |config| {
        config.http.trust_forwarded_for = true;
        config.http.trusted_proxies = vec!["10.0.0.0/8".into()];
        config.rate_limits.login_per_ip = limit(3);
    })
    .await;
    for i in 0..3 {
        let response =
            login_via_proxy(&direct, &format!("203.0.113.{i}"), "n@example.com", "password1").await;
        assert_eq!(response.status(), 401);
    }
    let limited = login_via_proxy(&direct, "203.0.113.50", "n@example.com", "password1").await;
    assert_problem(limited, 429, "rate_limited").await;
}

async fn a_guesser_cannot_lock_the_owner_out(mode: Mode) {
    let app = TestApp::spawn_with(mode, |config| {
        config.http.trust_forwarded_for = true;
        config.rate_limits.login_per_account_from_ip = limit(3);
        config.rate_limits.login_per_account = limit(8);
    })
    .await;
    let owner = app.new_user().await;
    let guesser = "203.0.113.66";
    for _ in 0..3 {
        let wrong = login_via_proxy(&app, guesser, &owner.email, "wrong password").await;
        assert_eq!(wrong.status(), 401);
    }
    // The guesser waits, even with the right password ...
    assert_problem(login_via_proxy(&app, guesser, &owner.email, owner.password()).await, 429, "rate_limited")
        .await;
    // ... while the owner, elsewhere, logs in.
    let owner_login = login_via_proxy(&app, "198.51.100.20", &owner.email, owner.password()).await;
    assert_eq!(owner_login.status(), 200, "the owner is not locked out");

    // Guessing spread over many addresses meets the account's ceiling: 8 attempts in all, of
    // which the guesser's first 3 and the owner's login are 4.
    for i in 0..4 {
        let wrong = login_via_proxy(&app, &format!("192.0.2.{i}"), &owner.email, "wrong password").await;
        assert_eq!(wrong.status(), 401);
    }
    let spread = login_via_proxy(&app, "192.0.2.200", &owner.email, "wrong password").await;
    assert_problem(spread, 429, "rate_limited").await;
}

async fn password_confirmations_are_limited_per_account(mode: Mode) {
    let app =
        TestApp::spawn_with(mode, |config| config.rate_limits.password_check_per_account = limit(3)).await;
    let user = app.new_user().await;
    let change_password = |current: &str| {
        app.http
            .put(app.api("/me/password"))
            .bearer_auth(&user.access)
            .json(&json!({"current_password": current, "new_password": "a brand new password"}))
            .send()
    };
    for _ in 0..3 {
        let wrong = change_password("wrong password").await.expect("request");
        assert_problem(wrong, 403, "wrong_password").await;
    }
    // A fourth guess waits, and so does a deletion confirmed with a guess, or with the truth.
    assert_problem(change_password("another guess").await.expect("request"), 429, "rate_limited").await;
    for password in ["a guess", user.password()] {
        let delete = app
            .http
            .delete(app.api("/me"))
            .bearer_auth(&user.access)
            .json(&json!({"password": password}))
            .send()
            .await
            .expect("request");
        assert!(delete.headers().contains_key("retry-after"));
        assert_problem(delete, 429, "rate_limited").await;
    }
    // Nothing changed: the account and its password are as they were.
    assert_eq!(app.get_me(&user.access).await.status(), 200);
    let login = app.login_json(&user.email, user.password()).await;
    assert!(login["access_token"].is_string(), "{login}");
    // Other accounts keep their own window.
    let other = app.new_user().await;
    let changed = app
        .http
        .put(app.api("/me/password"))
        .bearer_auth(&other.access)
        .json(&json!({"current_password": other.password(), "new_password": "a brand new password"}))
        .send()
        .await
        .expect("request");
    assert_eq!(changed.status(), 204);
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
