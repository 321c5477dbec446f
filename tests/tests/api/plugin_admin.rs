//! The plugin registry through the admin API of the running server: upload, inspect, activate,
//! roll back, delete, dry-run, audit; hot swap under load; instances following activations.

use super::plugin_support::{
    COFFEE, admin_get, admin_post, cup_mission, dry_run, force_activate, policy_dry_run, upload,
};
use futures::future::join_all;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weatherwise::plugins::inspect::MAX_COMPONENT_BYTES;
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::{Deployment, Mode, Session, TestApp, assert_problem, both_modes, component};

both_modes!(
    only_admins_reach_the_registry,
    upload_validates_and_stores_content_addressed,
    activate_rollback_delete_and_audit,
    hot_swap_under_load_fails_no_request,
);

/// Sends an upload larger than the limit over a raw connection and reads the answer while the
/// body is still being written: the server answers 413 without reading it all and may close
/// the connection mid-body, which an HTTP client reports as a send error instead of the answer.
async fn oversized_upload(app: &TestApp, admin: &Session, size: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(app.address).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /api/v1/admin/plugins?label=huge HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/wasm\r\nContent-Length: {size}\r\n\r\n",
        admin.access
    );
    writer.write_all(head.as_bytes()).await.expect("headers");
    let body = tokio::spawn(async move {
        let chunk = vec![0u8; 64 << 10];
        for _ in 0..size.div_ceil(chunk.len()) {
            if writer.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(30), reader.read(&mut buffer))
            .await
            .expect("answer in time")
            .expect("read");
        assert!(read > 0, "connection closed before an answer");
        answer.extend_from_slice(&buffer[..read]);
    }
    body.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|code| code.parse().ok()).expect("status line");
    (status, text)
}

async fn only_admins_reach_the_registry(mode: Mode) {
    let deployment = Deployment::new(mode).await;
    let app = deployment.start().await;
    let anonymous = app.http.get(app.api("/admin/plugins")).send().await.expect("request");
    assert_problem(anonymous, 401, "missing_token").await;
    let user = app.new_user().await;
    let forbidden =
        app.http.get(app.api("/admin/plugins")).bearer_auth(&user.access).send().await.expect("request");
    assert_problem(forbidden, 403, "admin_only").await;
    let admin = deployment.admin(&app).await;
    let list: Value = admin_get(&app, &admin, "/admin/plugins").await;
    let versions = list["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2, "the bundled generator and policy: {list}");
    assert!(
        versions.iter().all(|v| v["active"] == true),
        "both bundled versions are active on a fresh start"
    );
    let worlds: Vec<&str> = versions.iter().filter_map(|v| v["world"].as_str()).collect();
    assert!(worlds.contains(&"mission-generator") && worlds.contains(&"verification-policy"));
}

async fn upload_validates_and_stores_content_addressed(mode: Mode) {
    let deployment = Deployment::new(mode).await;
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let created = upload(&app, &admin, component("hostile_generator"), "hostile-1").await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let sha = created["version"]["sha256"].as_str().expect("sha").to_owned();
    assert_eq!(sha.len(), 64);
    assert_eq!(created["version"]["world"], "mission-generator");
    assert_eq!(created["version"]["label"], "hostile-1");
    assert_eq!(created["version"]["uploaded_by"], admin.user_id.as_str());
    assert!(
        created["report"]["exports"]
            .as_array()
            .expect("exports")
            .iter()
            .any(|e| e.as_str().is_some_and(|e| e.starts_with("weatherwise:plugins/generator")))
    );

    let again = upload(&app, &admin, component("hostile_generator"), "hostile-again").await;
    assert_eq!(again.status(), 200, "same content, same version");
    assert_eq!(again.json::<Value>().await.expect("json")["version"]["sha256"], sha.as_str());

    let command = upload(&app, &admin, component("not-a-plugin"), "cmd").await;
    let problem = assert_problem(command, 422, "validation_failed").await;
    assert!(
        problem["errors"][0]["message"].as_str().is_some_and(|m| m.contains("no known world")),
        "{problem}"
    );
    let corrupt = upload(&app, &admin, b"\0asm garbage".to_vec(), "corrupt").await;
    assert_problem(corrupt, 422, "validation_failed").await;
    let wrong_type = app
        .http
        .post(app.api("/admin/plugins?label=x"))
        .bearer_auth(&admin.access)
        .header("content-type", "text/plain")
        .body(component("generator_default"))
        .send()
        .await
        .expect("request");
    assert_problem(wrong_type, 415, "unsupported_media_type").await;
    let (status, head) = oversized_upload(&app, &admin, MAX_COMPONENT_BYTES + (1 << 20)).await;
    assert_eq!(status, 413, "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: application/problem+json"), "{head}");

    let inspected: Value = admin_get(&app, &admin, &format!("/admin/plugins/{sha}")).await;
    assert_eq!(inspected["active"], false);
    assert_problem(
        app.http
            .get(app.api("/admin/plugins/0000"))
            .bearer_auth(&admin.access)
            .send()
            .await
            .expect("request"),
        404,
        "not_found",
    )
    .await;
}

