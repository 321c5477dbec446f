//! Concurrency: hundreds of clients racing against the running server.

use futures::future::join_all;
use serde_json::{Value, json};
use std::sync::Arc;
use weatherwise_tests::{Mode, TestApp, both_modes};

both_modes!(two_hundred_signups_one_nickname_one_account, concurrent_refreshes_of_one_token_rotate_once);

async fn two_hundred_signups_one_nickname_one_account(mode: Mode) {
    let app = Arc::new(TestApp::spawn(mode).await);
    let attempts = (0..200).map(|i| {
        let app = app.clone();
        // Different emails, one nickname in different spellings of case.
        let nickname = if i % 2 == 0 { "RaceWinner" } else { "racewinner" };
        tokio::spawn(async move {
            app.signup(&format!("racer{i}@example.com"), "race password", nickname).await.status().as_u16()
        })
    });
    let statuses: Vec<u16> = join_all(attempts).await.into_iter().map(|r| r.expect("task")).collect();
    let created = statuses.iter().filter(|s| **s == 201).count();
    let conflicts = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!(created, 1, "exactly one sign-up wins: {statuses:?}");
    assert_eq!(conflicts, 199, "every other one is a conflict: {statuses:?}");
}

async fn concurrent_refreshes_of_one_token_rotate_once(mode: Mode) {
    let app = Arc::new(TestApp::spawn(mode).await);
    let user = app.new_user().await;
    let attempts = (0..50).map(|_| {
        let app = app.clone();
        let token = user.refresh().to_owned();
        tokio::spawn(async move {
            let response = app.post_json("/auth/refresh", &json!({ "refresh_token": token })).await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("json");
            (status, body)
        })
    });
    let results: Vec<(u16, Value)> = join_all(attempts).await.into_iter().map(|r| r.expect("task")).collect();
    let winners: Vec<&Value> =
        results.iter().filter(|(status, _)| *status == 200).map(|(_, body)| body).collect();
    assert_eq!(winners.len(), 1, "one refresh wins");
    assert!(
        results
            .iter()
            .filter(|(status, _)| *status != 200)
            .all(|(status, body)| *status == 401 && body["code"] == "refresh_token_reused")
    );
    // The losers detected reuse, so even the winner's new token is revoked.
    let after =
        app.post_json("/auth/refresh", &json!({ "refresh_token": winners[0]["refresh_token"] })).await;
    assert_eq!(after.status(), 401);
}
