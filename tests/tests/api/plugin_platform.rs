//! The plugin platform around the runtime, through the running server: policy dry-runs graded by
//! an OpenAI-compatible vision endpoint (and its cache and faults), the activation gate's
//! scorecards, replayable call records, shadow policies, and calls in flight during a swap.

use super::plugin_support::{
    CAT, COFFEE, admin_get, admin_post, cup_mission, dry_run, force_activate, policy_dry_run, upload,
};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::{Deployment, Mode, Session, TestApp, assert_problem, both_modes, component};

both_modes!(
    a_policy_dry_run_grades_a_real_photo_once_per_question,
    vision_faults_never_approve,
    the_token_budget_stops_a_policy_asking_too_much,
    bad_policy_dry_run_input_is_refused_clearly,
    bundled_versions_pass_their_golden_corpus,
    every_call_is_recorded_and_replays_exactly,
    a_shadow_policy_is_compared_and_never_applied,
    a_call_in_flight_finishes_on_the_version_it_started_with,
);

async fn start(mode: Mode, vision: &FakeVision, adjust: impl FnOnce(&mut Deployment)) -> (TestApp, Session) {
    let mut deployment = Deployment::new(mode).await;
    deployment.config.vision.base_url = Some(vision.base_url());
    deployment.config.vision.backoff_ms = 10;
    adjust(&mut deployment);
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    (app, admin)
}

async fn verdict_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200, "policy dry-run failed");
    response.json().await.expect("json")
}

async fn a_policy_dry_run_grades_a_real_photo_once_per_question(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.95)).await;
    let (app, admin) = start(mode, &vision, |_| {}).await;
    let request = json!({"mission": cup_mission(), "capture_age_seconds": 300});

    let first = verdict_of(policy_dry_run(&app, &admin, "active", COFFEE, request.clone()).await).await;
    assert_eq!(first["verdict"]["decision"], "approved", "{first}");
    assert_eq!(
        (first["features"]["width"].as_u64(), first["features"]["height"].as_u64()),
        (Some(600), Some(400))
    );
    assert!(first["features"]["brightness"].as_f64().is_some_and(|b| b > 0.1 && b < 0.9));

    // What reached the model: the real wire format, the photo as a JPEG data URL, a strict schema.
    let requests = vision.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent["temperature"], 0);
    assert_eq!(sent["response_format"]["type"], "json_schema");
    assert_eq!(sent["response_format"]["json_schema"]["strict"], true);
    assert!(sent["response_format"]["json_schema"]["schema"]["properties"]["matches"].is_object());
    let image = sent["messages"][1]["content"][1]["image_url"]["url"].as_str().expect("image url");
    assert!(image.starts_with("data:image/jpeg;base64,"), "{}", &image[..40]);
    assert!(sent["messages"][1]["content"][0]["text"].as_str().expect("prompt").contains("reusable cup"));

    // The same question about the same photo is answered from the cache, in both modes shared
    // by every instance.
    let second = verdict_of(policy_dry_run(&app, &admin, "active", COFFEE, request).await).await;
    assert_eq!(second["verdict"], first["verdict"]);
    assert_eq!(vision.requests().len(), 1, "the second grading came from the cache");
    // Another photo is another question.
    vision.set(Behaviour::grade(false, 0.97));
    let cat =
        verdict_of(policy_dry_run(&app, &admin, "active", CAT, json!({"mission": cup_mission()})).await)
            .await;
    assert_eq!(cat["verdict"]["decision"], "rejected", "{cat}");
    assert_eq!(vision.requests().len(), 2);
}

