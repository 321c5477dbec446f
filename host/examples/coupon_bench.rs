//! Support for `bench/coupons.sh`: seeds claimants, and runs the claim path's two stages
//! straight against their backends, without HTTP, as the ceilings the server is compared with.
//!
//! ```text
//! coupon_bench seed URL USERS OUT_DIR            USERS claimants (a session, a mission approved
//!                                                today): tokens.txt; an admin: admin_token.txt
//! coupon_bench gate-loop REDIS_URL SECONDS TASKS the gate's Lua admission, straight on Redis
//! coupon_bench issue-loop URL SECONDS TASKS      the issuing transaction, straight on the database
//! ```
//! Tokens are signed with `BENCH_JWT_SECRET` under kid `bench`, valid for an hour.

#[path = "support/run_loop.rs"]
mod run_loop;

use anyhow::Context;
use run_loop::run_loop;
use std::sync::Arc;
use weatherwise::accounts::{NewUser, Role, SqlUsers, UserStore};
use weatherwise::auth::sessions::{SessionStore, SqlSessions, new_refresh_token};
use weatherwise::auth::tokens::TokenService;
use weatherwise::config::Config;
use weatherwise::coupons::CouponStore;
use weatherwise::coupons::gate::{Admission, CouponGate, DayKey, GateDay};
use weatherwise::coupons::model::EventDraft;
use weatherwise::coupons::redis_gate::RedisGate;
use weatherwise::db::{Database, now_ms};
use weatherwise::weather::time::seoul_date;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).context("missing argument (see the file's doc)");
    let number = |i: usize| -> anyhow::Result<usize> { Ok(arg(i)?.parse()?) };
    match arg(0)? {
        "seed" => seed(arg(1)?, number(2)?, arg(3)?).await,
        "gate-loop" => gate_loop(arg(1)?, number(2)?, number(3)?).await,
        "issue-loop" => issue_loop(arg(1)?, number(2)?, number(3)?).await,
        other => anyhow::bail!("unknown command {other}"),
    }
}

async fn create_users(db: &Database, count: usize, tag: &str) -> anyhow::Result<Vec<String>> {
    let users = SqlUsers::new(db.clone());
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let name = format!("{tag}{i}");
        let user = users
            .create(NewUser {
                email: Some(format!("{name}@example.com")),
                nickname: name.clone(),
                nickname_key: name,
                password_hash: None,
                kakao_id: None,
            })
            .await?;
        ids.push(user.id);
    }
    Ok(ids)
}

