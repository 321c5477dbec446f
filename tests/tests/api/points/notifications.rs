//! Event streams: live delivery, resuming by Last-Event-ID with exactly the missed events,
//! privacy between users, vote and credit events, limits, and delivery across instances.

use super::support::{Node, start};
use serde_json::json;
use std::time::Duration;
use weatherwise_tests::sse::SseStream;
use weatherwise_tests::{Deployment, Mode, assert_problem, both_modes};

both_modes!(
    notifications_arrive_live,
    notifications_resume_with_exactly_the_missed_events,
    notifications_of_others_never_arrive,
    notifications_a_vote_on_my_post_arrives,
    notifications_streams_are_bounded_and_kept_alive,
);

const QUIET: Duration = Duration::from_millis(500);

async fn notifications_arrive_live(mode: Mode) {
    let (node, _deployment) = start(mode).await;
    let ann = node.user().await;
    let mut stream = node.stream(&ann, None).await;
    node.wait_for_streams(&ann, 1).await;

    let id = node
        .state
        .notifier
        .notify(&ann.id, "verification.decided", json!({"approved": true}))
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
    assert_eq!(stream.next_within(QUIET).await, None);
}

async fn notifications_resume_with_exactly_the_missed_events(mode: Mode) {
    let (node, _deployment) = start(mode).await;
    let ann = node.user().await;
    let notifier = &node.state.notifier;
    let mut stream = node.stream(&ann, None).await;
    node.wait_for_streams(&ann, 1).await;
    notifier.notify(&ann.id, "test.one", json!({"n": 1})).await.expect("notify");
    let seen = stream.next().await.id.expect("id");
    drop(stream);
    node.wait_for_streams(&ann, 0).await;

    let two = notifier.notify(&ann.id, "test.two", json!({"n": 2})).await.expect("notify");
    let three = notifier.notify(&ann.id, "test.three", json!({"n": 3})).await.expect("notify");
    let mut resumed = node.stream(&ann, Some(&seen)).await;
    let first = resumed.next().await;
    let second = resumed.next().await;
    assert_eq!((first.id.as_deref(), first.event.as_deref()), (Some(two.as_str()), Some("test.two")));
    assert_eq!((second.id.as_deref(), second.event.as_deref()), (Some(three.as_str()), Some("test.three")));
    assert_eq!(second.json(), json!({"n": 3}));
    // Then live ones, and nothing twice.
    let four = notifier.notify(&ann.id, "test.four", json!({"n": 4})).await.expect("notify");
    assert_eq!(resumed.next().await.id.as_deref(), Some(four.as_str()));
    assert_eq!(resumed.next_within(QUIET).await, None);

    // Resuming at the latest event replays nothing; a stream without Last-Event-ID starts now.
    let mut caught_up = node.stream(&ann, Some(&four)).await;
    assert_eq!(caught_up.next_within(QUIET).await, None);
    let mut fresh = node.stream(&ann, None).await;
    assert_eq!(fresh.next_within(QUIET).await, None);

    // Many events while away, in order, none lost.
    drop((resumed, caught_up, fresh));
    node.wait_for_streams(&ann, 0).await;
    let mut ids = Vec::new();
    for n in 0..150 {
        ids.push(notifier.notify(&ann.id, "test.burst", json!({"n": n})).await.expect("notify"));
    }
    let mut replay = node.stream(&ann, Some(&four)).await;
    for (n, id) in ids.iter().enumerate() {
        let event = replay.next().await;
        assert_eq!(event.id.as_ref(), Some(id));
        assert_eq!(event.json(), json!({"n": n}));
    }
    assert_eq!(replay.next_within(QUIET).await, None);

    let bad =
        SseStream::request(&node.http, &node.api("/notifications/stream"), &ann.token, Some("seven")).await;
    assert_problem(bad, 400, "invalid_last_event_id").await;
}

