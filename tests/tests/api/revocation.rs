//! Ended sessions stay ended: across restarts and a state store that forgot, for every holder
//! of a reused refresh family, for event streams on every instance, for admin powers, and
//! against a login racing the account's deletion.

use futures::future::join_all;
use serde_json::{Value, json};
use std::time::Duration;
use weatherwise::accounts::Role;
use weatherwise_tests::sse::SseStream;
use weatherwise_tests::{Deployment, Mode, Session, TestApp, assert_problem, both_modes};

both_modes!(
    ended_sessions_stay_ended_after_a_restart,
    refresh_reuse_ends_every_access_token_of_the_session,
    event_streams_close_when_their_session_ends,
    event_streams_close_when_their_token_expires,
    revoking_admin_takes_effect_at_once,
    a_login_racing_deletion_leaves_no_usable_session,
);

/// Every kind of authenticated request refuses `token` with 401: none answers 2xx or 500.
async fn refused_everywhere(app: &TestApp, token: &str, post_id: &str, who: &str) {
    let me = app.get_me(token).await;
    assert_eq!(me.status(), 401, "GET /me for {who}");
    assert_problem(me, 401, "token_revoked").await;
    let body = json!({ "title": "after the end", "body": "본문", "lat": 37.5, "lon": 127.0 });
    let post = app.post_json_as(token, "/posts", &body).await;
    assert_eq!(post.status(), 401, "POST /posts for {who}");
    let today = app
        .http
        .get(app.api("/missions/today?lat=37.5&lon=127.0"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(today.status(), 401, "GET /missions/today for {who}");
    let vote = app
        .http
        .put(app.api(&format!("/posts/{post_id}/vote")))
        .bearer_auth(token)
        .json(&json!({ "vote": "helpful" }))
        .send()
        .await
        .expect("request");
    assert_eq!(vote.status(), 401, "a vote for {who}");
}

async fn logout(app: &TestApp, token: &str) {
    let response = app.http.post(app.api("/auth/logout")).bearer_auth(token).send().await.expect("request");
    assert_eq!(response.status(), 204, "logout");
}

async fn delete_account(app: &TestApp, user: &Session) -> reqwest::Response {
    app.http
        .delete(app.api("/me"))
        .bearer_auth(&user.access)
        .json(&json!({ "password": user.password() }))
        .send()
        .await
        .expect("request")
}

async fn change_password(app: &TestApp, user: &Session) {
    let body = json!({ "current_password": user.password(), "new_password": "a brand new passphrase 7" });
    let response = app.http.put(app.api("/me/password")).bearer_auth(&user.access).json(&body).send().await;
    assert_eq!(response.expect("request").status(), 204, "password change");
}

async fn ended_sessions_stay_ended_after_a_restart(mode: Mode) {
    let mut deployment = Deployment::new(mode).await;
    // A process of its own, so the restart is a real one: killed outright, nothing flushed.
    let mut app = deployment.start_process().await;
    let author = app.new_user().await;
    let post = app.create_post(&author, "a post to vote on", 37.5, 127.0).await;
    let post_id = post["id"].as_str().expect("post id").to_owned();

    let logged_out = app.new_user().await;
    logout(&app, &logged_out.access).await;
    let deleted = app.new_user().await;
    assert_eq!(delete_account(&app, &deleted).await.status(), 204);
    let changed = app.new_user().await;
    let elsewhere: Value = app.login_json(&changed.email, changed.password()).await;
    let elsewhere = elsewhere["access_token"].as_str().expect("access").to_owned();
    change_password(&app, &changed).await;
    app.kill().await;

    // The embedded state store lived in the killed process; a scaled one is replaced by an
    // empty one (a Redis that lost its keys). Only the database remembers.
    deployment.config.state.key_prefix.push_str("forgotten:");
    let app = deployment.start_process().await;
    refused_everywhere(&app, &logged_out.access, &post_id, "a logged-out session").await;
    refused_everywhere(&app, &deleted.access, &post_id, "a deleted account").await;
    refused_everywhere(&app, &elsewhere, &post_id, "a session ended by a password change").await;
    assert_eq!(app.get_me(&changed.access).await.status(), 200, "the session that changed it lives on");
    assert_eq!(app.get_me(&author.access).await.status(), 200);
}

async fn refresh_reuse_ends_every_access_token_of_the_session(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let author = app.new_user().await;
    let post = app.create_post(&author, "a post to vote on", 37.5, 127.0).await;
    let post_id = post["id"].as_str().expect("post id");
    let victim = app.new_user().await;
    // A thief rotates a stolen refresh token first; the victim's client presents it after.
    let thief: Value = app
        .post_json("/auth/refresh", &json!({ "refresh_token": victim.refresh() }))
        .await
        .json()
        .await
        .expect("json");
    let thief_access = thief["access_token"].as_str().expect("access").to_owned();
    assert_eq!(app.get_me(&thief_access).await.status(), 200);
    let replay = app.post_json("/auth/refresh", &json!({ "refresh_token": victim.refresh() })).await;
    assert_problem(replay, 401, "refresh_token_reused").await;

    refused_everywhere(&app, &thief_access, post_id, "the thief's rotated token").await;
    refused_everywhere(&app, &victim.access, post_id, "the original access token").await;
    let stolen_refresh =
        app.post_json("/auth/refresh", &json!({ "refresh_token": thief["refresh_token"] })).await;
    assert_problem(stolen_refresh, 401, "invalid_refresh_token").await;
}

/// Opens the caller's event stream on `app`.
async fn stream(app: &TestApp, token: &str) -> SseStream {
    SseStream::open(&app.http, &app.api("/notifications/stream"), token, None).await
}

async fn event_streams_close_when_their_session_ends(mode: Mode) {
    let mut deployment = Deployment::new(mode).await;
    // Periodic re-checks are off the table: only the announcement of the end can close a
    // stream within the test's wait.
    deployment.config.notifications.session_check_secs = 3600;
    let first = deployment.start().await;
    // The scaled mode ends sessions on one instance and watches streams on another.
    let other;
    let second = if mode == Mode::Scaled {
        other = deployment.start().await;
        &other
    } else {
        &first
    };
    let author = first.new_user().await;
    let post = first.create_post(&author, "notify me", 37.5, 127.0).await;
    let post_id = post["id"].as_str().expect("post id");
    let mut author_stream = stream(second, &author.access).await;

    let logged_out = first.new_user().await;
    let mut logged_out_stream = stream(second, &logged_out.access).await;
    logout(&first, &logged_out.access).await;

    let changed = first.new_user().await;
    let elsewhere: Value = first.login_json(&changed.email, changed.password()).await;
    let mut elsewhere_stream = stream(second, elsewhere["access_token"].as_str().expect("access")).await;
    let mut changer_stream = stream(second, &changed.access).await;
    change_password(&first, &changed).await;

    let reused = first.new_user().await;
    let mut reused_stream = stream(second, &reused.access).await;
    let rotated = first.post_json("/auth/refresh", &json!({ "refresh_token": reused.refresh() })).await;
    assert_eq!(rotated.status(), 200);
    let replay = first.post_json("/auth/refresh", &json!({ "refresh_token": reused.refresh() })).await;
    assert_problem(replay, 401, "refresh_token_reused").await;

    let deleted = first.new_user().await;
    let mut deleted_stream = stream(second, &deleted.access).await;
    assert_eq!(delete_account(&first, &deleted).await.status(), 204);

    let wait = Duration::from_secs(15);
    assert!(logged_out_stream.closes_within(wait).await, "logout closes the stream");
    assert!(elsewhere_stream.closes_within(wait).await, "a password change closes other sessions' streams");
    assert!(reused_stream.closes_within(wait).await, "refresh-token reuse closes the stream");
    assert!(deleted_stream.closes_within(wait).await, "deleting the account closes the stream");

    // Streams of live sessions carry on: the author hears of a vote, and so does the session
    // that changed the password.
    let voter = first.user().await;
    assert_eq!(first.vote(&voter, post_id, Some("helpful")).await.status(), 200);
    let event = author_stream.next_within(wait).await.expect("the author's stream is still open");
    assert_eq!(event.event.as_deref(), Some("post.voted"));
    let changer_post = first.create_post(&changed, "still here", 37.5, 127.0).await;
    let changer_post_id = changer_post["id"].as_str().expect("post id");
    assert_eq!(first.vote(&voter, changer_post_id, Some("helpful")).await.status(), 200);
    let event = changer_stream.next_within(wait).await.expect("the changer's stream is still open");
    assert_eq!(event.event.as_deref(), Some("post.voted"));
}

async fn event_streams_close_when_their_token_expires(mode: Mode) {
    let mut deployment = Deployment::new(mode).await;
    deployment.config.auth.access_ttl_secs = 2;
    deployment.config.notifications.session_check_secs = 3600;
    let app = deployment.start().await;
    let user = app.user().await;
    let mut events = stream(&app, &user.access).await;
    let opened = std::time::Instant::now();
    assert!(events.closes_within(Duration::from_secs(15)).await, "the stream ends with its token");
    assert!(opened.elapsed() >= Duration::from_millis(500), "not before the token expired");
}

async fn revoking_admin_takes_effect_at_once(mode: Mode) {
    let deployment = Deployment::new(mode).await;
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let plugins = |token: String| {
        let request = app.http.get(app.api("/admin/plugins")).bearer_auth(token);
        async move { request.send().await.expect("request") }
    };
    assert_eq!(plugins(admin.access.clone()).await.status(), 200);
    deployment.set_role(&admin.email, Role::User).await;
    assert_problem(plugins(admin.access.clone()).await, 403, "admin_only").await;

    // A token whose claims say admin does not make its holder one.
    let user = app.new_user().await;
    let me: Value = app.get_me(&user.access).await.json().await.expect("json");
    assert_eq!(me["role"], "user");
    let payload = user.access.split('.').nth(1).expect("payload");
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("b64"),
    )
    .expect("json");
    assert_eq!(claims["role"], "user");
    deployment.set_role(&user.email, Role::Admin).await;
    assert_eq!(plugins(user.access.clone()).await.status(), 200, "granting also takes effect at once");
}

async fn a_login_racing_deletion_leaves_no_usable_session(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let author = app.new_user().await;
    let post = app.create_post(&author, "a post to vote on", 37.5, 127.0).await;
    let post_id = post["id"].as_str().expect("post id");
    for round in 0..3 {
        let user = app.new_user().await;
        let logins = join_all((0..12).map(|_| app.login_json(&user.email, user.password())));
        let (logins, deleted) = tokio::join!(logins, delete_account(&app, &user));
        assert_eq!(deleted.status(), 204, "round {round}");
        for login in logins {
            let Some(token) = login["access_token"].as_str() else {
                assert_eq!(login["status"], 401, "a refused login is a 401: {login}");
                continue;
            };
            refused_everywhere(&app, token, post_id, "a login that raced the deletion").await;
            let refresh =
                app.post_json("/auth/refresh", &json!({ "refresh_token": login["refresh_token"] })).await;
            assert_eq!(refresh.status(), 401, "its refresh token");
        }
    }
}
