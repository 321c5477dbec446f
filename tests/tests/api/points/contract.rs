//! The `RankingStore` contract, run against the SQL table (SQLite and PostgreSQL) and the Redis
//! sorted set: the same credits must give the same order, ranks, and rebuilds.

use std::sync::Arc;
use weatherwise::accounts::{NewUser, SqlUsers, UserStore};
use weatherwise::db::Database;
use weatherwise::points::ledger::{self, Standing};
use weatherwise::points::{RankingStore, RedisRanking, SqlRanking};
use weatherwise_tests::{fresh_postgres_database, redis_url};

async fn sqlite() -> (Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let db = Database::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("r.db").display()), 8)
        .await
        .expect("sqlite");
    db.migrate().await.expect("migrate");
    (db, dir)
}

async fn postgres() -> Database {
    let db = Database::connect(&fresh_postgres_database().await, 8).await.expect("postgres");
    db.migrate().await.expect("migrate");
    db
}

/// Credits as the service does: the ledger in a transaction, then the absolute standing.
async fn credit(
    db: &Database,
    ranking: &dyn RankingStore,
    verification: &str,
    user: &str,
    points: i64,
    at: i64,
) {
    let mut tx = db.pool().begin().await.expect("begin");
    ledger::credit_in(&mut tx, verification, user, points, at).await.expect("credit");
    tx.commit().await.expect("commit");
    let mut conn = db.pool().acquire().await.expect("connection");
    let standing = ledger::standing_of(&mut conn, user).await.expect("standing").expect("credited");
    ranking.apply(&standing).await.expect("apply");
}

async fn standings(db: &Database) -> Vec<Standing> {
    let mut conn = db.pool().acquire().await.expect("connection");
    let rows: Vec<(String, i64, i64)> = sqlx::query_as("select user_id, total, reached_at from user_points")
        .fetch_all(&mut *conn)
        .await
        .expect("standings");
    let mut standings: Vec<Standing> = rows
        .into_iter()
        .map(|(user_id, total, reached_at_ms)| Standing { user_id, total, reached_at_ms })
        .collect();
    // The order every store must agree with, written out independently.
    standings.sort_by(|a, b| {
        b.total.cmp(&a.total).then(a.reached_at_ms.cmp(&b.reached_at_ms)).then(a.user_id.cmp(&b.user_id))
    });
    standings
}

async fn assert_ranked_as(db: &Database, ranking: &dyn RankingStore, expected: &[Standing]) {
    let top = ranking.top(100).await.expect("top");
    let ranked: Vec<(u64, Standing)> = (1..).zip(expected.iter().cloned()).collect();
    assert_eq!(top, ranked, "top of the ranking");
    let ranks = ranking.ranks(expected).await.expect("ranks");
    assert_eq!(ranks, (1..=expected.len() as u64).map(Some).collect::<Vec<_>>(), "ranks of each");
    assert_eq!(standings(db).await, expected, "the stored standings");
}

async fn ranking_store_contract(db: Database, ranking: Arc<dyn RankingStore>) {
    let users = SqlUsers::new(db.clone());
    let mut ids = Vec::new();
    for n in 0..5 {
        let nickname = format!("rank{n}");
        let user = users
            .create(NewUser {
                email: Some(format!("{nickname}@example.com")),
                nickname_key: nickname.clone(),
                nickname,
                password_hash: None,
                kakao_id: None,
            })
            .await
            .expect("user");
        ids.push(user.id);
    }
    let r = ranking.as_ref();
    credit(&db, r, "v0", &ids[0], 50, 1_000).await;
    credit(&db, r, "v1", &ids[1], 30, 1_100).await;
    credit(&db, r, "v2", &ids[2], 30, 1_050).await;
    credit(&db, r, "v3a", &ids[3], 20, 900).await;
    credit(&db, r, "v3b", &ids[3], 30, 2_000).await;
    // Same total at the same millisecond as ids[2]: the smaller id ranks first.
    credit(&db, r, "v4", &ids[4], 30, 1_050).await;
    let expected = standings(&db).await;
    assert_eq!(expected[0].user_id, ids[0], "50 reached first");
    assert_eq!(expected[1].user_id, ids[3], "50 reached later");
    assert_eq!(expected.last().map(|s| s.user_id.as_str()), Some(ids[1].as_str()), "30 reached last");
    assert_ranked_as(&db, r, &expected).await;
    assert_eq!(ranking.top(2).await.expect("top 2").len(), 2);

    // Repeating a standing, or applying an older one late, changes nothing.
    for standing in &expected {
        ranking.apply(standing).await.expect("repeat");
    }
    let stale = Standing { user_id: ids[0].clone(), total: 10, reached_at_ms: 500 };
    ranking.apply(&stale).await.expect("late");
    assert_ranked_as(&db, r, &expected).await;
    let unknown = Standing { user_id: "nobody".into(), total: 10, reached_at_ms: 500 };
    assert_eq!(ranking.ranks(&[unknown]).await.expect("ranks"), vec![None]);

    // A deleted account leaves the ranking.
    assert!(users.delete(&ids[3]).await.expect("delete").is_some());
    ranking.remove(&ids[3]).await.expect("remove");
    let without = standings(&db).await;
    assert_eq!(without.len(), 4);
    assert_ranked_as(&db, r, &without).await;

    // Wiped totals and ranking come back from the ledger alone.
    sqlx::query("delete from user_points").execute(db.pool()).await.expect("wipe totals");
    ranking.replace_all(&[]).await.expect("wipe ranking");
    assert!(ranking.top(100).await.expect("top").is_empty());
    assert_eq!(weatherwise::points::rebuild(&db, r).await.expect("rebuild"), 4);
    assert_ranked_as(&db, r, &without).await;
    // Rebuilding again is idempotent.
    weatherwise::points::rebuild(&db, r).await.expect("rebuild again");
    assert_ranked_as(&db, r, &without).await;
}

#[tokio::test]
async fn ranking_store_contract_sql_on_sqlite() {
    let (db, _dir) = sqlite().await;
    ranking_store_contract(db.clone(), Arc::new(SqlRanking::new(db))).await;
}

#[tokio::test]
async fn ranking_store_contract_sql_on_postgres() {
    let db = postgres().await;
    ranking_store_contract(db.clone(), Arc::new(SqlRanking::new(db))).await;
}

#[tokio::test]
async fn ranking_store_contract_redis() {
    let db = postgres().await;
    let prefix = format!("wwtest:{}:", uuid::Uuid::new_v4().simple());
    let ranking = RedisRanking::connect(&redis_url(), &prefix).await.expect("Redis must be running");
    ranking_store_contract(db, Arc::new(ranking)).await;
}