async fn activate_rollback_delete_and_audit(mode: Mode) {
    let deployment = Deployment::new(mode).await;
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let bundled: Value = dry_run(&app, &admin, "active", "outdoor").await.json().await.expect("json");
    assert_eq!(bundled["missions"].as_array().expect("missions").len(), 3, "{bundled}");

    let hostile: Value =
        upload(&app, &admin, component("hostile_generator"), "hostile").await.json().await.expect("json");
    let sha = hostile["version"]["sha256"].as_str().expect("sha").to_owned();
    // It fails its golden corpus, so it is not activated unless forced, with a reason.
    assert!(hostile["scorecard"]["passed"].as_u64() < hostile["scorecard"]["total"].as_u64(), "{hostile}");
    let refused = admin_post(&app, &admin, &format!("/admin/plugins/{sha}/activate")).await;
    let problem = assert_problem(refused, 409, "corpus_failed").await;
    assert!(!problem["scorecard"]["failures"].as_array().expect("failures").is_empty(), "{problem}");
    let no_reason = admin_post(&app, &admin, &format!("/admin/plugins/{sha}/activate?force=true")).await;
    assert_problem(no_reason, 422, "validation_failed").await;
    assert_eq!(force_activate(&app, &admin, &sha).await.status(), 200);

    // The safety rule holds whatever the generator says: no outdoor mission under the typhoon.
    let swapped: Value = dry_run(&app, &admin, "active", "outdoor").await.json().await.expect("json");
    assert_eq!(swapped["dropped_for_safety"], json!(["outdoor-morning"]), "{swapped}");
    assert_eq!(swapped["missions"].as_array().expect("missions").len(), 2);
    // A failing plugin call is a clear 422 naming the kind.
    let spinning = dry_run(&app, &admin, &sha, "loop").await;
    let problem = assert_problem(spinning, 422, "validation_failed").await;
    assert!(matches!(problem["errors"][0]["field"].as_str(), Some("out_of_fuel" | "timeout")), "{problem}");

    assert_problem(
        app.http
            .delete(app.api(&format!("/admin/plugins/{sha}")))
            .bearer_auth(&admin.access)
            .send()
            .await
            .expect("request"),
        409,
        "version_active",
    )
    .await;
    assert_eq!(admin_post(&app, &admin, "/admin/plugins/mission-generator/rollback").await.status(), 200);
    let back: Value = dry_run(&app, &admin, "active", "outdoor").await.json().await.expect("json");
    assert_eq!(back["missions"].as_array().expect("missions").len(), 3, "the bundled generator is back");
    let deleted = app
        .http
        .delete(app.api(&format!("/admin/plugins/{sha}")))
        .bearer_auth(&admin.access)
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), 204);
    assert_problem(
        admin_post(&app, &admin, "/admin/plugins/verification-policy/rollback").await,
        409,
        "nothing_to_roll_back",
    )
    .await;

    let audit: Value = admin_get(&app, &admin, "/admin/audit?limit=10").await;
    let actions: Vec<&str> =
        audit["entries"].as_array().expect("entries").iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        &actions[..4],
        ["plugin.delete", "plugin.rollback", "plugin.activate.forced", "plugin.upload"],
        "{audit}"
    );
    assert!(audit["entries"][0]["actor"] == admin.user_id.as_str());
    assert!(
        audit["entries"][2]["detail"].as_str().is_some_and(|d| d.contains("reason: sandbox test")),
        "{audit}"
    );
}

