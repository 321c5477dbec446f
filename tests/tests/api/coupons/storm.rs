//! A claim storm against the running server: 5,000 claims at once from 2,000 eligible users
//! (second claims with new keys, idempotent retries with the same key) and 100 users who are
//! not eligible, for 100 coupons; in the scaled mode spread over two instances. Exactly 100
//! coupons go to 100 users, every other final answer is the right refusal, a retry gets its
//! first answer, and the gate, the database and the end-of-day check agree.

use super::support::{check, claim_to_the_end, open_event, storm_client};
use futures::future::join_all;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use weatherwise_tests::{Mode, Session, TestApp, both_modes, metric};

pub const QUANTITY: i64 = 100;
pub const ELIGIBLE: usize = 2000;
pub const INELIGIBLE: usize = 100;

/// One claim of the storm: who, with which key.
pub struct Claim {
    pub user: Arc<Session>,
    pub key: String,
    pub eligible: bool,
}

/// 5,000 claims: every eligible user claims twice, half of them retrying the same key and half
/// claiming again with a new one; a thousand claim a third time; each ineligible user twice.
pub fn storm_claims(eligible: &[Arc<Session>], ineligible: &[Arc<Session>]) -> Vec<Claim> {
    let mut claims = Vec::new();
    for (n, user) in eligible.iter().enumerate() {
        let second = if n % 2 == 0 { format!("{n}-a") } else { format!("{n}-b") };
        for key in [format!("{n}-a"), second] {
            claims.push(Claim { user: user.clone(), key, eligible: true });
        }
        if n < 1000 {
            claims.push(Claim { user: user.clone(), key: format!("{n}-c"), eligible: true });
        }
    }
    for (n, user) in ineligible.iter().enumerate() {
        for key in ["x", "y"] {
            claims.push(Claim { user: user.clone(), key: format!("i{n}-{key}"), eligible: false });
        }
    }
    assert_eq!(claims.len(), 5200);
    claims
}

/// A claim's final answer: its status, its body, and how many times it was retried.
type Answer = (u16, Value, u32);

/// The final answers of a storm, by claim, checked against the rules: returns the coupon of
/// each user who got one.
pub fn judge(claims: &[Claim], answers: &[Answer]) -> HashMap<String, String> {
    let mut coupon_of: HashMap<String, String> = HashMap::new();
    let mut by_key: HashMap<(String, String), Vec<&Answer>> = HashMap::new();
    for (claim, answer) in claims.iter().zip(answers) {
        let (status, body, _) = answer;
        let code = body["code"].as_str().unwrap_or_default();
        match (claim.eligible, *status) {
            (true, 201) => {
                let coupon = body["id"].as_str().expect("a coupon id").to_owned();
                assert_eq!(body["user_id"], claim.user.user_id.as_str(), "{body}");
                let earlier = coupon_of.insert(claim.user.user_id.clone(), coupon.clone());
                assert!(earlier.is_none_or(|earlier| earlier == coupon), "two coupons for one user");
            }
            (true, 409) => assert!(code == "sold_out" || code == "already_holds", "{body}"),
            (false, 403) => assert_eq!(code, "not_eligible", "{body}"),
            other => panic!("a wrong answer {other:?}: {body}"),
        }
        by_key.entry((claim.user.user_id.clone(), claim.key.clone())).or_default().push(answer);
    }
    // Same key, same answer once issued: a retry of an issued claim is issued the same coupon.
    for answers in by_key.values() {
        if answers.iter().any(|(status, _, _)| *status == 201) {
            assert!(answers.iter().all(|(status, _, _)| *status == 201), "a retry lost its answer");
            let ids: HashSet<&Value> = answers.iter().map(|(_, body, _)| &body["id"]).collect();
            assert_eq!(ids.len(), 1, "a retry got another coupon");
        }
    }
    coupon_of
}

/// The instances a deployment runs in `mode`: one in the embedded mode, two in the scaled.
pub async fn instances(deployment: &weatherwise_tests::Deployment, mode: Mode) -> Vec<Arc<TestApp>> {
    match mode {
        Mode::Embedded => vec![Arc::new(deployment.start().await)],
        Mode::Scaled => {
            vec![Arc::new(deployment.start_process().await), Arc::new(deployment.start_process().await)]
        }
    }
}

