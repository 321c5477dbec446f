//! `/me`: nickname and password changes, account deletion, the admin grant command.

use serde_json::{Value, json};
use weatherwise_tests::{Mode, TestApp, assert_problem, both_modes};

both_modes!(
    nickname_change_respects_uniqueness,
    password_change_ends_other_sessions,
    account_deletion_removes_the_user_and_its_sessions,
);

async fn nickname_change_respects_uniqueness(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let alice = app.new_user().await;
    let bob = app.new_user().await;
    let renamed = app
        .http
        .patch(app.api("/me"))
        .bearer_auth(&alice.access)
        .json(&json!({"nickname": "Alice"}))
        .send()
        .await
        .expect("request");
    assert_eq!(renamed.status(), 200);
    assert_eq!(renamed.json::<Value>().await.expect("json")["nickname"], "Alice");
    let clash = app
        .http
        .patch(app.api("/me"))
        .bearer_auth(&bob.access)
        .json(&json!({"nickname": "ALICE"}))
        .send()
        .await
        .expect("request");
    assert_problem(clash, 409, "nickname_taken").await;
    let invalid = app
        .http
        .patch(app.api("/me"))
        .bearer_auth(&bob.access)
        .json(&json!({"nickname": "x"}))
        .send()
        .await
        .expect("request");
    let problem = assert_problem(invalid, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "nickname");
    // Alice may re-case her own nickname.
    let recase = app
        .http
        .patch(app.api("/me"))
        .bearer_auth(&alice.access)
        .json(&json!({"nickname": "ALICE"}))
        .send()
        .await
        .expect("request");
    assert_eq!(recase.status(), 200);
}

async fn password_change_ends_other_sessions(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.new_user().await;
    let other: Value = app.login_json(&user.email, user.password()).await;
    let wrong = app
        .http
        .put(app.api("/me/password"))
        .bearer_auth(&user.access)
        .json(&json!({"current_password": "not it at all", "new_password": "brand new secret"}))
        .send()
        .await
        .expect("request");
    assert_problem(wrong, 403, "wrong_password").await;
    let changed = app
        .http
        .put(app.api("/me/password"))
        .bearer_auth(&user.access)
        .json(&json!({"current_password": user.password(), "new_password": "brand new secret"}))
        .send()
        .await
        .expect("request");
    assert_eq!(changed.status(), 204);
    assert_eq!(app.get_me(&user.access).await.status(), 200, "the session that changed it stays");
    assert_problem(app.get_me(other["access_token"].as_str().expect("token")).await, 401, "token_revoked")
        .await;
    let old_refresh = app.post_json("/auth/refresh", &json!({"refresh_token": other["refresh_token"]})).await;
    assert_problem(old_refresh, 401, "invalid_refresh_token").await;
    let old_login =
        app.post_json("/auth/login", &json!({"email": user.email, "password": user.password()})).await;
    assert_problem(old_login, 401, "invalid_credentials").await;
    let new_login =
        app.post_json("/auth/login", &json!({"email": user.email, "password": "brand new secret"})).await;
    assert_eq!(new_login.status(), 200);
}

async fn account_deletion_removes_the_user_and_its_sessions(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let user = app.new_user().await;
    let unconfirmed =
        app.http.delete(app.api("/me")).bearer_auth(&user.access).send().await.expect("request");
    assert_problem(unconfirmed, 403, "wrong_password").await;
    let deleted = app
        .http
        .delete(app.api("/me"))
        .bearer_auth(&user.access)
        .json(&json!({"password": user.password()}))
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), 204);
    assert_problem(app.get_me(&user.access).await, 401, "token_revoked").await;
    assert_problem(
        app.post_json("/auth/refresh", &json!({"refresh_token": user.refresh()})).await,
        401,
        "invalid_refresh_token",
    )
    .await;
    assert_problem(
        app.post_json("/auth/login", &json!({"email": user.email, "password": user.password()})).await,
        401,
        "invalid_credentials",
    )
    .await;
    // The email and nickname are free again.
    assert_eq!(app.signup(&user.email, "another password", "Reborn").await.status(), 201);
}
