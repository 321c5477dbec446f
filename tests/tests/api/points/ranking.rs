//! Crediting once, ranks with ties, nickname search, rebuilding, account deletion and a race
//! of hundreds of credits, through the server's points service and its HTTP API.

use futures::future::join_all;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use weatherwise_tests::{Mode, Session, TestApp, assert_problem, both_modes};

both_modes!(
    points_credit_twice_credits_once,
    points_ranks_break_ties_by_who_reached_the_total_first,
    points_history_pages_newest_first,
    points_nickname_search_gives_each_result_its_rank,
    points_rebuild_after_wiping_gives_the_same_ranks,
    points_deleted_accounts_leave_the_ranking,
    points_hundreds_of_concurrent_credits_match_the_ledger,
    points_bad_parameters_are_422,
);

/// `(user id, rank, total)` of `GET /rankings?limit=…`.
async fn top(node: &TestApp, caller: &Session, limit: usize) -> Vec<(String, u64, i64)> {
    let body = node.get_json(caller, &format!("/rankings?limit={limit}")).await;
    body["rankings"]
        .as_array()
        .expect("rankings")
        .iter()
        .map(|r| {
            (
                r["user_id"].as_str().expect("user_id").to_owned(),
                r["rank"].as_u64().expect("rank"),
                r["total"].as_i64().expect("total"),
            )
        })
        .collect()
}

async fn points_credit_twice_credits_once(mode: Mode) {
    let node = TestApp::spawn(mode).await;
    let (ann, ben) = (node.user().await, node.user().await);
    let points = &node.state().points;

    let first = points.credit("verification-1", &ann.user_id, 30, 1_000).await.expect("credit");
    assert!(first.newly_credited);
    assert_eq!(first.total, 30);
    let again = points.credit("verification-1", &ann.user_id, 30, 1_500).await.expect("credit again");
    assert!(!again.newly_credited, "already credited");
    assert_eq!(again.total, 30);
    // The verification stays credited to whom it was credited first.
    let other = points.credit("verification-1", &ben.user_id, 80, 2_000).await.expect("credit other");
    assert!(!other.newly_credited);
    assert_eq!((other.user_id.as_str(), other.total), (ann.user_id.as_str(), 30));
    assert!(points.credit("verification-2", &ann.user_id, 0, 1_000).await.is_err(), "no credit of zero");
    assert!(points.credit("", &ann.user_id, 5, 1_000).await.is_err(), "a verification id is needed");

    // Inside the caller's own transaction: a rollback credits nothing, a commit credits once.
    let db = &node.state().adapters.db;
    let mut tx = db.pool().begin().await.expect("begin");
    let credit = weatherwise::points::credit_in(&mut tx, "verification-3", &ann.user_id, 12, 3_000)
        .await
        .expect("in tx");
    assert_eq!(credit.total, 42);
    tx.rollback().await.expect("rollback");
    assert_eq!(node.my_rank(&ann).await, (Some(1), 30));
    let mut tx = db.pool().begin().await.expect("begin");
    let credit = weatherwise::points::credit_in(&mut tx, "verification-3", &ann.user_id, 12, 3_000)
        .await
        .expect("in tx");
    tx.commit().await.expect("commit");
    points.settle(&credit).await;

    let mine = node.get_json(&ann, "/me/points").await;
    assert_eq!(mine["total"], 42);
    let history = mine["history"].as_array().expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["verification_id"], "verification-3");
    assert_eq!(history[1]["points"], 30);
    assert_eq!(mine["next_cursor"], Value::Null);
    assert_eq!(node.my_rank(&ann).await, (Some(1), 42));
    assert_eq!(node.my_rank(&ben).await, (None, 0), "no credit, no rank");
    assert_eq!(node.get_json(&ben, "/me/points").await["total"], 0);
}

async fn points_ranks_break_ties_by_who_reached_the_total_first(mode: Mode) {
    let node = TestApp::spawn(mode).await;
    let [a, b, c, d] = [node.user().await, node.user().await, node.user().await, node.user().await];
    node.credit("a1", &a, 50, 1_000).await;
    node.credit("b1", &b, 30, 1_100).await;
    node.credit("c1", &c, 30, 1_050).await;
    node.credit("d1", &d, 20, 900).await;
    // d reaches 50 too, but after a did.
    assert_eq!(node.credit("d2", &d, 30, 2_000).await, 50);

    let expected = vec![
        (a.user_id.clone(), 1, 50),
        (d.user_id.clone(), 2, 50),
        (c.user_id.clone(), 3, 30),
        (b.user_id.clone(), 4, 30),
    ];
    assert_eq!(top(&node, &a, 10).await, expected);
    assert_eq!(top(&node, &a, 2).await, expected[..2].to_vec());
    for (user, rank, total) in [(&a, 1, 50), (&d, 2, 50), (&c, 3, 30), (&b, 4, 30)] {
        assert_eq!(node.my_rank(user).await, (Some(rank), total));
    }
    let first = node.get_json(&a, "/rankings?limit=1").await;
    assert_eq!(first["rankings"][0]["nickname"], a.nickname.as_str());

    // b overtakes everyone.
    node.credit("b2", &b, 25, 3_000).await;
    assert_eq!(node.my_rank(&b).await, (Some(1), 55));
    assert_eq!(node.my_rank(&a).await, (Some(2), 50));
}

