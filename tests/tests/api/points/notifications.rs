//! Event streams: live delivery, resuming by Last-Event-ID with exactly the missed events,
//! privacy between users, vote and credit events, limits, and delivery across instances.

use serde_json::json;
use std::time::Duration;
use weatherwise_tests::sse::SseStream;
use weatherwise_tests::{Deployment, Mode, Session, TestApp, assert_problem, both_modes};

both_modes!(
    notifications_arrive_live,
    notifications_resume_with_exactly_the_missed_events,
    notifications_of_others_never_arrive,
    notifications_a_vote_on_my_post_arrives,
    notifications_streams_are_bounded_and_kept_alive,
);

/// Proves no other event is on its way to `streams`: a stream delivers a user's events in the
/// order they were stored, so a marker stored now (through `via`) must be the next event each
/// of them receives. Returns the marker's id.
async fn nothing_else_pending(via: &TestApp, user: &Session, streams: &mut [&mut SseStream]) -> String {
    let marker = via.state().notifier.notify(&user.user_id, "test.marker", json!({})).await.expect("notify");
    for stream in streams.iter_mut() {
        let next = stream.next().await;
        assert_eq!(
            (next.event.as_deref(), next.id.as_deref()),
            (Some("test.marker"), Some(marker.as_str())),
            "an event came before the marker: {next:?}"
        );
    }
    marker
}

async fn notifications_arrive_live(mode: Mode) {
    let node = TestApp::spawn(mode).await;
    let ann = node.user().await;
    let mut stream = node.stream(&ann, None).await;
    node.wait_for_streams(&ann, 1).await;

    let id = node
        .state()
        .notifier
        .notify(&ann.user_id, "verification.decided", json!({"approved": true}))
        .await
        .expect("notify");
    let event = stream.next().await;
    assert_eq!(event.id.as_deref(), Some(id.as_str()));
    assert_eq!(event.event.as_deref(), Some("verification.decided"));
    assert_eq!(event.json(), json!({"approved": true}));

    node.credit("live-1", &ann, 15, 1_000).await;
    let credited = stream.next().await;
    assert_eq!(credited.event.as_deref(), Some("points.credited"));
    assert_eq!(credited.json(), json!({"verification_id": "live-1", "points": 15, "total": 15}));
    assert!(credited.id.expect("id").parse::<i64>().expect("number") > id.parse::<i64>().expect("number"));
    // A repeated credit is not news.
    node.credit("live-1", &ann, 15, 1_000).await;
    nothing_else_pending(&node, &ann, &mut [&mut stream]).await;
}

async fn notifications_resume_with_exactly_the_missed_events(mode: Mode) {
    let node = TestApp::spawn(mode).await;
    let ann = node.user().await;
    let notifier = &node.state().notifier;
    let mut stream = node.stream(&ann, None).await;
    node.wait_for_streams(&ann, 1).await;
    notifier.notify(&ann.user_id, "test.one", json!({"n": 1})).await.expect("notify");
    let seen = stream.next().await.id.expect("id");
    drop(stream);
    node.wait_for_streams(&ann, 0).await;

    let two = notifier.notify(&ann.user_id, "test.two", json!({"n": 2})).await.expect("notify");
    let three = notifier.notify(&ann.user_id, "test.three", json!({"n": 3})).await.expect("notify");
    let mut resumed = node.stream(&ann, Some(&seen)).await;
    let first = resumed.next().await;
    let second = resumed.next().await;
    assert_eq!((first.id.as_deref(), first.event.as_deref()), (Some(two.as_str()), Some("test.two")));
    assert_eq!((second.id.as_deref(), second.event.as_deref()), (Some(three.as_str()), Some("test.three")));
    assert_eq!(second.json(), json!({"n": 3}));
    // Then live ones, and nothing twice.
    let four = notifier.notify(&ann.user_id, "test.four", json!({"n": 4})).await.expect("notify");
    assert_eq!(resumed.next().await.id.as_deref(), Some(four.as_str()));
    let latest = nothing_else_pending(&node, &ann, &mut [&mut resumed]).await;

    // Resuming at the latest event replays nothing; a stream without Last-Event-ID starts now.
    let mut caught_up = node.stream(&ann, Some(&latest)).await;
    let mut fresh = node.stream(&ann, None).await;
    node.wait_for_streams(&ann, 3).await;
    let latest = nothing_else_pending(&node, &ann, &mut [&mut caught_up, &mut fresh, &mut resumed]).await;

    // Many events while away, in order, none lost.
    drop((resumed, caught_up, fresh));
    node.wait_for_streams(&ann, 0).await;
    let mut ids = Vec::new();
    for n in 0..150 {
        ids.push(notifier.notify(&ann.user_id, "test.burst", json!({"n": n})).await.expect("notify"));
    }
    let mut replay = node.stream(&ann, Some(&latest)).await;
    for (n, id) in ids.iter().enumerate() {
        let event = replay.next().await;
        assert_eq!(event.id.as_ref(), Some(id));
        assert_eq!(event.json(), json!({"n": n}));
    }
    node.wait_for_streams(&ann, 1).await;
    nothing_else_pending(&node, &ann, &mut [&mut replay]).await;

    let bad =
        SseStream::request(&node.http, &node.api("/notifications/stream"), &ann.access, Some("seven")).await;
    assert_problem(bad, 400, "invalid_last_event_id").await;
}

