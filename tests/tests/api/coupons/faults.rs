//! Faults in the middle of a claim storm, on two scaled instances: Redis killed and restarted
//! empty (the gate loses its state: claims fail with 503 until it is rebuilt from the
//! database, and nothing is oversold), and an instance killed with SIGKILL (every "issued" it
//! answered before dying has its coupon). Afterwards `weatherwise coupons check|reconcile` and
//! the admin endpoints find and repair a gate that lost its state.

use super::storm::{ELIGIBLE, INELIGIBLE, QUANTITY, judge, storm_claims};
use super::support::{check, open_event, retry_pause, storm_client};
use futures::future::join_all;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use weatherwise_tests::redis_server::PrivateRedis;
use weatherwise_tests::{Deployment, Mode, Session, metric};

/// A claim to its final answer, sent first to API root `apis[first]` and, when an instance
/// stops answering, to the other; 429, 503 and `claim_in_progress` are retried with the same
/// key. Counts the 201s each instance gave in `issued_by`.
async fn claim_with_failover(
    http: reqwest::Client,
    apis: Arc<Vec<String>>,
    first: usize,
    user: Arc<Session>,
    event: String,
    key: String,
    issued_by: Arc<Vec<AtomicUsize>>,
) -> (u16, Value, u32) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    let (mut target, mut retries) = (first, 0);
    loop {
        let sent = http
            .post(format!("{}/coupon-events/{event}/claims", apis[target]))
            .bearer_auth(&user.access)
            .header("Idempotency-Key", &key)
            .timeout(Duration::from_secs(60))
            .send()
            .await;
        let last = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                let retry = status == 429 || status == 503 || body["code"] == "claim_in_progress";
                if !retry {
                    if status == 201 {
                        issued_by[target].fetch_add(1, Ordering::Relaxed);
                    }
                    return (status, body, retries);
                }
                format!("{status} {}", body["code"])
            }
            Err(err) => {
                let failed = format!("instance {target}: {err}");
                target = (target + 1) % apis.len();
                failed
            }
        };
        assert!(tokio::time::Instant::now() < deadline, "a claim never got a final answer; the last: {last}");
        tokio::time::sleep(retry_pause(retries)).await;
        retries += 1;
    }
}

struct Storm {
    deployment: Deployment,
    admin: Session,
    event: String,
    eligible: Vec<Arc<Session>>,
    ineligible: Vec<Arc<Session>>,
}

async fn prepare(deployment: Deployment, app: &weatherwise_tests::TestApp) -> Storm {
    let admin = deployment.admin(app).await;
    let event = open_event(app, &admin, QUANTITY, 1).await;
    let eligible: Vec<Arc<Session>> =
        deployment.stored_users(ELIGIBLE).await.into_iter().map(Arc::new).collect();
    let ineligible: Vec<Arc<Session>> =
        deployment.stored_users(INELIGIBLE).await.into_iter().map(Arc::new).collect();
    let owned: Vec<Session> = eligible.iter().map(|user| (**user).clone()).collect();
    deployment.approve_a_mission_today(&owned).await;
    Storm { deployment, admin, event, eligible, ineligible }
}

/// Sends every claim at once in the background, claim `i` first to instance `i % 2`, each to
/// its final answer; returns them in order.
fn start_storm(
    storm: &Storm,
    claims: &[super::storm::Claim],
    apis: [String; 2],
    issued_by: Arc<Vec<AtomicUsize>>,
) -> tokio::task::JoinHandle<Vec<(u16, Value, u32)>> {
    let (http, apis, event) = (storm_client(), Arc::new(apis.to_vec()), storm.event.clone());
    let claims: Vec<(Arc<Session>, String)> =
        claims.iter().map(|c| (c.user.clone(), c.key.clone())).collect();
    tokio::spawn(async move {
        join_all(claims.into_iter().enumerate().map(|(i, (user, key))| {
            let (http, apis, issued_by, event) =
                (http.clone(), apis.clone(), issued_by.clone(), event.clone());
            tokio::spawn(claim_with_failover(http, apis, i % 2, user, event, key, issued_by))
        }))
        .await
        .into_iter()
        .map(|answer| answer.expect("a claim"))
        .collect()
    })
}

