//! Contract suites: one body of assertions per adapter trait, run unchanged against every
//! implementation (SQLite and PostgreSQL; memory and Redis; in-process and Kafka).

use futures::future::join_all;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use weatherwise::accounts::{NewUser, Role, SqlUsers, UserStore, UserStoreError};
use weatherwise::auth::sessions::{Rotation, SessionStore, SqlSessions};
use weatherwise::bus::{EventBus, InProcessBus, KafkaBus};
use weatherwise::db::Database;
use weatherwise::state::{MemoryLimits, MemoryState, RedisState, StateStore};
use weatherwise_tests::{fresh_postgres_database, kafka_brokers, redis_url};

// ---- storage -------------------------------------------------------------------------------

async fn sqlite() -> (Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let db = Database::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display()), 8)
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

fn new_user(email: &str, nickname: &str) -> NewUser {
    NewUser {
        email: Some(email.into()),
        nickname: nickname.into(),
        nickname_key: nickname.to_lowercase(),
        password_hash: Some("$argon2id$fake".into()),
        kakao_id: None,
    }
}

async fn user_store_contract(db: Database) {
    let users = SqlUsers::new(db.clone());
    let created = users.create(new_user("a@example.com", "Alpha")).await.expect("create");
    assert_eq!(users.by_id(&created.id).await.expect("by id"), Some(created.clone()));
    assert_eq!(
        users.by_email("a@example.com").await.expect("by email").map(|u| u.id),
        Some(created.id.clone())
    );
    assert!(users.by_email("missing@example.com").await.expect("by email").is_none());

    assert!(matches!(
        users.create(new_user("a@example.com", "Other")).await,
        Err(UserStoreError::EmailTaken)
    ));
    assert!(matches!(
        users.create(new_user("b@example.com", "ALPHA")).await,
        Err(UserStoreError::NicknameTaken)
    ));
    let kakao =
        NewUser { email: None, kakao_id: Some("k-1".into()), password_hash: None, ..new_user("", "Kakao") };
    let kakao_user = users.create(kakao.clone()).await.expect("kakao user without email");
    assert_eq!(users.by_kakao_id("k-1").await.expect("by kakao").map(|u| u.id), Some(kakao_user.id));
    assert!(matches!(
        users.create(NewUser { nickname: "Kakao2".into(), nickname_key: "kakao2".into(), ..kakao }).await,
        Err(UserStoreError::KakaoTaken)
    ));

    let renamed = users.set_nickname(&created.id, "Beta", "beta").await.expect("rename").expect("exists");
    assert_eq!(renamed.nickname, "Beta");
    assert!(users.set_nickname("nobody", "Gamma", "gamma").await.expect("rename").is_none());
    assert!(users.set_password_hash(&created.id, "$argon2id$new").await.expect("password"));
    assert!(users.set_role_by_email("a@example.com", Role::Admin).await.expect("role"));
    assert_eq!(users.by_id(&created.id).await.expect("by id").expect("exists").role, Role::Admin);

    // Racing creations of one nickname: exactly one row.
    let racers = (0..40).map(|i| {
        let users = users.clone();
        async move { users.create(new_user(&format!("r{i}@example.com"), "Racer")).await.is_ok() }
    });
    assert_eq!(join_all(racers).await.into_iter().filter(|ok| *ok).count(), 1);

    assert_eq!(users.delete(&created.id).await.expect("delete"), Some(Vec::new()));
    assert_eq!(users.delete(&created.id).await.expect("delete twice"), None);
    assert!(users.by_id(&created.id).await.expect("by id").is_none());
}