async fn points_history_pages_newest_first(mode: Mode) {
    let node = TestApp::spawn(mode).await;
    let ann = node.user().await;
    // Two credits share a millisecond: the page boundary must not split or repeat them.
    for (n, at) in [1_000, 2_000, 2_000, 3_000, 4_000].into_iter().enumerate() {
        node.credit(&format!("h{n}"), &ann, 1 + n as i64, at).await;
    }
    let mut seen = Vec::new();
    let mut path = "/me/points?limit=2".to_owned();
    for _ in 0..10 {
        let page = node.get_json(&ann, &path).await;
        assert_eq!(page["total"], 15);
        let history = page["history"].as_array().expect("history");
        assert!(history.len() <= 2);
        seen.extend(history.iter().map(|e| e["verification_id"].as_str().expect("id").to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/me/points?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["h4", "h3", "h2", "h1", "h0"]);
}

async fn points_nickname_search_gives_each_result_its_rank(mode: Mode) {
    let node = TestApp::spawn(mode).await;
    let credited = [("Kim01", 40), ("kim02", 10), ("KIMchi", 25), ("lee", 100), ("k_m", 5), ("kXm", 7)];
    let mut users = HashMap::new();
    for (n, (nickname, points)) in credited.into_iter().enumerate() {
        let user = node.user_named(nickname).await;
        node.credit(&format!("s{n}"), &user, points, 1_000 + n as i64).await;
        users.insert(nickname, user);
    }
    node.user_named("kimnothing").await;
    let asker = &users["lee"];
    let search = |query: &'static str| {
        let node = &node;
        async move {
            let body = node.get_json(asker, &format!("/rankings/search?{query}")).await;
            body["rankings"]
                .as_array()
                .expect("rankings")
                .iter()
                .map(|r| {
                    (r["nickname"].as_str().expect("nickname").to_owned(), r["rank"].as_u64().expect("rank"))
                })
                .collect::<Vec<_>>()
        }
    };
    let owned = |list: &[(&str, u64)]| list.iter().map(|(n, r)| ((*n).to_owned(), *r)).collect::<Vec<_>>();
    // Case-insensitive, best first, users without points left out.
    assert_eq!(search("nickname=kim").await, owned(&[("Kim01", 2), ("KIMchi", 3), ("kim02", 4)]));
    assert_eq!(search("nickname=KIM&limit=2").await, owned(&[("Kim01", 2), ("KIMchi", 3)]));
    // `_` and `%` are literal characters, not wildcards.
    assert_eq!(search("nickname=k_").await, owned(&[("k_m", 6)]));
    assert_eq!(search("nickname=%25").await, owned(&[]));
    assert_eq!(search("nickname=Lee").await, owned(&[("lee", 1)]));
    assert_eq!(search("nickname=%20kxm%20").await, owned(&[("kXm", 5)]));
}

async fn points_rebuild_after_wiping_gives_the_same_ranks(mode: Mode) {
    let node = TestApp::spawn(mode).await;
    let users = node.users(8).await;
    for (n, user) in users.iter().enumerate() {
        node.credit(&format!("r{n}a"), user, 10 + (n as i64 % 3) * 5, 1_000 + n as i64).await;
        if n % 2 == 0 {
            node.credit(&format!("r{n}b"), user, 5, 2_000 - n as i64).await;
        }
    }
    let before = top(&node, &users[0], 100).await;
    assert_eq!(before.len(), 8);
    let ranks_before: Vec<_> = join_all(users.iter().map(|u| node.my_rank(u))).await;

    // Lose the totals and the ranking (the Redis set in the scaled mode).
    sqlx::query("delete from user_points")
        .execute(node.state().adapters.db.pool())
        .await
        .expect("wipe totals");
    node.state().points.ranking().replace_all(&[]).await.expect("wipe ranking");
    assert!(top(&node, &users[0], 100).await.is_empty());
    assert_eq!(node.my_rank(&users[0]).await, (None, 0));

    assert_eq!(node.state().points.rebuild().await.expect("rebuild"), 8);
    assert_eq!(top(&node, &users[0], 100).await, before);
    let ranks_after: Vec<_> = join_all(users.iter().map(|u| node.my_rank(u))).await;
    assert_eq!(ranks_after, ranks_before);
}

async fn points_deleted_accounts_leave_the_ranking(mode: Mode) {
    let node = TestApp::spawn(mode).await;
    let [a, b, c] = [node.user().await, node.user().await, node.user().await];
    node.credit("x1", &a, 30, 1_000).await;
    node.credit("x2", &b, 20, 1_000).await;
    node.credit("x3", &c, 10, 1_000).await;
    let deleted = node.http.delete(node.api("/me")).bearer_auth(&b.access).send().await.expect("request");
    assert_eq!(deleted.status(), 204);
    // The ranking follows the account event, so give it a moment.
    for _ in 0..200 {
        if top(&node, &a, 10).await.len() == 2 && node.my_rank(&c).await.0 == Some(2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(top(&node, &a, 10).await, vec![(a.user_id.clone(), 1, 30), (c.user_id.clone(), 2, 10)]);
    assert_eq!(node.my_rank(&c).await, (Some(2), 10));
    // And a rebuild agrees (the ledger rows went with the account).
    node.state().points.rebuild().await.expect("rebuild");
    assert_eq!(top(&node, &a, 10).await, vec![(a.user_id.clone(), 1, 30), (c.user_id.clone(), 2, 10)]);
}

/// 600 credits at once for 24 users: 300 verification ids, each sent twice (sometimes naming
/// another user). Every verification counts once, totals equal the ledger's sums, and the
/// ranking agrees with the totals and with a rebuild.
async fn points_hundreds_of_concurrent_credits_match_the_ledger(mode: Mode) {
    let node = TestApp::spawn(mode).await;
    let node = Arc::new(node);
    let users = node.users(24).await;
    let mut tasks = Vec::new();
    for round in 0..2 {
        for k in 0..300usize {
            let node = node.clone();
            let user = users[(k + round * (k % 3)) % users.len()].user_id.clone();
            tasks.push(tokio::spawn(async move {
                let at = weatherwise::db::now_ms();
                node.state().points.credit(&format!("race-{k}"), &user, 1 + (k % 7) as i64, at).await
            }));
        }
    }
    let outcomes: Vec<_> =
        join_all(tasks).await.into_iter().map(|t| t.expect("task").expect("credit")).collect();
    assert_eq!(outcomes.iter().filter(|c| c.newly_credited).count(), 300, "each verification credited once");

    let ledger: Vec<(String, i64, i64)> = sqlx::query_as(
        "select user_id, count(*), cast(sum(points) as bigint) from points_ledger group by user_id",
    )
    .fetch_all(node.state().adapters.db.pool())
    .await
    .expect("ledger");
    assert_eq!(ledger.iter().map(|(_, n, _)| n).sum::<i64>(), 300);
    let sums: HashMap<String, i64> = ledger.into_iter().map(|(user, _, sum)| (user, sum)).collect();
    let mut credited_by_outcome: HashMap<String, i64> = HashMap::new();
    for credit in outcomes.iter().filter(|c| c.newly_credited) {
        *credited_by_outcome.entry(credit.user_id.clone()).or_default() += credit.points;
    }
    assert_eq!(credited_by_outcome, sums, "what the calls reported equals the ledger");

    let ranking = top(&node, &users[0], 100).await;
    assert_eq!(ranking.len(), sums.len());
    for (position, (user, rank, total)) in ranking.iter().enumerate() {
        assert_eq!(*rank, position as u64 + 1);
        assert_eq!(Some(total), sums.get(user), "total of {user}");
    }
    assert!(ranking.windows(2).all(|pair| pair[0].2 >= pair[1].2), "totals descend");
    for user in &users {
        let (rank, total) = node.my_rank(user).await;
        let expected =
            ranking.iter().find(|(id, _, _)| *id == user.user_id).map(|(_, rank, total)| (*rank, *total));
        assert_eq!(rank.map(|rank| (rank, total)), expected, "rank of {}", user.user_id);
    }
    node.state().points.rebuild().await.expect("rebuild");
    assert_eq!(top(&node, &users[0], 100).await, ranking, "the ranking equals a rebuild from the ledger");
}

async fn points_bad_parameters_are_422(mode: Mode) {
    let node = TestApp::spawn(mode).await;
    let ann = node.user().await;
    for path in [
        "/rankings?limit=0",
        "/rankings?limit=101",
        "/rankings?limit=ten",
        "/rankings/search",
        "/rankings/search?nickname=",
        "/rankings/search?nickname=%20%20",
        "/rankings/search?nickname=abcdefghijklm",
        "/rankings/search?nickname=kim&limit=51",
        "/me/points?limit=0",
        "/me/points?limit=1000",
        "/me/points?cursor=not-a-cursor",
        "/me/points?cursor=bm9jb2xvbg",
    ] {
        let body = assert_problem(node.get(&ann, path).await, 422, "validation_failed").await;
        assert!(body["errors"].as_array().is_some_and(|e| !e.is_empty()), "{path}: {body}");
    }
    let anonymous = node.http.get(node.api("/rankings")).send().await.expect("request");
    assert_problem(anonymous, 401, "missing_token").await;
}