/// Waits until `count` coupons were issued in all, or 60 s passed.
async fn until_issued(issued_by: &[AtomicUsize], count: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while issued_by.iter().map(|n| n.load(Ordering::Relaxed)).sum::<usize>() < count
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_a_redis_restart_mid_storm_oversells_nothing_and_reconcile_restores_agreement() {
    let mut redis = PrivateRedis::start().await;
    let mut deployment = super::storm::storm_deployment(Mode::Scaled).await;
    deployment.config.state.url = weatherwise::config::Secret::new(redis.url());
    let first = deployment.start_process().await;
    let second = deployment.start_process().await;
    let storm = prepare(deployment, &first).await;
    let claims = storm_claims(&storm.eligible, &storm.ineligible);
    let issued_by = Arc::new(vec![AtomicUsize::new(0), AtomicUsize::new(0)]);
    let sending = start_storm(&storm, &claims, [first.api(""), second.api("")], issued_by.clone());
    // A third of the way through, Redis dies and comes back empty.
    until_issued(&issued_by, 30).await;
    redis.kill_and_restart_after(Duration::from_secs(1)).await;
    let answers = sending.await.expect("the storm");

    let coupon_of = judge(&claims, &answers);
    assert_eq!(coupon_of.len(), QUANTITY as usize, "the quantity, no more, to distinct users");
    let checked = check(&first, &storm.admin, &storm.event).await;
    assert_eq!(checked["ok"], true, "{checked}");
    let mut rebuilds = 0.0;
    for app in [&first, &second] {
        rebuilds += metric(&app.metrics().await, "coupon_gate_rebuilds_total", "").unwrap_or(0.0);
    }
    assert!(rebuilds >= 1.0, "the emptied gate was rebuilt from the database");

    // Redis loses everything again, after the storm: the check and the command line see a gate
    // that no longer agrees; reconciling rebuilds it from the database.
    redis.kill_and_restart_after(Duration::from_millis(200)).await;
    let lost = check(&first, &storm.admin, &storm.event).await;
    assert_eq!((lost["ok"].as_bool(), lost["gate_current"].as_bool()), (Some(false), Some(false)), "{lost}");
    let cli = storm.deployment.command(&["coupons", "check", "--event", &storm.event]).await;
    assert!(!cli.status.success(), "the check fails while the gate disagrees");
    let repaired = storm.deployment.command(&["coupons", "reconcile", "--event", &storm.event]).await;
    let report: Value = serde_json::from_slice(&repaired.stdout).expect("the report as JSON");
    assert!(repaired.status.success(), "{report}");
    assert_eq!(
        (report["repaired"].as_bool(), report["after"]["gate_agrees"].as_bool()),
        (Some(true), Some(true))
    );
    let after = check(&second, &storm.admin, &storm.event).await;
    assert_eq!(after["ok"], true, "{after}");
    assert_eq!(after["gate_remaining"], 0, "{after}");
    // Through the API too, with nothing left to repair.
    let again = second
        .post(&storm.admin, &format!("/admin/coupon-events/{}/reconcile", storm.event), &json!({}))
        .await;
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["repaired"], false, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_an_instance_killed_mid_storm_answered_issued_only_for_stored_coupons() {
    let deployment = super::storm::storm_deployment(Mode::Scaled).await;
    let mut victim = deployment.start_process().await;
    let survivor = deployment.start_process().await;
    let storm = prepare(deployment, &survivor).await;
    let claims = storm_claims(&storm.eligible, &storm.ineligible);
    let issued_by = Arc::new(vec![AtomicUsize::new(0), AtomicUsize::new(0)]);
    let sending = start_storm(&storm, &claims, [victim.api(""), survivor.api("")], issued_by.clone());
    // Once the victim has answered "issued" a few times, SIGKILL: claims in flight there die
    // with it and their clients go to the survivor.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while issued_by[0].load(Ordering::Relaxed) < 10 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    victim.kill().await;
    let answers = sending.await.expect("the storm");
    assert!(issued_by[0].load(Ordering::Relaxed) >= 10, "the victim answered issued before it died");

    let coupon_of = judge(&claims, &answers);
    assert!(coupon_of.len() <= QUANTITY as usize);
    // Every coupon answered is stored, and the stored ones are exactly those answered.
    let stored = super::storm::listed_coupons(&survivor, &storm.admin, &storm.event).await;
    let answered: std::collections::HashSet<String> = coupon_of.values().cloned().collect();
    assert_eq!(stored, answered);
    // Claims the victim admitted but never stored were lost with it: the gate under-counts
    // until reconciled, never over; the database is consistent throughout.
    let checked = check(&survivor, &storm.admin, &storm.event).await;
    assert_eq!(checked["database_consistent"], true, "{checked}");
    let reconciled = survivor
        .post(&storm.admin, &format!("/admin/coupon-events/{}/reconcile", storm.event), &json!({}))
        .await;
    let reconciled: Value = reconciled.json().await.expect("json");
    assert_eq!(reconciled["after"]["gate_agrees"], true, "{reconciled}");
}
