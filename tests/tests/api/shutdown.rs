//! Shutting down while every kind of background work is busy loses nothing: the job a worker
//! holds is decided, every vote the server took is committed or was answered as failed, and a
//! vote notice folded into its window is stored rather than dropped.

use crate::missions::support::{COFFEE, any_mission, deployment, submitted};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;
use weatherwise::db::Database;
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::{Mode, both_modes};

both_modes!(shutdown_finishes_the_work_in_hand);

const RACING_VOTERS: usize = 150;

async fn shutdown_finishes_the_work_in_hand(mode: Mode) {
    // The model holds its answer, so shutdown meets a worker in the middle of its job.
    let vision = FakeVision::start(Behaviour::Held(Box::new(Behaviour::grade(true, 0.95)))).await;
    let mut deployment = deployment(mode, Some(&vision)).await;
    deployment.config.http.shutdown_grace_secs = 20;
    let app = deployment.start().await;

    // A verification whose photo is with the model.
    let user = app.new_user().await;
    let mission = any_mission(&app, &user.access).await;
    let verification = submitted(&app, &user.access, &mission, COFFEE.to_vec(), "image/png").await;
    vision.wait_for_requests(1).await;

    // A post with a vote notice folded into its window: the first vote is announced at once,
    // the second waits for the window to end.
    let author = app.user().await;
    let created = app
        .post_json_as(
            &author.access,
            "/posts",
            &json!({ "title": "비", "body": "우산", "lat": 37.5, "lon": 127.0 }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let post: Value = created.json().await.expect("json");
    let post_id = post["id"].as_str().expect("id").to_owned();
    let vote_url = app.api(&format!("/posts/{post_id}/vote"));
    let voters = app.users(RACING_VOTERS + 2).await;
    for voter in &voters[..2] {
        let response =
            app.http.put(&vote_url).bearer_auth(&voter.access).json(&json!({ "vote": "helpful" })).send();
        assert_eq!(response.await.expect("vote").status(), 200);
    }

    // Votes racing the shutdown: each is committed or answered as failed, never lost.
    let (answered_tx, mut answered_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut racing = tokio::task::JoinSet::new();
    for voter in voters[2..].iter().cloned() {
        let (http, url, answered) = (app.http.clone(), vote_url.clone(), answered_tx.clone());
        racing.spawn(async move {
            let response =
                http.put(&url).bearer_auth(&voter.access).json(&json!({ "vote": "helpful" })).send().await;
            let _ = answered.send(());
            (voter.user_id, response.map(|r| r.status().as_u16()))
        });
    }
    // Some votes are in before the signal; the rest meet a draining server.
    for _ in 0..RACING_VOTERS / 3 {
        answered_rx.recv().await.expect("an answer");
    }
    let config = deployment.config.clone();
    let address = app.address;
    let stopping = tokio::spawn(app.stop());
    // Once the listener is closed the server is draining; only then may the model answer, so
    // the worker's job is finished during the drain, not before it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(address).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "the listener still accepts connections after 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!stopping.is_finished(), "shutdown finished without waiting for the job in hand");
    vision.release();
    let stopped = tokio::time::timeout(Duration::from_secs(60), stopping).await;
    stopped
        .expect("shutdown finished within the grace periods")
        .expect("stop task")
        .expect("serve returned cleanly");

    let mut accepted = HashSet::new();
    while let Some(outcome) = racing.join_next().await {
        let (voter, status) = outcome.expect("voter task");
        match status {
            Ok(200) => {
                accepted.insert(voter);
            }
            // Refused or cut off by the shutdown: an answer the client sees as a failure.
            Ok(status) => assert!(status >= 500, "a vote answered {status}"),
            Err(_) => {}
        }
    }
    assert!(accepted.len() >= RACING_VOTERS / 3, "only {} votes answered before shutdown", accepted.len());

    // Read what the stopped server left behind.
    let db = Database::connect(&config.database_url(), 1).await.expect("database");
    let rows: Vec<(String,)> = sqlx::query_as("select user_id from post_votes where post_id = $1")
        .bind(&post_id)
        .fetch_all(db.pool())
        .await
        .expect("votes");
    let stored: HashSet<String> = rows.into_iter().map(|(user,)| user).collect();
    for voter in &accepted {
        assert!(stored.contains(voter), "vote of {voter} was answered 200 but is not stored");
    }
    let (helpful,): (i64,) = sqlx::query_as("select helpful_count from posts where id = $1")
        .bind(&post_id)
        .fetch_one(db.pool())
        .await
        .expect("post");
    assert_eq!(helpful, stored.len() as i64, "the counter equals the stored votes");

    let notices: Vec<(String,)> = sqlx::query_as(
        "select payload from notifications where user_id = $1 and kind = 'post.voted' order by seq",
    )
    .bind(&author.user_id)
    .fetch_all(db.pool())
    .await
    .expect("notifications");
    assert!(notices.len() >= 2, "the folded vote notice was dropped at shutdown: {notices:?}");
    let last: Value = serde_json::from_str(&notices.last().expect("a notice").0).expect("payload");
    assert!(
        last["helpful"].as_i64().expect("helpful") >= 2,
        "the folded notice carries the later count: {last}"
    );

    let (state,): (String,) = sqlx::query_as("select state from verifications where id = $1")
        .bind(&verification)
        .fetch_one(db.pool())
        .await
        .expect("verification");
    assert_eq!(state, "approved", "the job in hand when shutdown began was finished");
    db.close().await;
}
