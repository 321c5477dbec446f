//! Votes: switching and withdrawing, exact counts under 500 concurrent voters, and the
//! author's notification on the bus.

use futures::future::join_all;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use weatherwise::bus::topics;
use weatherwise::community::Vote;
use weatherwise_tests::{Mode, Session, TestApp, assert_problem, both_modes};

both_modes!(
    community_votes_switch_and_withdraw_with_exact_counts,
    community_five_hundred_voters_race_on_one_post,
    community_votes_notify_the_author_on_the_bus,
    community_a_failing_vote_fails_only_itself,
);

async fn counts(server: &TestApp, caller: &Session, id: &str) -> (i64, i64, Value) {
    let post = server.get_json(caller, &format!("/posts/{id}")).await;
    (
        post["helpful"].as_i64().expect("helpful"),
        post["not_helpful"].as_i64().expect("not_helpful"),
        post["my_vote"].clone(),
    )
}

async fn community_votes_switch_and_withdraw_with_exact_counts(mode: Mode) {
    let server = TestApp::spawn(mode).await;
    let (author, ann, ben) = (server.user().await, server.user().await, server.user().await);
    let post = server.create_post(&author, "votes", 37.5, 127.0).await;
    let id = post["id"].as_str().expect("id");

    let voted: Value = server.vote(&ann, id, Some("helpful")).await.json().await.expect("json");
    assert_eq!(
        voted,
        serde_json::json!({"post_id": id, "helpful": 1, "not_helpful": 0, "my_vote": "helpful"})
    );
    let again: Value = server.vote(&ann, id, Some("helpful")).await.json().await.expect("json");
    assert_eq!(
        (again["helpful"].as_i64(), again["not_helpful"].as_i64()),
        (Some(1), Some(0)),
        "one vote per user"
    );
    server.vote(&ben, id, Some("not_helpful")).await;
    assert_eq!(counts(&server, &ann, id).await, (1, 1, "helpful".into()));
    assert_eq!(counts(&server, &ben, id).await, (1, 1, "not_helpful".into()));
    assert_eq!(counts(&server, &author, id).await, (1, 1, Value::Null));

    let switched: Value = server.vote(&ann, id, Some("not_helpful")).await.json().await.expect("json");
    assert_eq!((switched["helpful"].as_i64(), switched["not_helpful"].as_i64()), (Some(0), Some(2)));
    let withdrawn = server.vote(&ben, id, None).await;
    assert_eq!(withdrawn.status(), 200);
    let withdrawn: Value = withdrawn.json().await.expect("json");
    assert_eq!((withdrawn["not_helpful"].as_i64(), withdrawn["my_vote"].clone()), (Some(1), Value::Null));
    let twice: Value = server.vote(&ben, id, None).await.json().await.expect("json");
    assert_eq!(twice["not_helpful"], 1, "withdrawing no vote changes nothing");
    assert_eq!(counts(&server, &ben, id).await, (0, 1, Value::Null));

    // My vote shows in the listings too.
    let nearby = server.get_json(&ann, "/posts/nearby?lat=37.5&lon=127").await;
    assert_eq!(nearby["posts"][0]["my_vote"], "not_helpful");
    assert_eq!(nearby["posts"][0]["not_helpful"], 1);

    let missing = uuid::Uuid::now_v7().to_string();
    assert_problem(server.vote(&ann, &missing, Some("helpful")).await, 404, "not_found").await;
    assert_problem(server.vote(&ann, &missing, None).await, 404, "not_found").await;
    assert_problem(server.vote(&ann, id, Some("useful")).await, 422, "validation_failed").await;
    // Votes go with the post.
    assert_eq!(server.delete(&author, &format!("/posts/{id}")).await.status(), 204);
    assert_problem(server.vote(&ann, id, Some("helpful")).await, 404, "not_found").await;
}