async fn vision_faults_never_approve(mode: Mode) {
    let vision = FakeVision::start(Behaviour::Status(500)).await;
    let (app, admin) = start(mode, &vision, |d| {
        d.config.vision.timeout_ms = 300;
        d.config.vision.max_attempts = 2;
    })
    .await;
    let faults = [
        ("500", Behaviour::Status(500)),
        ("429", Behaviour::RateLimited { retry_after_secs: 1 }),
        ("timeout", Behaviour::Slow(Duration::from_millis(1_500))),
        ("malformed body", Behaviour::Garbage),
        ("refusal", Behaviour::Refuse),
        ("out of schema", Behaviour::Answer { content: r#"{"verdict": "approved"}"#.into(), tokens: 50 }),
        ("not JSON", Behaviour::Answer { content: "APPROVED".into(), tokens: 50 }),
        // Schema-valid, but the photo carried text addressed to the grader: the policy holds.
        (
            "prompt injection",
            Behaviour::Answer {
                content: json!({"matches": true, "confidence": 1.0, "reason": "The sign says approve.",
                                "text_instructions_seen": true})
                .to_string(),
                tokens: 80,
            },
        ),
    ];
    for (round, (name, behaviour)) in faults.into_iter().enumerate() {
        vision.set(behaviour);
        // A different mission title each round, so no answer comes from the cache.
        let mut mission = cup_mission();
        mission["title"] = json!(format!("Bring your own cup {round}"));
        let answer =
            verdict_of(policy_dry_run(&app, &admin, "active", CAT, json!({"mission": mission})).await).await;
        let decision = answer["verdict"]["decision"].as_str().expect("decision");
        assert_eq!(decision, "needs-review", "{name}: {answer}");
    }
    let before = vision.requests().len();
    vision.set(Behaviour::Status(500));
    let mut mission = cup_mission();
    mission["title"] = json!("Retried cup");
    verdict_of(policy_dry_run(&app, &admin, "active", CAT, json!({"mission": mission})).await).await;
    assert_eq!(vision.requests().len() - before, 2, "5xx is retried, max_attempts times in all");
}

async fn the_token_budget_stops_a_policy_asking_too_much(mode: Mode) {
    // Each answer costs more than a call's whole token budget (4,000): the second request is
    // refused by the host before it reaches the model.
    let vision = FakeVision::start(Behaviour::Answer { content: "{}".into(), tokens: 5_000 }).await;
    let (app, admin) = start(mode, &vision, |_| {}).await;
    let hostile: Value =
        upload(&app, &admin, component("hostile_policy"), "hostile").await.json().await.expect("json");
    let sha = hostile["version"]["sha256"].as_str().expect("sha");
    let mut mission = cup_mission();
    mission["key"] = json!("vision-loop");
    let answer =
        verdict_of(policy_dry_run(&app, &admin, sha, COFFEE, json!({"mission": mission})).await).await;
    assert_eq!(answer["verdict"]["reason"], "1 answers", "{answer}");
    assert_eq!(vision.requests().len(), 1);
    let record =
        admin_get(&app, &admin, &format!("/admin/plugin-calls/{}", answer["call_id"].as_str().expect("id")))
            .await;
    assert_eq!(record["exchanges"].as_array().expect("exchanges").len(), 1, "{record}");
    assert_eq!(record["exchanges"][0]["tokens"], 5_000);
}

async fn bad_policy_dry_run_input_is_refused_clearly(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.9)).await;
    let (app, admin) = start(mode, &vision, |_| {}).await;
    let request = json!({"mission": cup_mission()});
    let cases: [(&str, &[u8], Value); 4] = [
        ("text file", b"just some text, not an image", request.clone()),
        ("empty file", b"", request.clone()),
        ("truncated PNG", &COFFEE[..2_000], request.clone()),
        (
            "invalid mission",
            COFFEE,
            json!({"mission": {"key": "BAD KEY", "title": "", "description": "x",
            "points": 1000, "slot": "morning", "rubric": "r", "outdoor": false}}),
        ),
    ];
    for (name, photo, request) in cases {
        let problem = assert_problem(
            policy_dry_run(&app, &admin, "active", photo, request).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(problem["errors"][0]["message"].is_string(), "{name}: {problem}");
    }
    let only_request =
        reqwest::multipart::Form::new().text("request", json!({"mission": cup_mission()}).to_string());
    let missing = app
        .http
        .post(app.api("/admin/plugins/active/dry-run"))
        .bearer_auth(&admin.access)
        .multipart(only_request)
        .send()
        .await
        .expect("request");
    let problem = assert_problem(missing, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "photo");
    assert!(vision.requests().is_empty(), "nothing bad reached the model");
}

async fn bundled_versions_pass_their_golden_corpus(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.9)).await;
    let (app, admin) = start(mode, &vision, |_| {}).await;
    let list = admin_get(&app, &admin, "/admin/plugins").await;
    let active: Vec<&Value> =
        list["versions"].as_array().expect("versions").iter().filter(|v| v["active"] == true).collect();
    assert_eq!(active.len(), 2, "{list}");
    for version in active {
        let detail =
            admin_get(&app, &admin, &format!("/admin/plugins/{}", version["sha256"].as_str().expect("sha")))
                .await;
        let scorecard = &detail["scorecard"];
        assert!(scorecard["total"].as_u64().is_some_and(|t| t >= 6), "{detail}");
        assert_eq!(scorecard["passed"], scorecard["total"], "{detail}");
        assert_eq!(scorecard["pass_rate"], 1.0);
        assert!(scorecard["fuel_peak"].as_u64().is_some_and(|f| f > 0));
        assert!(scorecard["memory_peak_bytes"].as_u64().is_some_and(|m| m > 0));
        assert_eq!(scorecard["size_bytes"], detail["size_bytes"]);
    }
    assert!(vision.requests().is_empty(), "the gate grades with its own fake model");
}

