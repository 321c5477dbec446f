//! Versioned plugin contracts through the admin API of the running server: every version
//! records the contract it implements (`0.1.0` or `0.2.0`); versions of both contracts are
//! uploaded, activated, rolled back and shadowed across versions, each running with its own
//! bindings (a 0.2.0 component writes in the language asked, a 0.1.0 one as it always did).

use super::plugin_support::{COFFEE, admin_get, admin_post, cup_mission, day, policy_dry_run, upload};
use serde_json::{Value, json};
use std::time::Duration;
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::{Deployment, Mode, Session, TestApp, both_modes, component};

both_modes!(
    every_version_records_its_contract,
    generators_of_both_contracts_swap_and_roll_back,
    policies_of_both_contracts_shadow_each_other,
);

fn has_hangul(text: &str) -> bool {
    text.chars().any(|c| ('\u{ac00}'..='\u{d7a3}').contains(&c))
}

/// The sha256 of the active version of `world`.
async fn active(app: &TestApp, admin: &Session, world: &str) -> String {
    admin_get(app, admin, "/admin/plugins").await["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .find(|v| v["world"] == world && v["active"] == true)
        .map(|v| v["sha256"].as_str().expect("sha").to_owned())
        .unwrap_or_else(|| panic!("no active {world}"))
}

/// Uploads a component and returns the answer (asserting 201).
async fn uploaded(app: &TestApp, admin: &Session, name: &str) -> Value {
    let response = upload(app, admin, component(name), name).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 201, "{body}");
    body
}

/// A generator dry-run of the plugin tests' day for a user reading `language` (`None`: the
/// default).
async fn generated(app: &TestApp, admin: &Session, id: &str, language: Option<&str>) -> Value {
    let mut user = json!({"region": "서울특별시", "local_date": "2026-11-23"});
    if let Some(language) = language {
        user["language"] = json!(language);
    }
    let response = app
        .http
        .post(app.api(&format!("/admin/plugins/{id}/dry-run")))
        .bearer_auth(&admin.access)
        .json(&json!({"weather": day(), "user": user}))
        .send()
        .await
        .expect("request");
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    body
}

/// Whether every mission title of a dry-run answer is Korean (`true`) or none is (`false`).
fn korean_titles(answer: &Value) -> bool {
    let titles: Vec<&str> =
        answer["missions"].as_array().expect("missions").iter().filter_map(|m| m["title"].as_str()).collect();
    assert!(!titles.is_empty(), "{answer}");
    let korean = titles.iter().filter(|title| has_hangul(title)).count();
    assert!(korean == 0 || korean == titles.len(), "one language per answer: {titles:?}");
    korean == titles.len()
}

