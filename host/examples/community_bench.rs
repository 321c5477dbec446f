//! Support for `bench/community.sh`: seeds a database with posts spread over South Korea and
//! with voters (and their access tokens), runs the plain-SQL ceilings the HTTP figures are
//! compared with, and checks that a post's counters equal its stored votes.
//!
//! ```text
//! community_bench seed URL POSTS VOTERS OUT_DIR     tokens.txt, hot_post.txt, hot_row.txt in OUT_DIR
//! community_bench nearby-loop URL SECONDS TASKS     the nearby listing through the store, no HTTP
//! community_bench hot-row-loop URL SECONDS TASKS ID `update posts set helpful_count = helpful_count + 1`
//! community_bench verify URL POST_ID                counters against votes
//! ```
//! Tokens are signed with `BENCH_JWT_SECRET` under kid `bench`, valid for an hour.

#[path = "support/run_loop.rs"]
mod run_loop;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use run_loop::run_loop;
use sqlx::AssertSqlSafe;
use std::sync::Arc;
use std::time::Instant;
use weatherwise::accounts::{NewUser, SqlUsers, UserStore};
use weatherwise::auth::tokens::TokenService;
use weatherwise::community::nearby::{self, NearbyQuery, Order};
use weatherwise::community::{NewPost, PostStore, SqlPosts};
use weatherwise::config::Config;
use weatherwise::db::{Database, now_ms};
use weatherwise::geo::{Point, lat_band};

/// South Korea's bounding box, sea included.
const LAT: std::ops::Range<f64> = 33.0..38.6;
const LON: std::ops::Range<f64> = 124.6..131.0;
const ROWS_PER_INSERT: usize = 1_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).context("missing argument (see the file's doc)");
    let number = |i: usize| -> anyhow::Result<usize> { Ok(arg(i)?.parse()?) };
    match arg(0)? {
        "seed" => seed(arg(1)?, number(2)?, number(3)?, arg(4)?).await,
        "nearby-loop" => nearby_loop(arg(1)?, number(2)?, number(3)?).await,
        "hot-row-loop" => hot_row_loop(arg(1)?, number(2)?, number(3)?, arg(4)?).await,
        "verify" => verify(arg(1)?, arg(2)?).await,
        other => anyhow::bail!("unknown command {other}"),
    }
}