/// Sends every claim at once, claim `i` to instance `i % n`, each to its final answer.
pub async fn storm(instances: &[Arc<TestApp>], event: &str, claims: &[Claim]) -> Vec<(u16, Value, u32)> {
    let http = storm_client();
    join_all(claims.iter().enumerate().map(|(i, claim)| {
        let (http, api) = (http.clone(), instances[i % instances.len()].api(""));
        let (user, key, event) = (claim.user.clone(), claim.key.clone(), event.to_owned());
        tokio::spawn(async move { claim_to_the_end(&http, &api, &user, &event, &key).await })
    }))
    .await
    .into_iter()
    .map(|answer| answer.expect("a claim"))
    .collect()
}

/// The ids of every coupon of `event`, read page by page as an admin.
pub async fn listed_coupons(app: &TestApp, admin: &Session, event: &str) -> HashSet<String> {
    let mut listed = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/admin/coupon-events/{event}/coupons?limit=50&cursor={cursor}"),
            None => format!("/admin/coupon-events/{event}/coupons?limit=50"),
        };
        let page = app.get_json(admin, &path).await;
        for coupon in page["coupons"].as_array().expect("coupons") {
            listed.insert(coupon["id"].as_str().expect("id").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return listed,
        }
    }
}

/// A deployment for storms: every claim of a storm may wait its turn (rather than be turned away
/// and retried, which on the test's two shared cores would cost more than the claims); the
/// turning away itself is tested on its own.
pub async fn storm_deployment(mode: Mode) -> weatherwise_tests::Deployment {
    let mut deployment = weatherwise_tests::Deployment::new(mode).await;
    deployment.config.coupons.claim_queue = 8_000;
    deployment.config.coupons.claim_wait_ms = 60_000;
    deployment
}

async fn a_storm_issues_exactly_the_quantity_to_distinct_users(mode: Mode) {
    let deployment = storm_deployment(mode).await;
    let instances = instances(&deployment, mode).await;
    let admin = deployment.admin(&instances[0]).await;
    let event = open_event(&instances[0], &admin, QUANTITY, 1).await;
    let eligible: Vec<Arc<Session>> =
        deployment.stored_users(ELIGIBLE).await.into_iter().map(Arc::new).collect();
    let ineligible: Vec<Arc<Session>> =
        deployment.stored_users(INELIGIBLE).await.into_iter().map(Arc::new).collect();
    let owned: Vec<Session> = eligible.iter().map(|user| (**user).clone()).collect();
    deployment.approve_a_mission_today(&owned).await;

    let claims = storm_claims(&eligible, &ineligible);
    let answers = storm(&instances, &event, &claims).await;
    let coupon_of = judge(&claims, &answers);
    assert_eq!(coupon_of.len(), QUANTITY as usize, "exactly the quantity, to distinct users");
    let retried: u32 = answers.iter().map(|(_, _, retries)| retries).sum();
    eprintln!("storm: {} claims, {retried} retries after 429/503", claims.len());

    // The database holds exactly those coupons; the gate agrees; the check passes.
    let listed = listed_coupons(&instances[0], &admin, &event).await;
    let answered: HashSet<String> = coupon_of.into_values().collect();
    assert_eq!(listed, answered, "every issued answer has its coupon, and no other coupon exists");
    let checked = check(&instances[0], &admin, &event).await;
    assert_eq!(checked["ok"], true, "{checked}");
    assert_eq!(checked["stored"]["coupons"], QUANTITY, "{checked}");
    assert_eq!(checked["gate_remaining"], 0, "{checked}");
    // Each answer was counted once, by outcome, on the instance that gave it.
    let mut issued = 0.0;
    for instance in &instances {
        issued +=
            metric(&instance.metrics().await, "coupon_claims_total", "outcome=\"issued\"").unwrap_or(0.0);
    }
    assert_eq!(issued, QUANTITY as f64);
}

both_modes!(a_storm_issues_exactly_the_quantity_to_distinct_users);