/// 500 voters at once on one post, each setting, switching and withdrawing at random: the
/// post's counters equal the sum of the final votes, and the stored votes agree.
async fn community_five_hundred_voters_race_on_one_post(mode: Mode) {
    let server = Arc::new(TestApp::spawn(mode).await);
    let author = server.user().await;
    let post = server.create_post(&author, "hot post", 37.5665, 126.978).await;
    let id: Arc<str> = post["id"].as_str().expect("id").into();
    let voters = server.users(500).await;
    let tasks = voters.into_iter().enumerate().map(|(i, voter)| {
        let (server, id) = (server.clone(), id.clone());
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(i as u64);
            let mut last = None;
            for _ in 0..rng.random_range(1..=4) {
                let choice = [Some("helpful"), Some("not_helpful"), None][rng.random_range(0..3)];
                let response = server.vote(&voter, &id, choice).await;
                assert_eq!(response.status(), 200, "vote answered");
                let body: Value = response.json().await.expect("json");
                assert_eq!(body["my_vote"].as_str(), choice);
                last = choice;
            }
            (voter, last)
        })
    });
    let finals: Vec<_> = join_all(tasks).await.into_iter().map(|task| task.expect("voter")).collect();
    let expect = |vote: &str| finals.iter().filter(|(_, last)| *last == Some(vote)).count() as i64;
    let (helpful, not_helpful) = (expect("helpful"), expect("not_helpful"));
    assert!(helpful > 50 && not_helpful > 50, "the seeds give a real mix: {helpful} / {not_helpful}");
    let (counted_helpful, counted_not_helpful, _) = counts(&server, &author, &id).await;
    assert_eq!((counted_helpful, counted_not_helpful), (helpful, not_helpful));

    let stored: Vec<(i64, i64)> = sqlx::query_as(
        "select value, count(*) from post_votes where post_id = $1 group by value order by value",
    )
    .bind(id.as_ref())
    .fetch_all(server.state().adapters.db.pool())
    .await
    .expect("stored votes");
    assert_eq!(stored, vec![(-1, not_helpful), (1, helpful)]);
    for (voter, last) in finals.iter().take(20) {
        assert_eq!(counts(&server, voter, &id).await.2.as_str(), *last, "each voter sees their own vote");
    }
}

async fn community_votes_notify_the_author_on_the_bus(mode: Mode) {
    let server = TestApp::spawn(mode).await;
    let group = format!("notify-test-{}", uuid::Uuid::new_v4().simple());
    let mut notifications =
        server.state().adapters.bus.subscribe(topics::COMMUNITY, &group).await.expect("subscribe");
    let (author, voter) = (server.user().await, server.user().await);
    let post = server.create_post(&author, "notify me", 36.3504, 127.3845).await;
    let id = post["id"].as_str().expect("id");
    // Not notified: the author's own vote, a withdrawal, a repeated vote.
    server.vote(&author, id, Some("helpful")).await;
    server.vote(&voter, id, Some("helpful")).await;
    server.vote(&voter, id, Some("helpful")).await;
    server.vote(&voter, id, None).await;
    server.vote(&voter, id, Some("not_helpful")).await;

    let mut next = async || {
        let message = tokio::time::timeout(Duration::from_secs(30), notifications.next())
            .await
            .expect("a notification in time")
            .expect("bus open");
        assert_eq!(message.key, author.user_id, "keyed by the recipient");
        serde_json::from_slice::<Value>(&message.payload).expect("json payload")
    };
    let first = next().await;
    assert_eq!(first["type"], "post.voted");
    assert_eq!(first["user_id"], author.user_id.as_str());
    assert_eq!(first["post_id"], id);
    assert_eq!((first["vote"].as_str(), first["helpful"].as_i64()), (Some("helpful"), Some(2)));
    assert!(first.get("voter_id").is_none(), "the voter is not named");
    let second = next().await;
    assert_eq!((second["vote"].as_str(), second["helpful"].as_i64()), (Some("not_helpful"), Some(1)));
    assert_eq!(second["not_helpful"], 1);
}

async fn community_a_failing_vote_fails_only_itself(mode: Mode) {
    let server = Arc::new(TestApp::spawn(mode).await);
    let author = server.user().await;
    let post = server.create_post(&author, "hot post", 37.5665, 126.978).await;
    let id: Arc<str> = post["id"].as_str().expect("id").into();
    let voters = server.users(200).await;
    // Votes that cannot be stored (PostgreSQL refuses text with a NUL character) race the real
    // ones, so they land in the same batches.
    let bad = (0..40).map(|i| {
        let server = server.clone();
        tokio::spawn(async move {
            let posts = server.state().community.posts.clone();
            posts.vote(&format!("bad\0post-{i}"), &format!("ghost-{i}"), Some(Vote::Helpful)).await.is_ok()
        })
    });
    let good = voters.iter().map(|voter| {
        let (server, id, voter) = (server.clone(), id.clone(), voter.clone());
        tokio::spawn(async move { server.vote(&voter, &id, Some("helpful")).await.status().as_u16() })
    });
    let (good, bad) = tokio::join!(join_all(good), join_all(bad));
    let statuses: Vec<u16> = good.into_iter().map(|task| task.expect("voter")).collect();
    assert!(statuses.iter().all(|status| *status == 200), "every well-formed vote is applied: {statuses:?}");
    let refused = bad.into_iter().filter(|task| !*task.as_ref().expect("bad voter")).count();
    // SQLite stores such text, so there the bad votes merely find no post.
    let expected_refused = if mode == Mode::Scaled { 40 } else { 0 };
    assert_eq!(refused, expected_refused, "each bad vote is answered on its own");
    let (helpful, not_helpful, _) = counts(&server, &author, &id).await;
    assert_eq!((helpful, not_helpful), (200, 0));
}
