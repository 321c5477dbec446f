//! Sign-up, login, refresh rotation, logout.

use serde_json::{Value, json};
use weatherwise_tests::{Mode, TestApp, assert_problem, both_modes};

both_modes!(
    signup_then_me_shows_the_account,
    login_with_the_right_password_only,
    refresh_rotates_and_the_new_token_works,
    reusing_a_refresh_token_revokes_the_family,
    logout_revokes_access_and_refresh,
    duplicate_email_and_nickname_conflict,
);

async fn signup_then_me_shows_the_account(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let response = app.signup("  Kim@Example.com ", "correct horse battery", "한글Kim").await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["email"], "kim@example.com");
    assert_eq!(body["user"]["role"], "user");

    let me = app.get_me(body["access_token"].as_str().expect("token")).await;
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.expect("json");
    assert_eq!(me["nickname"], "한글Kim");
    assert_eq!(me["id"], body["user"]["id"]);
    assert_eq!(me["has_password"], true);
    assert!(me.get("password_hash").is_none());
}

async fn login_with_the_right_password_only(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.new_user().await;
    let ok = app
        .post_json("/auth/login", &json!({ "email": user.email.to_uppercase(), "password": user.password() }))
        .await;
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.expect("json");
    assert_eq!(body["user"]["id"], user.user_id.as_str());
    assert_ne!(body["refresh_token"], user.refresh(), "each login opens its own session");

    let wrong =
        app.post_json("/auth/login", &json!({ "email": user.email, "password": "not the password" })).await;
    assert_problem(wrong, 401, "invalid_credentials").await;
    let unknown = app
        .post_json("/auth/login", &json!({ "email": "nobody@example.com", "password": "whatever123" }))
        .await;
    let problem = assert_problem(unknown, 401, "invalid_credentials").await;
    assert_eq!(problem["detail"], "email or password is wrong", "unknown accounts are not revealed");
}

async fn refresh_rotates_and_the_new_token_works(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.new_user().await;
    let response = app.post_json("/auth/refresh", &json!({ "refresh_token": user.refresh() })).await;
    assert_eq!(response.status(), 200);
    let rotated: Value = response.json().await.expect("json");
    let new_refresh = rotated["refresh_token"].as_str().expect("refresh").to_owned();
    assert_ne!(new_refresh, user.refresh());
    assert_eq!(app.get_me(rotated["access_token"].as_str().expect("access")).await.status(), 200);

    let again = app.post_json("/auth/refresh", &json!({ "refresh_token": new_refresh })).await;
    assert_eq!(again.status(), 200, "the rotated token is itself usable once");

    let garbage = app.post_json("/auth/refresh", &json!({ "refresh_token": "not-a-token" })).await;
    assert_problem(garbage, 401, "invalid_refresh_token").await;
}

async fn reusing_a_refresh_token_revokes_the_family(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.new_user().await;
    let first: Value = app
        .post_json("/auth/refresh", &json!({ "refresh_token": user.refresh() }))
        .await
        .json()
        .await
        .expect("json");
    let current = first["refresh_token"].as_str().expect("refresh").to_owned();

    let replay = app.post_json("/auth/refresh", &json!({ "refresh_token": user.refresh() })).await;
    assert_problem(replay, 401, "refresh_token_reused").await;

    // The whole family is gone: the legitimate newest token no longer works either.
    let after = app.post_json("/auth/refresh", &json!({ "refresh_token": current })).await;
    assert_problem(after, 401, "invalid_refresh_token").await;

    // Other sessions of the same user are untouched.
    let other: Value = app.login_json(&user.email, user.password()).await;
    let other_refresh =
        app.post_json("/auth/refresh", &json!({ "refresh_token": other["refresh_token"] })).await;
    assert_eq!(other_refresh.status(), 200);
}

async fn logout_revokes_access_and_refresh(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.new_user().await;
    let logout =
        app.http.post(app.api("/auth/logout")).bearer_auth(&user.access).send().await.expect("request");
    assert_eq!(logout.status(), 204);
    assert_problem(app.get_me(&user.access).await, 401, "token_revoked").await;
    let refresh = app.post_json("/auth/refresh", &json!({ "refresh_token": user.refresh() })).await;
    assert_problem(refresh, 401, "invalid_refresh_token").await;
    let twice =
        app.http.post(app.api("/auth/logout")).bearer_auth(&user.access).send().await.expect("request");
    assert_problem(twice, 401, "token_revoked").await;
}

async fn duplicate_email_and_nickname_conflict(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    assert_eq!(app.signup("dup@example.com", "password-one", "Dupe").await.status(), 201);
    assert_problem(app.signup("DUP@example.com", "password-two", "Other").await, 409, "email_taken").await;
    assert_problem(app.signup("new@example.com", "password-two", "dUPE").await, 409, "nickname_taken").await;
    // NFD spelling of an NFC nickname is the same nickname.
    assert_eq!(app.signup("h1@example.com", "password-one", "한글").await.status(), 201);
    let decomposed = "\u{1112}\u{1161}\u{11AB}\u{1100}\u{1173}\u{11AF}";
    assert_problem(app.signup("h2@example.com", "password-one", decomposed).await, 409, "nickname_taken")
        .await;
}