async fn seed(url: &str, posts: usize, voters: usize, out_dir: &str) -> anyhow::Result<()> {
    let db = Database::connect(url, 4).await?;
    db.migrate().await?;
    let users = SqlUsers::new(db.clone());
    let user = |i: usize| NewUser {
        email: Some(format!("bench-{i}@example.com")),
        nickname: format!("bench{i}"),
        nickname_key: format!("bench{i}"),
        password_hash: None,
        kakao_id: None,
    };
    let author = users.create(user(0)).await?;
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(2026);
    let columns = 8;
    let mut inserted = 0;
    while inserted < posts {
        let rows = ROWS_PER_INSERT.min(posts - inserted);
        let values: Vec<String> = (0..rows)
            .map(|row| {
                let first = row * columns + 1;
                let list: Vec<String> = (first..first + columns).map(|n| format!("${n}")).collect();
                format!("({})", list.join(", "))
            })
            .collect();
        let sql = format!(
            "insert into posts (id, author_id, title, body, lat, lon, lat_band, created_at) values {}",
            values.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for _ in 0..rows {
            let (lat, lon) = (rng.random_range(LAT), rng.random_range(LON));
            query = query
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(author.id.clone())
                .bind("벤치마크 게시글")
                .bind("서울 하늘이 맑아요. 산책하기 좋은 날씨입니다.")
                .bind(lat)
                .bind(lon)
                .bind(lat_band(lat))
                .bind(now_ms());
        }
        query.execute(db.pool()).await?;
        inserted += rows;
    }
    println!("seeded {posts} posts in {:.1} s", started.elapsed().as_secs_f64());

    let store = SqlPosts::new(db.clone(), &weatherwise::tasks::Tasks::new());
    let seoul = Point { lat: 37.5665, lon: 126.978 };
    let post = |title: &str| NewPost {
        author_id: author.id.clone(),
        title: title.into(),
        body: "b".into(),
        location: seoul,
    };
    let hot = store.create(post("hot post")).await?;
    let hot_row = store.create(post("hot row")).await?;

    let mut config = Config::default();
    config.auth.access_ttl_secs = 3600;
    let secret = std::env::var("BENCH_JWT_SECRET").context("BENCH_JWT_SECRET")?;
    let tokens = TokenService::new(&config.auth, &[("bench".into(), secret.into_bytes())]);
    let mut lines = Vec::with_capacity(voters);
    for i in 1..=voters {
        let voter = users.create(user(i)).await?;
        let (token, _) = tokens.issue(&voter.id, "user", &uuid::Uuid::now_v7().to_string())?;
        lines.push(token);
    }
    std::fs::write(format!("{out_dir}/tokens.txt"), lines.join("\n") + "\n")?;
    std::fs::write(format!("{out_dir}/hot_post.txt"), &hot.id)?;
    std::fs::write(format!("{out_dir}/hot_row.txt"), &hot_row.id)?;
    db.close().await;
    Ok(())
}

async fn nearby_loop(url: &str, seconds: usize, tasks: usize) -> anyhow::Result<()> {
    let db = Database::connect(url, tasks as u32).await?;
    let store = Arc::new(SqlPosts::new(db, &weatherwise::tasks::Tasks::new()));
    let viewer = uuid::Uuid::now_v7().to_string();
    run_loop("plain SQL loop: nearby", "req/s", seconds, tasks, move |n| {
        let (store, viewer) = (store.clone(), viewer.clone());
        async move {
            let mut rng = StdRng::seed_from_u64(n);
            let query = NearbyQuery {
                center: Point { lat: rng.random_range(LAT), lon: rng.random_range(LON) },
                radius_m: nearby::DEFAULT_RADIUS_M,
                order: Order::Newest,
                limit: nearby::DEFAULT_LIMIT,
                cursor: None,
            };
            nearby::nearby(store.as_ref() as &dyn PostStore, &viewer, &query).await?;
            Ok(())
        }
    })
    .await
}

async fn hot_row_loop(url: &str, seconds: usize, tasks: usize, id: &str) -> anyhow::Result<()> {
    let db = Database::connect(url, tasks as u32).await?;
    let id = id.to_owned();
    run_loop("plain SQL loop: hot-row update", "req/s", seconds, tasks, move |_| {
        let (db, id) = (db.clone(), id.clone());
        async move {
            sqlx::query("update posts set helpful_count = helpful_count + 1 where id = $1")
                .bind(id)
                .execute(db.pool())
                .await?;
            Ok(())
        }
    })
    .await
}

async fn verify(url: &str, id: &str) -> anyhow::Result<()> {
    let db = Database::connect(url, 1).await?;
    let (helpful, not_helpful): (i64, i64) =
        sqlx::query_as("select helpful_count, not_helpful_count from posts where id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await?;
    let votes: Vec<(i64, i64)> =
        sqlx::query_as("select value, count(*) from post_votes where post_id = $1 group by value")
            .bind(id)
            .fetch_all(db.pool())
            .await?;
    let stored = |value: i64| votes.iter().find(|(v, _)| *v == value).map_or(0, |(_, n)| *n);
    let exact = helpful == stored(1) && not_helpful == stored(-1);
    println!(
        "counters helpful={helpful} not_helpful={not_helpful}; stored votes {} / {}: {}",
        stored(1),
        stored(-1),
        if exact { "exact" } else { "MISMATCH" }
    );
    anyhow::ensure!(exact, "counters differ from the stored votes");
    Ok(())
}