async fn session_store_contract(db: Database) {
    let users = SqlUsers::new(db.clone());
    let sessions = SqlSessions::new(db.clone());
    let user = users.create(new_user("s@example.com", "Sess")).await.expect("user");
    let session = sessions.open(&user.id, "hash-1", 60_000).await.expect("open").expect("user exists");
    assert!(sessions.is_active(&session).await.expect("active"));

    assert_eq!(
        sessions.rotate("hash-1", "hash-2").await.expect("rotate"),
        Rotation::Rotated { user_id: user.id.clone(), session_id: session.clone() }
    );
    assert_eq!(sessions.rotate("hash-unknown", "x").await.expect("rotate"), Rotation::Invalid);
    // Reuse of hash-1 revokes the family, so hash-2 dies too.
    assert_eq!(
        sessions.rotate("hash-1", "hash-3").await.expect("rotate"),
        Rotation::Reused { user_id: user.id.clone(), session_id: session.clone() }
    );
    assert!(!sessions.is_active(&session).await.expect("active"));
    assert_eq!(sessions.rotate("hash-2", "hash-4").await.expect("rotate"), Rotation::Invalid);

    // Concurrent rotations of one token: one winner.
    let live = sessions.open(&user.id, "race", 60_000).await.expect("open").expect("user exists");
    let racers = (0..30).map(|i| {
        let sessions = sessions.clone();
        async move { sessions.rotate("race", &format!("race-next-{i}")).await.expect("rotate") }
    });
    let outcomes = join_all(racers).await;
    assert_eq!(outcomes.iter().filter(|o| matches!(o, Rotation::Rotated { .. })).count(), 1);
    assert!(!sessions.is_active(&live).await.expect("active"), "the losers' reuse revoked it");

    // Expired sessions do not rotate.
    let _expired = sessions.open(&user.id, "old", -1).await.expect("open").expect("user exists");
    assert_eq!(sessions.rotate("old", "old-2").await.expect("rotate"), Rotation::Invalid);

    let keep = sessions.open(&user.id, "keep", 60_000).await.expect("open").expect("user exists");
    let drop_me = sessions.open(&user.id, "drop", 60_000).await.expect("open").expect("user exists");
    let revoked = sessions.revoke_all(&user.id, Some(&keep)).await.expect("revoke all");
    assert!(revoked.contains(&drop_me) && !revoked.contains(&keep));
    assert!(sessions.is_active(&keep).await.expect("active"));
    sessions.revoke(&keep).await.expect("revoke");
    assert!(!sessions.is_active(&keep).await.expect("active"));

    // Deleting the user removes its sessions.
    let last = sessions.open(&user.id, "last", 60_000).await.expect("open").expect("user exists");
    let ended = users.delete(&user.id).await.expect("delete").expect("the user existed");
    assert_eq!(ended, vec![last.clone()], "the deletion names the sessions it ended");
    assert!(!sessions.is_active(&last).await.expect("active"));
    assert_eq!(sessions.rotate("last", "x").await.expect("rotate"), Rotation::Invalid);
    // A session cannot be opened for an account that no longer exists.
    assert_eq!(sessions.open(&user.id, "after", 60_000).await.expect("open"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_store_on_sqlite() {
    let (db, _dir) = sqlite().await;
    user_store_contract(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_store_on_postgres() {
    user_store_contract(postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_store_on_sqlite() {
    let (db, _dir) = sqlite().await;
    session_store_contract(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_store_on_postgres() {
    session_store_contract(postgres().await).await;
}

async fn plugin_store_contract(db: Database) {
    use weatherwise::plugins::store::{NewVersion, PluginStore, SqlPluginStore};
    use weatherwise::plugins::{Contract, World};
    let store = SqlPluginStore::new(db);
    let version = |sha: &'static str, world: World, contract: Contract| NewVersion {
        sha256: sha,
        world,
        contract,
        label: "1.0",
        note: "note",
        uploaded_by: None,
        component: b"\0asm bytes",
    };
    assert!(store.insert(version("aa", World::MissionGenerator, Contract::V0_1)).await.expect("insert"));
    assert!(
        !store.insert(version("aa", World::MissionGenerator, Contract::V0_1)).await.expect("insert again"),
        "content-addressed"
    );
    assert!(store.insert(version("bb", World::MissionGenerator, Contract::V0_2)).await.expect("insert"));
    assert!(store.insert(version("cc", World::VerificationPolicy, Contract::V0_2)).await.expect("insert"));
    assert_eq!(store.component("aa").await.expect("component").as_deref(), Some(&b"\0asm bytes"[..]));
    let info = store.info("cc").await.expect("info").expect("exists");
    assert_eq!((info.world, info.size_bytes, info.label.as_str()), (World::VerificationPolicy, 10, "1.0"));
    assert_eq!(info.contract, Contract::V0_2, "the contract version is kept with the version");
    assert_eq!(store.info("aa").await.expect("info").expect("exists").contract, Contract::V0_1);
    assert_eq!(store.list().await.expect("list").len(), 3);
    assert!(store.active().await.expect("active").is_empty());

    store.activate(World::MissionGenerator, "aa", None).await.expect("activate");
    store.activate(World::MissionGenerator, "bb", Some("admin")).await.expect("activate");
    store.activate(World::VerificationPolicy, "cc", None).await.expect("activate");
    let mut active = store.active().await.expect("active");
    active.sort_by_key(|(world, _)| world.as_str());
    assert_eq!(
        active,
        vec![(World::MissionGenerator, "bb".to_string()), (World::VerificationPolicy, "cc".to_string())]
    );
    assert_eq!(store.history(World::MissionGenerator, 10).await.expect("history"), ["bb", "aa"]);
    assert!(!store.delete_inactive("bb").await.expect("delete"), "the active version stays");
    assert!(store.delete_inactive("aa").await.expect("delete"));
    assert!(store.info("aa").await.expect("info").is_none());
    assert_eq!(store.history(World::MissionGenerator, 10).await.expect("history"), ["bb"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_store_on_sqlite() {
    let (db, _dir) = sqlite().await;
    plugin_store_contract(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_store_on_postgres() {
    plugin_store_contract(postgres().await).await;
}

async fn record_store_contract(db: Database) {
    use weatherwise::plugins::records::*;
    use weatherwise::plugins::store::{NewVersion, PluginStore, SqlPluginStore};
    use weatherwise::plugins::{Contract, World};
    let versions = SqlPluginStore::new(db.clone());
    for (sha, world) in [("gen", World::MissionGenerator), ("pol", World::VerificationPolicy)] {
        let version = NewVersion {
            sha256: sha,
            world,
            contract: Contract::V0_1,
            label: "1",
            note: "",
            uploaded_by: None,
            component: b"\0asm",
        };
        versions.insert(version).await.expect("insert");
    }
    let store = SqlRecordStore::new(db);

    let record = CallRecord {
        id: uuid::Uuid::now_v7().to_string(),
        world: World::VerificationPolicy,
        sha256: "pol".into(),
        purpose: Purpose::Live,
        seed: u64::MAX - 7,
        input: serde_json::from_value(serde_json::json!({"world": "verification-policy",
            "mission": {"key": "k", "title": "t", "description": "d", "points": 5, "slot": "lunch", "rubric": "r", "outdoor": true},
            "photo": {"handle": 1, "width": 10, "height": 20, "capture_age_seconds": null, "gps_distance_m": 3.5,
                      "brightness": 0.25, "perceptual_hash": "ffffffffffffffff", "reused": false}}))
        .expect("input"),
        exchanges: vec![VisionExchange {
            photo: 1,
            prompt: "p".into(),
            json_schema: "{}".into(),
            answer: Ok("{\"a\":1}".into()),
            tokens: 77,
        }],
        outcome: CallOutcome::Verdict {
            verdict: PolicyVerdict { decision: PolicyDecision::NeedsReview, confidence: 0.25, reason: "r".into() },
        },
        fuel_used: 1234,
        duration_us: 56,
        created_at: 1_700_000_000_000,
    };
    store.insert_call(&record).await.expect("insert call");
    let read = store.call(&record.id).await.expect("read").expect("exists");
    assert_eq!(read.seed, record.seed, "the full 64-bit seed survives");
    assert_eq!(read.outcome, record.outcome);
    assert_eq!(read.exchanges, record.exchanges);
    assert_eq!(
        serde_json::to_value(&read.input).expect("json"),
        serde_json::to_value(&record.input).expect("json")
    );
    assert!(store.call("no-such-call").await.expect("read").is_none());

    let scorecard = |passed| Scorecard {
        contract: Contract::V0_2,
        corpus: "c1".into(),
        passed,
        total: 6,
        pass_rate: f64::from(passed) / 6.0,
        fuel_peak: 10,
        time_peak_us: 20,
        memory_peak_bytes: 30,
        size_bytes: 40,
        failures: vec!["case: why".into()],
        created_at: 1,
    };
    store.put_scorecard("gen", &scorecard(5)).await.expect("put");
    store.put_scorecard("gen", &scorecard(6)).await.expect("replace");
    let read = store.scorecard("gen").await.expect("read").expect("exists");
    assert_eq!((read.passed, read.total, read.pass_rate), (6, 6, 1.0));
    assert_eq!(read.failures, ["case: why"]);
    assert_eq!(read.contract, Contract::V0_2);

    assert_eq!(store.shadow(World::VerificationPolicy).await.expect("shadow"), None);
    store.set_shadow(World::VerificationPolicy, Some("pol"), Some("admin")).await.expect("set");
    assert_eq!(store.shadow(World::VerificationPolicy).await.expect("shadow").as_deref(), Some("pol"));
    for (i, agree) in [true, false, true, true].into_iter().enumerate() {
        let verdict = ShadowVerdict {
            id: uuid::Uuid::now_v7().to_string(),
            call_id: format!("call-{i}"),
            candidate: "pol".into(),
            active: "other".into(),
            active_decision: PolicyDecision::Approved,
            candidate_decision: if agree { Some(PolicyDecision::Approved) } else { None },
            candidate_error: if agree { None } else { Some("trap".into()) },
            agree,
            created_at: i as i64,
        };
        store.insert_shadow_verdict(&verdict).await.expect("insert verdict");
    }
    let report = store.shadow_report("pol", 10).await.expect("report");
    assert_eq!((report.compared, report.agreed, report.agreement_rate), (4, 3, Some(0.75)));
    assert_eq!(report.disagreements.len(), 1);
    assert_eq!(report.disagreements[0].call_id, "call-1");
    assert_eq!(report.disagreements[0].candidate_error.as_deref(), Some("trap"));
    assert_eq!(store.shadow_report("nobody", 10).await.expect("report").agreement_rate, None);
    store.set_shadow(World::VerificationPolicy, None, None).await.expect("clear");
    assert_eq!(store.shadow(World::VerificationPolicy).await.expect("shadow"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_store_on_sqlite() {
    let (db, _dir) = sqlite().await;
    record_store_contract(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_store_on_postgres() {
    record_store_contract(postgres().await).await;
}

// ---- shared state --------------------------------------------------------------------------

/// Runs `work` `n` times at once: each future is driven on an OS thread of its own (through the
/// test's multi-thread runtime), and a barrier releases all of them together, so the store sees
/// truly simultaneous calls rather than one task polling them in turn.
async fn all_at_once<T, Fut>(n: usize, work: impl Fn() -> Fut) -> Vec<T>
where
    T: Send + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let runtime = tokio::runtime::Handle::current();
    let barrier = Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (runtime, barrier, work) = (runtime.clone(), barrier.clone(), work());
            std::thread::spawn(move || {
                barrier.wait();
                runtime.block_on(work)
            })
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        threads.into_iter().map(|thread| thread.join().expect("a racing thread panicked")).collect()
    })
    .await
    .expect("joining the racing threads")
}

async fn state_contract(state: Arc<dyn StateStore>) {
    state.ping().await.expect("ping");
    state.put("k1", "v1", Duration::from_secs(30)).await.expect("put");
    state.put("short", "v", Duration::from_millis(150)).await.expect("put");
    assert_eq!(
        state.get_many(&["k1", "absent", "short"]).await.expect("get"),
        vec![Some("v1".into()), None, Some("v".into())]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(state.get_many(&["short"]).await.expect("get"), vec![None], "expired");

    // put_if_absent: never overwrites a live value; of simultaneous callers exactly one sets it;
    // an expired value counts as absent.
    state.put("newer", "ended", Duration::from_secs(30)).await.expect("put");
    assert!(!state.put_if_absent("newer", "live", Duration::from_secs(30)).await.expect("nx"));
    assert_eq!(state.get_many(&["newer"]).await.expect("get"), vec![Some("ended".into())]);
    let set = all_at_once(50, || {
        let state = state.clone();
        async move { state.put_if_absent("fresh", "v", Duration::from_millis(150)).await.expect("nx") }
    })
    .await;
    assert_eq!(set.iter().filter(|set| **set).count(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(state.put_if_absent("fresh", "again", Duration::from_secs(30)).await.expect("nx"));
    assert_eq!(state.get_many(&["fresh"]).await.expect("get"), vec![Some("again".into())]);

    // take: exactly one of many simultaneous callers gets the value.
    state.put("once", "token", Duration::from_secs(30)).await.expect("put");
    let taken: Vec<_> = all_at_once(50, || {
        let state = state.clone();
        async move { state.take("once").await.expect("take") }
    })
    .await
    .into_iter()
    .flatten()
    .collect();
    assert_eq!(taken, vec!["token".to_string()]);

    // hit: counts exactly under concurrency and reports the window.
    let windows = all_at_once(200, || {
        let state = state.clone();
        async move { state.hit("window", Duration::from_secs(30)).await.expect("hit") }
    })
    .await;
    let counts: HashSet<u64> = windows.into_iter().map(|w| w.count).collect();
    assert_eq!(counts, (1..=200).collect::<HashSet<u64>>(), "every hit counted once");
    let window = state.hit("window", Duration::from_secs(30)).await.expect("hit");
    assert_eq!(window.count, 201);
    assert!(window.resets_in <= Duration::from_secs(30) && window.resets_in > Duration::from_secs(20));

    // A window closes and starts over.
    state.hit("brief", Duration::from_millis(150)).await.expect("hit");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(state.hit("brief", Duration::from_millis(150)).await.expect("hit").count, 1);

    // delete
    state.put("gone", "v", Duration::from_secs(30)).await.expect("put");
    state.delete("gone").await.expect("delete");
    state.delete("never-there").await.expect("delete of an absent key");
    assert_eq!(state.get_many(&["gone"]).await.expect("get"), vec![None]);

    // extend_if: only the holder's value is extended; an expired lease is not revived.
    state.put("lease", "me", Duration::from_millis(200)).await.expect("put");
    assert!(!state.extend_if("lease", "other", Duration::from_secs(30)).await.expect("extend"));
    assert!(state.extend_if("lease", "me", Duration::from_secs(30)).await.expect("extend"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(state.get_many(&["lease"]).await.expect("get"), vec![Some("me".into())], "extended");
    state.put("lapsed", "me", Duration::from_millis(100)).await.expect("put");
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(!state.extend_if("lapsed", "me", Duration::from_secs(30)).await.expect("extend"));

    // push_capped / list: oldest first, only the last `keep`, concurrent pushes all counted.
    assert!(state.list("recent").await.expect("list").is_empty());
    for n in 0..5 {
        state.push_capped("recent", &format!("m{n}"), 3, Duration::from_secs(30)).await.expect("push");
    }
    assert_eq!(state.list("recent").await.expect("list"), vec!["m2", "m3", "m4"]);
    assert!(state.push_capped("recent", "two\nlines", 3, Duration::from_secs(30)).await.is_err());
    all_at_once(100, || {
        let state = state.clone();
        async move { state.push_capped("busy", "x", 1000, Duration::from_secs(30)).await.expect("push") }
    })
    .await;
    assert_eq!(state.list("busy").await.expect("list").len(), 100);
    state.push_capped("brief-list", "x", 3, Duration::from_millis(150)).await.expect("push");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(state.list("brief-list").await.expect("list").is_empty(), "expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_in_memory() {
    state_contract(Arc::new(MemoryState::new())).await;
}

/// The in-memory store's bounds (Redis is bounded by its own `maxmemory`): it never holds more
/// than its entries or bytes, and drops expired entries first, then the least recently used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_in_memory_stays_within_its_bounds() {
    let limits = MemoryLimits { max_entries: 100, max_bytes: 1 << 20 };
    let state = MemoryState::with_limits(limits);
    let long = Duration::from_secs(60);
    let get = |keys: Vec<String>| {
        let state = &state;
        async move { get_from(state, &keys).await }
    };

    // A flood keeps the most recently used entries: the touched one and the newest.
    state.put("touched", "t", long).await.expect("put");
    let flood: Vec<String> = (0..300).map(|i| format!("flood:{i}")).collect();
    for (i, key) in flood.iter().enumerate() {
        state.put(key, "v", long).await.expect("put within the bounds");
        if i % 20 == 0 {
            assert_eq!(get(vec!["touched".into()]).await.len(), 1, "a used entry stays");
        }
    }
    let kept = get(flood.clone()).await;
    assert_eq!(kept.len(), 99, "the cap, less the touched entry: {}", kept.len());
    assert_eq!(kept, flood[201..].to_vec(), "the newest entries stay, the oldest went");
    assert_eq!(get(vec!["touched".into()]).await.len(), 1);

    // Expired entries go before live ones, however recently used.
    for i in 0..60 {
        state.put(&format!("short-lived:{i}"), "v", Duration::from_millis(100)).await.expect("put");
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    let survivors = get(flood[201..].to_vec()).await;
    for i in 0..50 {
        state.put(&format!("late:{i}"), "v", long).await.expect("put");
    }
    let late: Vec<String> = (0..50).map(|i| format!("late:{i}")).collect();
    assert_eq!(get(late).await.len(), 50);
    assert_eq!(get(flood[201..].to_vec()).await, survivors, "the expired entries made the room");

    // Hits count on a full store.
    for _ in 0..5 {
        state.hit("window", long).await.expect("hit");
    }
    assert_eq!(state.hit("window", long).await.expect("hit").count, 6, "a used window stays");

    // Bytes bound too: large values push out older ones, and one beyond the bound is refused.
    let small = MemoryState::with_limits(MemoryLimits { max_entries: 1000, max_bytes: 64 * 1024 });
    let big = "x".repeat(10 * 1024);
    for i in 0..20 {
        small.put(&format!("big:{i}"), &big, long).await.expect("put");
    }
    let bigs: Vec<String> = (0..20).map(|i| format!("big:{i}")).collect();
    let held = get_from(&small, &bigs).await;
    assert!(held.len() <= 6 && held.contains(&"big:19".to_string()), "{held:?}");
    assert!(small.put("huge", &"x".repeat(65 * 1024), long).await.is_err(), "a value beyond the bound");
}

/// The keys of `keys` the store holds.
async fn get_from(state: &MemoryState, keys: &[String]) -> Vec<String> {
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let values = state.get_many(&refs).await.expect("get");
    keys.iter().zip(values).filter(|(_, value)| value.is_some()).map(|(key, _)| key.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_on_redis() {
    let prefix = format!("wwtest:{}:", uuid::Uuid::new_v4().simple());
    let redis = RedisState::connect(&redis_url(), &prefix).await.expect("Redis must be running");
    state_contract(Arc::new(redis)).await;
}

// ---- event bus -----------------------------------------------------------------------------

async fn collect(
    subscription: &mut weatherwise::bus::Subscription,
    expected: usize,
    into: &mut Vec<weatherwise::bus::Message>,
) {
    while into.len() < expected {
        match tokio::time::timeout(Duration::from_secs(20), subscription.next()).await {
            Ok(Some(message)) => into.push(message),
            _ => break,
        }
    }
}

async fn bus_contract(bus: Arc<dyn EventBus>) {
    bus.ping().await.expect("ping");
    // Two groups each get everything; two members of one group share the stream.
    let mut audit = bus.subscribe("contract", "audit").await.expect("subscribe");
    let mut worker_a = bus.subscribe("contract", "workers").await.expect("subscribe");
    let mut worker_b = bus.subscribe("contract", "workers").await.expect("subscribe");
    // Let a rebalance caused by the second member settle before publishing.
    tokio::time::sleep(Duration::from_secs(1)).await;

    const COUNT: usize = 1000;
    for i in 0..COUNT {
        let key = format!("key-{}", i % 10);
        bus.publish("contract", &key, format!("{i}").as_bytes()).await.expect("publish");
    }

    let mut seen_by_audit = Vec::new();
    collect(&mut audit, COUNT, &mut seen_by_audit).await;
    assert_eq!(seen_by_audit.len(), COUNT, "the audit group got every message");
    assert!(seen_by_audit.iter().all(|m| m.topic == "contract"));
    // Per key, publication order holds.
    for key in 0..10 {
        let order: Vec<usize> = seen_by_audit
            .iter()
            .filter(|m| m.key == format!("key-{key}"))
            .map(|m| String::from_utf8_lossy(&m.payload).parse().expect("number"))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "order for key-{key}");
    }

    // Then one marker per key. Per key order holds, so a message handed out twice (say, after a
    // rebalance) shows up before its key's marker; reading ends once every marker is in.
    const KEYS: usize = 10;
    for key in 0..KEYS {
        bus.publish("contract", &format!("key-{key}"), b"marker").await.expect("publish");
    }
    let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
    let mut markers = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while markers < KEYS || from_a.len() + from_b.len() < COUNT {
        let (member, message) = tokio::select! {
            Some(m) = worker_a.next() => (&mut from_a, m),
            Some(m) = worker_b.next() => (&mut from_b, m),
            () = tokio::time::sleep_until(deadline) => break,
        };
        if message.payload == b"marker" {
            markers += 1;
        } else {
            member.push(message);
        }
    }
    assert_eq!(markers, KEYS, "every marker reached the worker group");
    let shared: Vec<_> = from_a.iter().chain(&from_b).collect();
    let distinct: HashSet<&[u8]> = shared.iter().map(|m| m.payload.as_slice()).collect();
    assert_eq!(distinct.len(), COUNT, "the worker group got every message");
    assert_eq!(shared.len(), COUNT, "and each exactly once");
    // The group shares the load: the keys spread over the partitions, each member holds some.
    assert!(
        !from_a.is_empty() && !from_b.is_empty(),
        "both members of the group got messages: {} and {}",
        from_a.len(),
        from_b.len()
    );
    for (member, messages) in [("a", &from_a), ("b", &from_b)] {
        for key in 0..KEYS {
            let order: Vec<usize> = messages
                .iter()
                .filter(|m| m.key == format!("key-{key}"))
                .map(|m| String::from_utf8_lossy(&m.payload).parse().expect("number"))
                .collect();
            assert!(order.windows(2).all(|w| w[0] < w[1]), "order for key-{key} at member {member}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bus_in_process() {
    bus_contract(Arc::new(InProcessBus::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bus_on_kafka() {
    let prefix = format!("wwtest.{}.", uuid::Uuid::new_v4().simple());
    let bus = KafkaBus::connect(&kafka_brokers(), &prefix, 3, &["contract"])
        .await
        .expect("a Kafka-protocol broker must be running");
    bus_contract(Arc::new(bus)).await;
}