async fn every_version_records_its_contract(mode: Mode) {
    let deployment = Deployment::new(mode).await;
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let list = admin_get(&app, &admin, "/admin/plugins").await;
    let bundled = list["versions"].as_array().expect("versions");
    assert!(bundled.iter().all(|v| v["contract"] == "0.2.0"), "the bundled versions are 0.2.0: {list}");

    for (name, world, interface) in [
        ("generator_default_v0_1", "mission-generator", "generator"),
        ("policy_default_v0_1", "verification-policy", "policy"),
    ] {
        let old = uploaded(&app, &admin, name).await;
        assert_eq!(old["version"]["contract"], "0.1.0", "{old}");
        assert_eq!(old["version"]["world"], world);
        assert_eq!(old["report"]["contract"], "0.1.0");
        let export = format!("weatherwise:plugins/{interface}@0.1.0");
        assert!(old["report"]["exports"].as_array().expect("exports").contains(&json!(export)), "{old}");
        // Still a sound component: it passes its corpus, judged as 0.1.0 (no language).
        assert_eq!(old["scorecard"]["contract"], "0.1.0");
        assert_eq!(old["scorecard"]["passed"], old["scorecard"]["total"], "{old}");

        let sha = old["version"]["sha256"].as_str().expect("sha");
        let detail = admin_get(&app, &admin, &format!("/admin/plugins/{sha}")).await;
        assert_eq!(
            (detail["contract"].as_str(), detail["scorecard"]["contract"].as_str()),
            (Some("0.1.0"), Some("0.1.0"))
        );
        let new =
            admin_get(&app, &admin, &format!("/admin/plugins/{}", active(&app, &admin, world).await)).await;
        assert_eq!(
            (new["contract"].as_str(), new["scorecard"]["contract"].as_str()),
            (Some("0.2.0"), Some("0.2.0"))
        );
        assert_eq!(new["scorecard"]["passed"], new["scorecard"]["total"], "{new}");
        // A 0.2.0 component runs every case once per language.
        assert_eq!(
            new["scorecard"]["total"].as_u64().expect("total"),
            2 * old["scorecard"]["total"].as_u64().expect("total"),
            "{new}"
        );
    }
    let list = admin_get(&app, &admin, "/admin/plugins").await;
    let mut contracts: Vec<(String, String)> = list["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| {
            (
                v["world"].as_str().expect("world").to_owned(),
                v["contract"].as_str().expect("contract").to_owned(),
            )
        })
        .collect();
    contracts.sort();
    let expected = [
        ("mission-generator", "0.1.0"),
        ("mission-generator", "0.2.0"),
        ("verification-policy", "0.1.0"),
        ("verification-policy", "0.2.0"),
    ];
    assert_eq!(contracts, expected.map(|(w, c)| (w.to_owned(), c.to_owned())), "{list}");
}