async fn notifications_of_others_never_arrive(mode: Mode) {
    let node = TestApp::spawn(mode).await;
    let (ann, ben) = (node.user().await, node.user().await);
    let mut anns = node.stream(&ann, None).await;
    let mut bens = node.stream(&ben, None).await;
    node.wait_for_streams(&ann, 1).await;
    node.wait_for_streams(&ben, 1).await;
    let notifier = &node.state().notifier;
    notifier.notify(&ben.user_id, "test.private", json!({"for": "ben"})).await.expect("notify");
    notifier.notify(&ben.user_id, "test.private", json!({"for": "ben"})).await.expect("notify");
    let mine = notifier.notify(&ann.user_id, "test.mine", json!({"for": "ann"})).await.expect("notify");
    let event = anns.next().await;
    assert_eq!((event.id.as_deref(), event.json()), (Some(mine.as_str()), json!({"for": "ann"})));
    // Once ben's own stream has everything of his, any of it sent astray is already queued on
    // ann's stream, ahead of a marker of hers.
    for _ in 0..2 {
        assert_eq!(bens.next().await.json(), json!({"for": "ben"}));
    }
    nothing_else_pending(&node, &ben, &mut [&mut bens]).await;
    let marker = nothing_else_pending(&node, &ann, &mut [&mut anns]).await;
    // Replaying from the start gives ann only hers.
    let mut replay = node.stream(&ann, Some("0")).await;
    assert_eq!(replay.next().await.json(), json!({"for": "ann"}));
    assert_eq!(replay.next().await.id.as_deref(), Some(marker.as_str()));
    nothing_else_pending(&node, &ann, &mut [&mut replay]).await;
}

async fn notifications_a_vote_on_my_post_arrives(mode: Mode) {
    let node = TestApp::spawn(mode).await;
    let (author, voter) = (node.user().await, node.user().await);
    let mut stream = node.stream(&author, None).await;
    node.wait_for_streams(&author, 1).await;
    let post: serde_json::Value = node
        .http
        .post(node.api("/posts"))
        .bearer_auth(&author.access)
        .json(&json!({"title": "비 온다", "body": "우산 챙기세요", "lat": 37.5, "lon": 127.0}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let post_id = post["id"].as_str().expect("id");
    let vote = node
        .http
        .put(node.api(&format!("/posts/{post_id}/vote")))
        .bearer_auth(&voter.access)
        .json(&json!({"vote": "helpful"}))
        .send()
        .await
        .expect("request");
    assert_eq!(vote.status(), 200);
    let event = stream.next().await;
    assert_eq!(event.event.as_deref(), Some("post.voted"));
    let data = event.json();
    assert_eq!(
        (data["post_id"].as_str(), data["vote"].as_str(), data["helpful"].as_i64()),
        (Some(post_id), Some("helpful"), Some(1))
    );
    assert!(data.get("voter").is_none() && !event.data.contains(&voter.user_id), "the voter is not named");
}

async fn notifications_streams_are_bounded_and_kept_alive(mode: Mode) {
    let mut deployment = Deployment::new(mode).await;
    deployment.config.notifications.keep_alive_secs = 1;
    deployment.config.notifications.max_streams_per_user = 2;
    let node = deployment.start().await;
    let ann = node.user().await;
    let url = node.api("/notifications/stream");
    let mut first = node.stream(&ann, None).await;
    let _second = node.stream(&ann, None).await;
    node.wait_for_streams(&ann, 2).await;
    assert_problem(SseStream::request(&node.http, &url, &ann.access, None).await, 429, "rate_limited").await;
    // Keep-alive comments flow while nothing happens.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while first.comments == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no keep-alive comment within 5 s");
        assert_eq!(first.next_within(Duration::from_millis(100)).await, None, "only keep-alive comments");
    }
    drop(first);
    node.wait_for_streams(&ann, 1).await;
    let _third = node.stream(&ann, None).await;

    let anonymous = node.http.get(&url).send().await.expect("request");
    assert_problem(anonymous, 401, "missing_token").await;
    assert_problem(SseStream::request(&node.http, &url, "not-a-token", None).await, 401, "invalid_token")
        .await;
}

/// Scaled only: a stream on instance A hears what is sent through instance B, and a stream
/// resumed on B replays what A's client missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_notifications_cross_instances() {
    let deployment = Deployment::new(Mode::Scaled).await;
    let a = deployment.start().await;
    let b = deployment.start().await;
    let ann = a.user().await;
    let mut on_a = a.stream(&ann, None).await;
    a.wait_for_streams(&ann, 1).await;

    let id =
        b.state().notifier.notify(&ann.user_id, "test.cross", json!({"via": "b"})).await.expect("notify");
    let event = on_a.next().await;
    assert_eq!((event.id.as_deref(), event.json()), (Some(id.as_str()), json!({"via": "b"})));
    b.credit("cross-1", &ann, 9, 1_000).await;
    assert_eq!(on_a.next().await.event.as_deref(), Some("points.credited"));
    // Nothing twice: a marker sent through b is the next event on a.
    let marker = nothing_else_pending(&b, &ann, &mut [&mut on_a]).await;

    drop(on_a);
    a.wait_for_streams(&ann, 0).await;
    let missed =
        a.state().notifier.notify(&ann.user_id, "test.missed", json!({"via": "a"})).await.expect("notify");
    let mut on_b = b.stream(&ann, Some(&id)).await;
    let replayed = on_b.next().await;
    assert_eq!(replayed.event.as_deref(), Some("points.credited"));
    assert_eq!(on_b.next().await.id.as_deref(), Some(marker.as_str()));
    assert_eq!(on_b.next().await.id.as_deref(), Some(missed.as_str()));
    nothing_else_pending(&a, &ann, &mut [&mut on_b]).await;
    // The ranking is shared too.
    assert_eq!(a.my_rank(&ann).await, (Some(1), 9));
}