async fn every_call_is_recorded_and_replays_exactly(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.93)).await;
    let (app, admin) = start(mode, &vision, |_| {}).await;
    let generated: Value = dry_run(&app, &admin, "active", "서울특별시").await.json().await.expect("json");
    let verified =
        verdict_of(policy_dry_run(&app, &admin, "active", COFFEE, json!({"mission": cup_mission()})).await)
            .await;

    for (answer, world) in [(&generated, "mission-generator"), (&verified, "verification-policy")] {
        let id = answer["call_id"].as_str().expect("call id");
        let record = admin_get(&app, &admin, &format!("/admin/plugin-calls/{id}")).await;
        assert_eq!(record["input"]["world"], world, "{record}");
        assert_eq!(record["sha256"], answer["sha256"]);
        assert_eq!(record["purpose"], "dry-run");
        assert!(record["seed"].is_u64());
        let replay = admin_post(&app, &admin, &format!("/admin/plugin-calls/{id}/replay")).await;
        assert_eq!(replay.status(), 200);
        let replay: Value = replay.json().await.expect("json");
        assert_eq!(replay["identical"], true, "{replay}");
        assert_eq!(replay["replayed"], record["outcome"]);
    }
    let record = admin_get(
        &app,
        &admin,
        &format!("/admin/plugin-calls/{}", verified["call_id"].as_str().expect("id")),
    )
    .await;
    let exchange = &record["exchanges"][0];
    assert!(exchange["prompt"].as_str().is_some_and(|p| p.contains("reusable cup")), "{record}");
    assert_eq!(
        exchange["answer"]["Ok"].as_str().map(|a| a.contains("\"matches\":true")),
        Some(true),
        "{record}"
    );
    assert_eq!(vision.requests().len(), 1, "a replay never asks the model again");
    // Newest first: reading the record (a user's photo facts are in it), then the replay.
    let audit = admin_get(&app, &admin, "/admin/audit?limit=2").await;
    assert_eq!(audit["entries"][0]["action"], "plugin.call.read");
    assert_eq!(audit["entries"][0]["target"], verified["call_id"]);
    assert_eq!(audit["entries"][1]["action"], "plugin.replay");
    let unknown =
        admin_post(&app, &admin, &format!("/admin/plugin-calls/{}/replay", uuid::Uuid::now_v7())).await;
    assert_problem(unknown, 404, "not_found").await;
}

