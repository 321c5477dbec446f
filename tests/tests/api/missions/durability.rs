//! Verification jobs are durable: a server process killed with SIGKILL mid-verification
//! finishes the job after a restart; a job delivered twice credits once; several workers on
//! several instances process each job once.

use super::support::{COFFEE, any_mission, configure, decided, distinct_photo, get, submitted};
use std::time::Duration;
use weatherwise::db::Database;
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::{Deployment, Mode, TestApp, both_modes};

both_modes!(
    missions_a_verification_survives_a_killed_server,
    missions_a_job_delivered_twice_credits_once,
    missions_workers_on_two_instances_take_each_job_once
);

async fn database(deployment: &Deployment) -> Database {
    Database::connect(&deployment.config.database_url(), 2).await.expect("database")
}

async fn count(db: &Database, sql: &str, id: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(db.pool())
        .await
        .expect("count")
}

/// The server runs as a process of its own and is killed with SIGKILL while the model is being
/// asked: its workers, bus consumers and pools die with it, as in a crash. A new process of the
/// same deployment (same database, state store, bus and files) takes the job again once its
/// lease runs out, and completes it exactly once.
async fn missions_a_verification_survives_a_killed_server(mode: Mode) {
    let vision = FakeVision::start(Behaviour::Slow(Duration::from_secs(30))).await;
    let mut deployment = Deployment::new(mode).await;
    configure(&mut deployment.config, Some(&vision));
    deployment.config.vision.timeout_ms = 60_000;
    deployment.config.verification.lease_secs = 2;
    let mut doomed = deployment.start_process().await;
    let user = doomed.new_user().await;
    let mission = any_mission(&doomed, &user.access).await;
    let id = submitted(&doomed, &user.access, &mission, COFFEE.to_vec(), "image/png").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while vision.requests().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the job never reached the model");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    doomed.kill().await;
    let db = database(&deployment).await;
    let state = sqlx::query_scalar::<_, String>("select state from verifications where id = $1")
        .bind(&id)
        .fetch_one(db.pool())
        .await
        .expect("state");
    assert!(matches!(state.as_str(), "queued" | "verifying"), "in flight when killed: {state}");
    let job =
        sqlx::query_scalar::<_, String>("select state from verification_jobs where verification_id = $1")
            .bind(&id)
            .fetch_one(db.pool())
            .await
            .expect("job");
    assert_eq!(job, "running", "the killed server held the job");

    // After a restart the job is taken again once its lease runs out, and completes.
    vision.set(Behaviour::grade(true, 0.92));
    let restarted = deployment.start_process().await;
    let verdict = decided(&restarted, &user.access, &id).await;
    assert_eq!(verdict["state"], "approved", "{verdict}");
    let points = get(&restarted, &user.access, "/me/points").await;
    assert!(points["total"].as_i64().unwrap_or_default() > 0);
    assert_eq!(count(&db, "select count(*) from points_ledger where verification_id = $1", &id).await, 1);
    let (job, attempts) = sqlx::query_as::<_, (String, i64)>(
        "select state, attempts from verification_jobs where verification_id = $1",
    )
    .bind(&id)
    .fetch_one(db.pool())
    .await
    .expect("job");
    assert_eq!(
        (job.as_str(), attempts),
        ("done", 2),
        "claimed by the killed server, then once after the restart"
    );
    let decisions = sqlx::query_scalar::<_, i64>(
        "select count(*) from plugin_calls where purpose = 'live' and world = 'verification-policy'",
    )
    .fetch_one(db.pool())
    .await
    .expect("count");
    assert_eq!(decisions, 1, "one completed policy call: the killed one left none");
    assert_eq!(vision.requests().len(), 2, "asked once before the kill and once after the restart");
    db.close().await;
}

async fn missions_a_job_delivered_twice_credits_once(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.95)).await;
    let mut deployment = Deployment::new(mode).await;
    configure(&mut deployment.config, Some(&vision));
    let app = deployment.start().await;
    let user = app.new_user().await;
    let mission = any_mission(&app, &user.access).await;
    let id = submitted(&app, &user.access, &mission, distinct_photo(7), "image/jpeg").await;
    assert_eq!(decided(&app, &user.access, &id).await["state"], "approved");
    let total = get(&app, &user.access, "/me/points").await["total"].clone();

    // The same job handed out again, as a redelivery would.
    let db = database(&deployment).await;
    sqlx::query("update verification_jobs set state = 'queued', run_after = 0, lease_owner = null where verification_id = $1")
        .bind(&id)
        .execute(db.pool())
        .await
        .expect("requeue");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let state =
            sqlx::query_scalar::<_, String>("select state from verification_jobs where verification_id = $1")
                .bind(&id)
                .fetch_one(db.pool())
                .await
                .expect("job");
        if state == "done" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the redelivered job never finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(&db, "select count(*) from points_ledger where verification_id = $1", &id).await, 1);
    assert_eq!(get(&app, &user.access, "/me/points").await["total"], total);
    assert_eq!(vision.requests().len(), 1, "a decided verification is not graded again");
    db.close().await;
}

async fn missions_workers_on_two_instances_take_each_job_once(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.95)).await;
    let mut deployment = Deployment::new(mode).await;
    configure(&mut deployment.config, Some(&vision));
    deployment.config.verification.workers = 3;
    let one = deployment.start().await;
    let two = deployment.start().await;
    let instances: [&TestApp; 2] = [&one, &two];
    let uploads = 40;
    let mut users = Vec::new();
    for n in 0..uploads {
        let app = instances[n % 2];
        let user = app.new_user().await;
        let mission = any_mission(app, &user.access).await;
        users.push((n, user, mission));
    }
    let submissions = users.iter().map(|(n, user, mission)| {
        let app = instances[n % 2];
        async move {
            (
                user.clone(),
                submitted(app, &user.access, mission, distinct_photo(1_000 + *n as u64), "image/jpeg").await,
            )
        }
    });
    let ids = futures::future::join_all(submissions).await;
    for (user, id) in &ids {
        assert_eq!(decided(&one, &user.access, id).await["state"], "approved");
    }
    let db = database(&deployment).await;
    for (_, id) in &ids {
        assert_eq!(count(&db, "select count(*) from points_ledger where verification_id = $1", id).await, 1);
    }
    let live = sqlx::query_scalar::<_, i64>(
        "select count(*) from plugin_calls where purpose = 'live' and world = 'verification-policy'",
    )
    .fetch_one(db.pool())
    .await
    .expect("count");
    assert_eq!(live, uploads as i64, "each job processed once");
    assert_eq!(vision.requests().len(), uploads, "one model request per job");
    db.close().await;
}
