//! The `PostStore` contract, run unchanged against SQLite and PostgreSQL.

use futures::future::join_all;
use weatherwise::accounts::{NewUser, SqlUsers, UserStore};
use weatherwise::community::{Deletion, NewPost, PostStore, SqlPosts, Vote, VoteOutcome};
use weatherwise::db::Database;
use weatherwise::geo::{BoundingBox, Point};
use weatherwise_tests::fresh_postgres_database;

async fn user(users: &SqlUsers, nickname: &str) -> String {
    let new = NewUser {
        email: Some(format!("{nickname}@example.com")),
        nickname: nickname.into(),
        nickname_key: nickname.to_lowercase(),
        password_hash: None,
        kakao_id: None,
    };
    users.create(new).await.expect("user").id
}

fn new_post(author: &str, title: &str, lat: f64, lon: f64) -> NewPost {
    NewPost {
        author_id: author.into(),
        title: title.into(),
        body: "본문".into(),
        location: Point { lat, lon },
    }
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|item| id(item).to_owned()).collect()
}

async fn post_store_contract(db: Database) {
    let users = SqlUsers::new(db.clone());
    let posts = SqlPosts::new(db.clone(), &weatherwise::tasks::Tasks::new());
    let author = user(&users, "Author").await;
    let reader = user(&users, "Reader").await;

    let a = posts.create(new_post(&author, "a", 37.5, 127.0)).await.expect("create");
    assert_eq!(a.author_nickname.as_deref(), Some("Author"));
    assert_eq!((a.helpful, a.not_helpful, a.my_vote), (0, 0, None));
    assert_eq!(posts.get(&a.id, &reader).await.expect("get"), Some(a.clone()), "stored as returned");
    let missing = uuid::Uuid::now_v7().to_string();
    assert_eq!(posts.get(&missing, &reader).await.expect("get"), None);
    let b = posts.create(new_post(&author, "b", 37.51, 127.0)).await.expect("create");
    let c = posts.create(new_post(&reader, "c", 35.1, 129.0)).await.expect("create");

    let area = BoundingBox::around(Point { lat: 37.5, lon: 127.0 }, 5_000.0);
    let found = posts.in_area(&area, None, 10).await.expect("area");
    assert_eq!(ids(&found, |l| &l.id), [b.id.clone(), a.id.clone()], "newest first, the far post left out");
    assert_eq!(found[1].location, Point { lat: 37.5, lon: 127.0 }, "coordinates round-trip exactly");
    assert_eq!(ids(&posts.in_area(&area, Some(&b.id), 10).await.expect("area"), |l| &l.id), [a.id.as_str()]);
    assert_eq!(posts.in_area(&area, None, 1).await.expect("area").len(), 1);

    let many = posts.get_many(&[a.id.clone(), c.id.clone(), missing.clone()], &reader).await.expect("many");
    let mut many_ids = ids(&many, |p| &p.id);
    many_ids.sort();
    assert_eq!(many_ids, {
        let mut v = vec![a.id.clone(), c.id.clone()];
        v.sort();
        v
    });
    assert_eq!(
        ids(&posts.by_author(&author, None, 10).await.expect("mine"), |p| &p.id),
        [b.id.clone(), a.id.clone()]
    );
    assert_eq!(
        ids(&posts.by_author(&author, Some(&b.id), 10).await.expect("mine"), |p| &p.id),
        [a.id.as_str()]
    );

    let outcome = |previous, current, helpful, not_helpful| VoteOutcome {
        author_id: Some(author.clone()),
        previous,
        current,
        helpful,
        not_helpful,
    };
    use Vote::{Helpful, NotHelpful};
    let vote = |vote| posts.vote(&a.id, &reader, vote);
    assert_eq!(vote(Some(Helpful)).await.expect("vote"), Some(outcome(None, Some(Helpful), 1, 0)));
    assert_eq!(posts.get(&a.id, &reader).await.expect("get").and_then(|p| p.my_vote), Some(Helpful));
    assert_eq!(posts.get(&a.id, &author).await.expect("get").and_then(|p| p.my_vote), None);
    assert_eq!(vote(Some(Helpful)).await.expect("vote"), Some(outcome(Some(Helpful), Some(Helpful), 1, 0)));
    assert_eq!(
        vote(Some(NotHelpful)).await.expect("vote"),
        Some(outcome(Some(Helpful), Some(NotHelpful), 0, 1))
    );
    assert_eq!(vote(None).await.expect("vote"), Some(outcome(Some(NotHelpful), None, 0, 0)));
    assert_eq!(vote(None).await.expect("vote"), Some(outcome(None, None, 0, 0)));
    assert_eq!(posts.vote(&missing, &reader, Some(Helpful)).await.expect("vote"), None);
    assert_eq!(posts.vote(&missing, &reader, None).await.expect("vote"), None);

    // Concurrent voters, several changes each: the counters equal the final votes.
    let voters: Vec<String> = (0..40).map(|i| format!("voter-{i}")).collect();
    let racers = voters.iter().enumerate().map(|(i, voter)| {
        let posts = posts.clone();
        let (post, voter) = (b.id.clone(), voter.clone());
        async move {
            let plan = [Some(Helpful), Some(NotHelpful), None, Some(Helpful)];
            let steps = &plan[..1 + i % plan.len()];
            for step in steps {
                posts.vote(&post, &voter, *step).await.expect("vote").expect("post exists");
            }
            *steps.last().expect("a step")
        }
    });
    let finals = join_all(racers).await;
    let expected = |vote| finals.iter().filter(|last| **last == Some(vote)).count() as i64;
    let b_now = posts.get(&b.id, &reader).await.expect("get").expect("exists");
    assert_eq!((b_now.helpful, b_now.not_helpful), (expected(Helpful), expected(NotHelpful)));

    assert_eq!(posts.delete(&b.id, &reader).await.expect("delete"), Deletion::NotAuthor);
    assert_eq!(posts.delete(&b.id, &author).await.expect("delete"), Deletion::Deleted);
    assert_eq!(posts.delete(&b.id, &author).await.expect("delete"), Deletion::NotFound);
    let orphans: i64 = sqlx::query_scalar("select count(*) from post_votes where post_id = $1")
        .bind(&b.id)
        .fetch_one(db.pool())
        .await
        .expect("count");
    assert_eq!(orphans, 0, "votes go with their post");

    // A deleted author's posts stay, anonymised.
    users.delete(&reader).await.expect("delete user");
    let orphan = posts.get(&c.id, &author).await.expect("get").expect("stays");
    assert_eq!((orphan.author_id, orphan.author_nickname), (None, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn community_post_store_on_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let db = Database::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display()), 8)
        .await
        .expect("sqlite");
    db.migrate().await.expect("migrate");
    post_store_contract(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn community_post_store_on_postgres() {
    let db = Database::connect(&fresh_postgres_database().await, 8).await.expect("postgres");
    db.migrate().await.expect("migrate");
    post_store_contract(db).await;
}