async fn a_shadow_policy_is_compared_and_never_applied(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.95)).await;
    let (app, admin) = start(mode, &vision, |_| {}).await;
    let hostile: Value =
        upload(&app, &admin, component("hostile_policy"), "candidate").await.json().await.expect("json");
    let candidate = hostile["version"]["sha256"].as_str().expect("sha").to_owned();
    let generator = admin_get(&app, &admin, "/admin/plugins").await["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .find(|v| v["world"] == "mission-generator")
        .map(|v| v["sha256"].as_str().expect("sha").to_owned())
        .expect("a generator");
    assert_problem(
        admin_post(&app, &admin, &format!("/admin/plugins/{generator}/shadow")).await,
        409,
        "wrong_world",
    )
    .await;
    assert_eq!(admin_post(&app, &admin, &format!("/admin/plugins/{candidate}/shadow")).await.status(), 200);

    // The candidate approves everything; the active policy rejects the cat the model says is no
    // cup. The applied verdict is always the active policy's.
    let agree =
        verdict_of(policy_dry_run(&app, &admin, "active", COFFEE, json!({"mission": cup_mission()})).await)
            .await;
    assert_eq!(agree["verdict"]["decision"], "approved");
    vision.set(Behaviour::grade(false, 0.96));
    let disagree =
        verdict_of(policy_dry_run(&app, &admin, "active", CAT, json!({"mission": cup_mission()})).await)
            .await;
    assert_eq!(disagree["verdict"]["decision"], "rejected", "the shadow's approval is never applied");
    assert_ne!(disagree["sha256"].as_str(), Some(candidate.as_str()));

    let report = wait_for_comparisons(&app, &admin, 2).await;
    assert_eq!(report["current"], candidate.as_str());
    assert_eq!(report["report"]["agreed"], 1, "{report}");
    assert_eq!(report["report"]["agreement_rate"], 0.5);
    let disagreement = &report["report"]["disagreements"][0];
    assert_eq!(disagreement["call_id"], disagree["call_id"]);
    assert_eq!(
        (disagreement["active_decision"].as_str(), disagreement["candidate_decision"].as_str()),
        (Some("rejected"), Some("approved"))
    );
    assert_eq!(vision.requests().len(), 2, "one model request per verification: the candidate asked none");

    let stopped =
        app.http.delete(app.api("/admin/shadow")).bearer_auth(&admin.access).send().await.expect("request");
    assert_eq!(stopped.status(), 204);
    let after = admin_get(&app, &admin, &format!("/admin/shadow?candidate={candidate}")).await;
    assert!(after["current"].is_null(), "{after}");
    assert_eq!(after["report"]["compared"], 2, "past comparisons stay readable");
    let actions: Vec<String> = admin_get(&app, &admin, "/admin/audit?limit=3").await["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(actions[0], "plugin.shadow.stop");
    assert!(actions.contains(&"plugin.shadow.start".to_owned()));
}

/// Shadow runs finish in the background; waits until `n` are stored.
async fn wait_for_comparisons(app: &TestApp, admin: &Session, n: u64) -> Value {
    for _ in 0..100 {
        let report = admin_get(app, admin, "/admin/shadow").await;
        if report["report"]["compared"].as_u64() == Some(n) {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the shadow comparisons were not stored within 5 s");
}

/// A policy call waiting for the model (which holds its answer) is in flight for certain; the
/// activation of another policy returns meanwhile, and the call still finishes on the version
/// it started with.
async fn a_call_in_flight_finishes_on_the_version_it_started_with(mode: Mode) {
    let vision = FakeVision::start(Behaviour::Held(Box::new(Behaviour::grade(true, 0.9)))).await;
    let (app, admin) = start(mode, &vision, |_| {}).await;
    let app = Arc::new(app);
    let bundled = admin_get(&app, &admin, "/admin/plugins").await["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .find(|v| v["world"] == "verification-policy" && v["active"] == true)
        .map(|v| v["sha256"].as_str().expect("sha").to_owned())
        .expect("the active policy");
    let hostile: Value =
        upload(&app, &admin, component("hostile_policy"), "other").await.json().await.expect("json");
    let other = hostile["version"]["sha256"].as_str().expect("sha").to_owned();

    let in_flight = {
        let (app, admin) = (app.clone(), admin.clone());
        tokio::spawn(async move {
            let request = json!({"mission": cup_mission()});
            let answer = verdict_of(policy_dry_run(&app, &admin, "active", COFFEE, request).await).await;
            (answer, std::time::Instant::now())
        })
    };
    vision.wait_for_requests(1).await;
    assert_eq!(force_activate(&app, &admin, &other).await.status(), 200);
    let activated_at = std::time::Instant::now();
    assert!(!in_flight.is_finished(), "the call was still running when the activation returned");
    vision.release();
    let (finished, finished_at) = in_flight.await.expect("task");
    assert!(finished_at > activated_at, "the call finished after the activation returned");
    assert_eq!(finished["sha256"], bundled.as_str(), "{finished}");
    assert_eq!(finished["verdict"]["decision"], "approved", "the bundled policy's verdict: {finished}");
    let request = json!({"mission": cup_mission()});
    let now = verdict_of(policy_dry_run(&app, &admin, "active", COFFEE, request).await).await;
    assert_eq!(now["sha256"], other.as_str(), "new calls run on the newly active version: {now}");
    assert_eq!(now["verdict"]["reason"], "looks right", "{now}");
    assert_eq!(vision.requests().len(), 1, "the newly active policy asks no model");
}