async fn notifications_of_others_never_arrive(mode: Mode) {
    let (node, _deployment) = start(mode).await;
    let (ann, ben) = (node.user().await, node.user().await);
    let mut anns = node.stream(&ann, None).await;
    node.wait_for_streams(&ann, 1).await;
    let notifier = &node.state.notifier;
    notifier.notify(&ben.id, "test.private", json!({"for": "ben"})).await.expect("notify");
    notifier.notify(&ben.id, "test.private", json!({"for": "ben"})).await.expect("notify");
    let mine = notifier.notify(&ann.id, "test.mine", json!({"for": "ann"})).await.expect("notify");
    let event = anns.next().await;
    assert_eq!((event.id.as_deref(), event.json()), (Some(mine.as_str()), json!({"for": "ann"})));
    assert_eq!(anns.next_within(QUIET).await, None);
    // Replaying from the start gives ann only hers.
    let mut replay = node.stream(&ann, Some("0")).await;
    assert_eq!(replay.next().await.json(), json!({"for": "ann"}));
    assert_eq!(replay.next_within(QUIET).await, None);
}

async fn notifications_a_vote_on_my_post_arrives(mode: Mode) {
    let (node, _deployment) = start(mode).await;
    let (author, voter) = (node.user().await, node.user().await);
    let mut stream = node.stream(&author, None).await;
    node.wait_for_streams(&author, 1).await;
    let post: serde_json::Value = node
        .http
        .post(node.api("/posts"))
        .bearer_auth(&author.token)
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
        .bearer_auth(&voter.token)
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
    assert!(data.get("voter").is_none() && !event.data.contains(&voter.id), "the voter is not named");
}

async fn notifications_streams_are_bounded_and_kept_alive(mode: Mode) {
    let mut deployment = Deployment::new(mode).await;
    deployment.config.notifications.keep_alive_secs = 1;
    deployment.config.notifications.max_streams_per_user = 2;
    let node = Node::start(&deployment).await;
    let ann = node.user().await;
    let url = node.api("/notifications/stream");
    let mut first = node.stream(&ann, None).await;
    let _second = node.stream(&ann, None).await;
    node.wait_for_streams(&ann, 2).await;
    assert_problem(SseStream::request(&node.http, &url, &ann.token, None).await, 429, "rate_limited").await;
    // Keep-alive comments flow while nothing happens.
    assert_eq!(first.next_within(Duration::from_millis(2_500)).await, None);
    assert!(first.comments >= 1, "keep-alive comments");
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
    let a = Node::start(&deployment).await;
    let b = Node::start(&deployment).await;
    let ann = a.user().await;
    let mut on_a = a.stream(&ann, None).await;
    a.wait_for_streams(&ann, 1).await;

    let id = b.state.notifier.notify(&ann.id, "test.cross", json!({"via": "b"})).await.expect("notify");
    let event = on_a.next().await;
    assert_eq!((event.id.as_deref(), event.json()), (Some(id.as_str()), json!({"via": "b"})));
    b.credit("cross-1", &ann, 9, 1_000).await;
    assert_eq!(on_a.next().await.event.as_deref(), Some("points.credited"));
    let last = on_a.next_within(QUIET).await;
    assert_eq!(last, None, "nothing twice");

    drop(on_a);
    a.wait_for_streams(&ann, 0).await;
    let missed = a.state.notifier.notify(&ann.id, "test.missed", json!({"via": "a"})).await.expect("notify");
    let mut on_b = b.stream(&ann, Some(&id)).await;
    let replayed = on_b.next().await;
    assert_eq!(replayed.event.as_deref(), Some("points.credited"));
    assert_eq!(on_b.next().await.id.as_deref(), Some(missed.as_str()));
    assert_eq!(on_b.next_within(QUIET).await, None);
    // The ranking is shared too.
    assert_eq!(a.my_rank(&ann).await, (Some(1), 9));
}