async fn seed(url: &str, count: usize, out_dir: &str) -> anyhow::Result<()> {
    let db = Database::connect(url, 4).await?;
    db.migrate().await?;
    let mut config = Config::default();
    config.auth.access_ttl_secs = 3600;
    let secret = std::env::var("BENCH_JWT_SECRET").context("BENCH_JWT_SECRET")?;
    let tokens = TokenService::new(&config.auth, &[("bench".into(), secret.into_bytes())]);
    let sessions = SqlSessions::new(db.clone());
    let token_of = |user: String| {
        let (tokens, sessions) = (&tokens, &sessions);
        async move {
            let (_, refresh_hash) = new_refresh_token();
            let session = sessions.open(&user, &refresh_hash, 3_600_000).await?.context("the user exists")?;
            anyhow::Ok(tokens.issue(&user, "user", &session)?.0)
        }
    };
    let now = now_ms();
    let today = seoul_date(now).to_string();
    let mut lines = Vec::with_capacity(count);
    for user in create_users(&db, count, "claimant").await? {
        // The day as the server records it when it makes a user's missions, with one of them
        // approved: `GET /missions/today` then reads them, and claims find the approval.
        sqlx::query(
            "insert into mission_days (user_id, local_date, region, lat, lon, weather_stale, created_at) \
             values ($1, $2, '서울특별시', 37.5665, 126.978, 0, $3)",
        )
        .bind(&user)
        .bind(&today)
        .bind(now)
        .execute(db.pool())
        .await?;
        sqlx::query(
            "insert into missions (id, user_id, local_date, slot, key, title, description, points, rubric, \
             outdoor, language, state, attempts, created_at, updated_at) values ($1, $2, $3, 'morning', \
             'bring-a-cup', 'Bring a cup', 'A reusable cup today.', 10, 'A reusable cup.', 0, 'en', 'approved', \
             1, $4, $4)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&user)
        .bind(&today)
        .bind(now)
        .execute(db.pool())
        .await?;
        lines.push(token_of(user).await?);
    }
    std::fs::write(format!("{out_dir}/tokens.txt"), lines.join("\n") + "\n")?;
    let admin = create_users(&db, 1, "admin").await?.remove(0);
    SqlUsers::new(db.clone()).set_role_by_email("admin0@example.com", Role::Admin).await?;
    let (_, refresh_hash) = new_refresh_token();
    let session = sessions.open(&admin, &refresh_hash, 3_600_000).await?.context("the admin exists")?;
    std::fs::write(format!("{out_dir}/admin_token.txt"), tokens.issue(&admin, "admin", &session)?.0)?;
    db.close().await;
    Ok(())
}

async fn gate_loop(redis_url: &str, seconds: usize, tasks: usize) -> anyhow::Result<()> {
    let prefix = format!("wwbench:{}:", uuid::Uuid::new_v4().simple());
    let gate: Arc<dyn CouponGate> = Arc::new(RedisGate::connect(redis_url, &prefix).await?);
    let day = DayKey { event_id: "bench".into(), day: seoul_date(now_ms()).to_string() };
    let state = GateDay { epoch: "bench".into(), remaining: i64::MAX / 2, users: Vec::new() };
    gate.rebuild(&day, &state).await?;
    run_loop("Redis gate (Lua admission), no HTTP", "claims/s", seconds, tasks, move |n| {
        let (gate, day) = (gate.clone(), day.clone());
        async move {
            let admitted = gate.admit(&day, "bench", &format!("user-{n}")).await?;
            anyhow::ensure!(admitted == Admission::Admitted, "{admitted:?}");
            Ok(())
        }
    })
    .await
}

/// Claimants a loop cycles through; each meets a new event once it has one of every event.
const LOOP_USERS: usize = 1000;

async fn issue_loop(url: &str, seconds: usize, tasks: usize) -> anyhow::Result<()> {
    let db = Database::connect(url, tasks as u32).await?;
    db.migrate().await?;
    let store = CouponStore::new(db.clone());
    let users =
        Arc::new(create_users(&db, LOOP_USERS, &format!("loop{}-", uuid::Uuid::new_v4().simple())).await?);
    let today = seoul_date(now_ms()).to_string();
    // Enough events that no claimant claims one twice within the run.
    let mut events = Vec::new();
    for _ in 0..200 {
        let draft = EventDraft {
            kind: "bench".into(),
            title: "bench".into(),
            starts_on: today.clone(),
            ends_on: today.clone(),
            opens_at: "00:00".into(),
            daily_quantity: 1_000_000,
            min_points: 0,
        };
        let event = store.create_event(&draft).await?;
        store.day(&event.id, &today, event.daily_quantity).await?;
        events.push(event.id);
    }
    let (events, store) = (Arc::new(events), Arc::new(store));
    let label = format!("{} issuing transaction, no HTTP", db.engine().name());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    run_loop(&label, "claims/s", seconds, tasks, move |_| {
        let (store, users, events, today, next) =
            (store.clone(), users.clone(), events.clone(), today.clone(), next.clone());
        async move {
            let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (user, event) = (&users[n % LOOP_USERS], &events[(n / LOOP_USERS) % events.len()]);
            store.issue(event, &today, user, &format!("k{n}")).await?;
            Ok(())
        }
    })
    .await
}
