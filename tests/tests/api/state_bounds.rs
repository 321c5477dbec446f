//! The embedded mode's in-memory state store under a flood of one-off keys (rate-limit
//! windows of logins naming distinct emails): it stays within its cap, says so in `/metrics`,
//! and a logged-out session stays ended though what the store remembered of it was dropped
//! (the database decides). (Redis, the scaled mode's store, is bounded by its own `maxmemory`.)

use futures::StreamExt;
use serde_json::json;
use weatherwise_tests::{Mode, TestApp, assert_problem, metric};

const CAP: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_memory_state_store_stays_within_its_cap_under_a_flood() {
    let app = TestApp::spawn_with(Mode::Embedded, |config| config.state.memory_max_entries = CAP).await;
    let revoked = app.new_user().await;
    let logout =
        app.http.post(app.api("/auth/logout")).bearer_auth(&revoked.access).send().await.expect("logout");
    assert_eq!(logout.status(), 204);

    let statuses: Vec<u16> = futures::stream::iter(0..4 * CAP)
        .map(|i| {
            let app = &app;
            async move {
                let body =
                    json!({ "email": format!("flood-{i}@example.com"), "password": "not the password" });
                app.post_json("/auth/login", &body).await.status().as_u16()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(
        statuses.iter().all(|status| *status == 401),
        "every login is refused, none failed: {statuses:?}"
    );

    let metrics = app.metrics().await;
    let entries = metric(&metrics, "state_memory_entries", "").expect("the entries gauge");
    let bytes = metric(&metrics, "state_memory_bytes", "").expect("the bytes gauge");
    let evicted = metric(&metrics, "state_memory_evictions_total", "").expect("the evictions counter");
    eprintln!("state store: {entries} entries, {bytes} bytes, {evicted} evicted");
    assert!(entries <= CAP as f64 && entries >= (CAP / 2) as f64, "{entries} entries for a cap of {CAP}");
    assert!(bytes > 0.0 && bytes < (CAP * 1024) as f64, "{bytes} bytes");
    assert!(evicted >= (3 * CAP) as f64 - 10.0, "the oldest windows made room: {evicted}");

    // The session stays ended: when the flood dropped what the store remembered, the database
    // answered.
    assert_problem(app.get_me(&revoked.access).await, 401, "token_revoked").await;
}