/// Generator and policy calls run through the server while 20 activations and rollbacks go
/// by: none fails.
async fn hot_swap_under_load_fails_no_request(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.95)).await;
    let mut deployment = Deployment::new(mode).await;
    deployment.config.vision.base_url = Some(vision.base_url());
    let app = Arc::new(deployment.start().await);
    let admin = deployment.admin(&app).await;
    let hostile: Value =
        upload(&app, &admin, component("hostile_generator"), "hostile").await.json().await.expect("json");
    let generator = hostile["version"]["sha256"].as_str().expect("sha").to_owned();
    let hostile: Value =
        upload(&app, &admin, component("hostile_policy"), "hostile").await.json().await.expect("json");
    let policy = hostile["version"]["sha256"].as_str().expect("sha").to_owned();

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = (0..8).map(|i| {
        let (app, admin, stop) = (app.clone(), admin.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut ok, mut failed) = (0u32, 0u32);
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let response = if i % 2 == 0 {
                    dry_run(&app, &admin, "active", "calm").await
                } else {
                    policy_dry_run(&app, &admin, "active", COFFEE, json!({"mission": cup_mission()})).await
                };
                if response.status() == 200 { ok += 1 } else { failed += 1 }
            }
            (ok, failed)
        })
    });
    let load: Vec<_> = load.collect();
    for round in 0..10 {
        let sha = if round % 2 == 0 { &generator } else { &policy };
        let world = if round % 2 == 0 { "mission-generator" } else { "verification-policy" };
        assert_eq!(force_activate(&app, &admin, sha).await.status(), 200);
        assert_eq!(admin_post(&app, &admin, &format!("/admin/plugins/{world}/rollback")).await.status(), 200);
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (ok, failed) = join_all(load)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .fold((0, 0), |acc, r| (acc.0 + r.0, acc.1 + r.1));
    assert_eq!(failed, 0, "no request failed during 20 swaps ({ok} succeeded)");
    assert!(ok > 0);
}

/// Two instances on one scaled deployment: an activation on one is live on the other within a
/// second (bus announcement), measured from the moment the activation request returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaled_instances_switch_within_a_second() {
    let deployment = Deployment::new(Mode::Scaled).await;
    let first = deployment.start().await;
    let second = deployment.start().await;
    let admin = deployment.admin(&first).await;
    let hostile: Value =
        upload(&first, &admin, component("hostile_generator"), "hostile").await.json().await.expect("json");
    let sha = hostile["version"]["sha256"].as_str().expect("sha").to_owned();
    for round in 0..3 {
        assert_eq!(force_activate(&first, &admin, &sha).await.status(), 200);
        let switched = Instant::now();
        loop {
            let answer: Value =
                dry_run(&second, &admin, "active", "outdoor").await.json().await.expect("json");
            if answer["dropped_for_safety"] == json!(["outdoor-morning"]) {
                break;
            }
            assert!(
                switched.elapsed() < Duration::from_secs(1),
                "round {round}: the second instance did not switch within 1 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!("round {round}: second instance switched after {:?}", switched.elapsed());
        assert_eq!(
            admin_post(&first, &admin, "/admin/plugins/mission-generator/rollback").await.status(),
            200
        );
        let rolled = Instant::now();
        loop {
            let answer: Value =
                dry_run(&second, &admin, "active", "outdoor").await.json().await.expect("json");
            if answer["missions"].as_array().is_some_and(|m| m.len() == 3) {
                break;
            }
            assert!(rolled.elapsed() < Duration::from_secs(1), "round {round}: rollback not seen within 1 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