async fn generators_of_both_contracts_swap_and_roll_back(mode: Mode) {
    let deployment = Deployment::new(mode).await;
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let bundled = active(&app, &admin, "mission-generator").await;
    let korean = generated(&app, &admin, "active", None).await;
    assert_eq!(korean["sha256"], bundled.as_str());
    assert!(korean_titles(&korean), "Korean by default: {korean}");
    let english = generated(&app, &admin, "active", Some("en")).await;
    assert!(!korean_titles(&english), "English when asked: {english}");
    let keys = |answer: &Value| {
        answer["missions"]
            .clone()
            .as_array()
            .expect("missions")
            .iter()
            .map(|m| m["key"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&korean), keys(&english), "the same missions in either language");

    let old = uploaded(&app, &admin, "generator_default_v0_1").await;
    let old = old["version"]["sha256"].as_str().expect("sha").to_owned();
    // 0.1.0 active: it passes its corpus, so no force is needed; it is given no language.
    let activated = admin_post(&app, &admin, &format!("/admin/plugins/{old}/activate")).await;
    assert_eq!(activated.status(), 200);
    assert_eq!(activated.json::<Value>().await.expect("json")["contract"], "0.1.0");
    let answer = generated(&app, &admin, "active", Some("ko")).await;
    assert_eq!(answer["sha256"], old.as_str());
    assert!(!korean_titles(&answer), "a 0.1.0 generator writes as it always did: {answer}");
    assert_eq!(keys(&answer), keys(&english));

    // Back to 0.2.0 by rollback, then forward to it by activation, and back to 0.1.0 again.
    let rolled = admin_post(&app, &admin, "/admin/plugins/mission-generator/rollback").await;
    assert_eq!(rolled.json::<Value>().await.expect("json")["contract"], "0.2.0");
    let answer = generated(&app, &admin, "active", None).await;
    assert_eq!(answer["sha256"], bundled.as_str());
    assert!(korean_titles(&answer), "{answer}");
    assert_eq!(admin_post(&app, &admin, &format!("/admin/plugins/{old}/activate")).await.status(), 200);
    assert_eq!(admin_post(&app, &admin, &format!("/admin/plugins/{bundled}/activate")).await.status(), 200);
    assert!(korean_titles(&generated(&app, &admin, "active", None).await));
    let rolled = admin_post(&app, &admin, "/admin/plugins/mission-generator/rollback").await;
    assert_eq!(rolled.json::<Value>().await.expect("json")["sha256"], old.as_str());
    let answer = generated(&app, &admin, "active", None).await;
    assert_eq!(answer["sha256"], old.as_str());
    assert!(!korean_titles(&answer), "{answer}");
    // Either version can still be asked directly, whichever is active.
    assert!(korean_titles(&generated(&app, &admin, &bundled, None).await));
}

/// Waits until the shadow report of `candidate` counts `n` comparisons.
async fn compared(app: &TestApp, admin: &Session, candidate: &str, n: u64) -> Value {
    for _ in 0..200 {
        let view = admin_get(app, admin, &format!("/admin/shadow?candidate={candidate}")).await;
        if view["report"]["compared"].as_u64() >= Some(n) {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{candidate} was not compared {n} times within 10 s");
}

/// A policy dry-run of a reused photo, which any sound policy rejects with its own reason.
async fn reused(app: &TestApp, admin: &Session, language: &str) -> Value {
    let request = json!({"mission": cup_mission(), "reused": true, "language": language});
    let response = policy_dry_run(app, admin, "active", COFFEE, request).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["verdict"]["decision"], "rejected", "{body}");
    body
}

async fn policies_of_both_contracts_shadow_each_other(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.95)).await;
    let mut deployment = Deployment::new(mode).await;
    deployment.config.vision.base_url = Some(vision.base_url());
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let bundled = active(&app, &admin, "verification-policy").await;
    let old = uploaded(&app, &admin, "policy_default_v0_1").await;
    let old = old["version"]["sha256"].as_str().expect("sha").to_owned();

    // 0.2.0 active, 0.1.0 in shadow: both judge every verification, only 0.2.0's verdict counts.
    assert_eq!(admin_post(&app, &admin, &format!("/admin/plugins/{old}/shadow")).await.status(), 200);
    let answer = reused(&app, &admin, "ko").await;
    assert_eq!(answer["sha256"], bundled.as_str());
    assert_eq!(answer["verdict"]["reason"], "이미 제출된 적이 있는 사진이에요.", "{answer}");
    let approved = policy_dry_run(&app, &admin, "active", COFFEE, json!({"mission": cup_mission()})).await;
    assert_eq!(approved.json::<Value>().await.expect("json")["verdict"]["decision"], "approved");
    let view = compared(&app, &admin, &old, 2).await;
    assert_eq!(view["current"], old.as_str(), "{view}");
    assert_eq!(
        (view["report"]["compared"].as_u64(), view["report"]["agreed"].as_u64()),
        (Some(2), Some(2)),
        "{view}"
    );

    // 0.1.0 active, 0.2.0 in shadow.
    assert_eq!(admin_post(&app, &admin, &format!("/admin/plugins/{old}/activate")).await.status(), 200);
    assert_eq!(admin_post(&app, &admin, &format!("/admin/plugins/{bundled}/shadow")).await.status(), 200);
    let answer = reused(&app, &admin, "ko").await;
    assert_eq!(answer["sha256"], old.as_str());
    assert_eq!(
        answer["verdict"]["reason"], "This photo was already submitted before.",
        "0.1.0 gets no language"
    );
    let view = compared(&app, &admin, &bundled, 1).await;
    assert_eq!(view["current"], bundled.as_str(), "{view}");
    assert_eq!(
        (view["report"]["compared"].as_u64(), view["report"]["agreed"].as_u64()),
        (Some(1), Some(1)),
        "{view}"
    );

    // Rolled back to 0.2.0, which answers in the language asked again.
    let stopped =
        app.http.delete(app.api("/admin/shadow")).bearer_auth(&admin.access).send().await.expect("request");
    assert_eq!(stopped.status(), 204);
    let rolled = admin_post(&app, &admin, "/admin/plugins/verification-policy/rollback").await;
    assert_eq!(rolled.json::<Value>().await.expect("json")["sha256"], bundled.as_str());
    assert_eq!(
        reused(&app, &admin, "en").await["verdict"]["reason"],
        "This photo was already submitted before."
    );
    assert_eq!(reused(&app, &admin, "ko").await["verdict"]["reason"], "이미 제출된 적이 있는 사진이에요.");
}
