//! The Python example plugin (`plugins/generator-python`, built by componentize-py) through
//! the admin API of the running server, under the production limits: uploaded, recognised as a
//! mission generator, activated, and run against the fixture weather.

use super::plugin_support::{admin_get, force_activate};
use serde_json::{Value, json};
use std::time::Duration;
use weatherwise_tests::{Deployment, Mode, Session, TestApp, both_modes, python_component};

both_modes!(python_generator_through_the_admin_api);

/// Compiling the Python interpreter to machine code takes tens of seconds in an unoptimised test
/// server on a busy machine (seconds in a release build); the upload request must outlive it.
pub(crate) const UPLOAD_TIMEOUT_SECS: u64 = 300;

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).expect("fixture json")
}

/// Dry-runs generator `id` on `fixture` with `recent` as the user's recent mission keys.
async fn dry_run(app: &TestApp, admin: &Session, id: &str, mut fixture: Value, recent: &[&str]) -> Value {
    fixture["user"]["recent_mission_keys"] = json!(recent);
    let response = app
        .http
        .post(app.api(&format!("/admin/plugins/{id}/dry-run")))
        .bearer_auth(&admin.access)
        .json(&fixture)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 200, "{body}");
    body
}

/// `(key, slot, outdoor)` of each mission of a dry-run answer.
fn summary(answer: &Value) -> Vec<(String, String, bool)> {
    answer["missions"]
        .as_array()
        .expect("missions")
        .iter()
        .map(|mission| {
            (
                mission["key"].as_str().expect("key").to_owned(),
                mission["slot"].as_str().expect("slot").to_owned(),
                mission["outdoor"].as_bool().expect("outdoor"),
            )
        })
        .collect()
}

fn expected(missions: &[(&str, &str, bool)]) -> Vec<(String, String, bool)> {
    missions.iter().map(|(key, slot, outdoor)| (key.to_string(), slot.to_string(), *outdoor)).collect()
}

/// Uploads the Python generator and activates it; returns its hash.
pub(crate) async fn upload_and_activate(app: &TestApp, admin: &Session) -> String {
    let bytes = python_component();
    let size = bytes.len();
    let response = app
        .http
        .post(app.api("/admin/plugins"))
        .query(&[("label", "python-1"), ("note", "the Python example")])
        .bearer_auth(&admin.access)
        .header("content-type", "application/wasm")
        .timeout(Duration::from_secs(UPLOAD_TIMEOUT_SECS))
        .body(bytes)
        .send()
        .await
        .expect("request");
    let status = response.status();
    let created: Value = response.json().await.expect("json");
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["version"]["world"], "mission-generator", "{created}");
    assert_eq!(created["version"]["contract"], "0.1.0", "the example implements contract 0.1.0");
    let report = &created["report"];
    assert_eq!(report["world"], "mission-generator");
    assert_eq!(report["contract"], "0.1.0");
    assert_eq!(created["scorecard"]["contract"], "0.1.0");
    assert_eq!(report["size_bytes"], size);
    let names = |list: &str| -> Vec<String> {
        report[list]
            .as_array()
            .expect("list")
            .iter()
            .map(|name| name.as_str().expect("name").to_owned())
            .collect()
    };
    assert!(names("exports").contains(&"weatherwise:plugins/generator@0.1.0".to_owned()), "{report}");
    assert!(names("imports").contains(&"weatherwise:plugins/log@0.1.0".to_owned()), "{report}");
    let sha = created["version"]["sha256"].as_str().expect("sha").to_owned();
    // The example leaves safety to the host, so the golden corpus finds it proposing outdoor
    // missions under warnings and nothing for fine dust: activating it takes a forced,
    // audited activation.
    let failures = created["scorecard"]["failures"].to_string();
    assert!(failures.contains("heat-wave-warning-has-no-outdoor-walks"), "{failures}");
    assert!(failures.contains("fine-dust-asks-for-a-mask"), "{failures}");
    assert_eq!(force_activate(app, admin, &sha).await.status(), 200);
    let list = admin_get(app, admin, "/admin/plugins").await;
    let active: Vec<&Value> =
        list["versions"].as_array().expect("versions").iter().filter(|v| v["active"] == true).collect();
    assert!(
        active.iter().any(|v| v["sha256"] == sha.as_str() && v["world"] == "mission-generator"),
        "{list}"
    );
    sha
}

async fn python_generator_through_the_admin_api(mode: Mode) {
    let mut deployment = Deployment::new(mode).await;
    deployment.config.http.request_timeout_secs = UPLOAD_TIMEOUT_SECS;
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let sha = upload_and_activate(&app, &admin).await;

    // Cold and dry all day, snow in the evening: a tumbler first, then water (the tumbler is
    // already given today), then snow seen from indoors.
    let day = fixture("cold-dry-day.json");
    let first = dry_run(&app, &admin, "active", day.clone(), &[]).await;
    assert_eq!(
        summary(&first),
        expected(&[
            ("py-tumbler", "morning", false),
            ("py-hydrate", "lunch", false),
            ("py-snow-window", "evening", false),
        ]),
        "{first}"
    );
    assert!(first["dropped_for_safety"].as_array().expect("dropped").is_empty());
    let fuel = first["fuel_used"].as_u64().expect("fuel");
    assert!(fuel > 0 && fuel < weatherwise::plugins::Limits::default().fuel, "{fuel}");
    for mission in first["missions"].as_array().expect("missions") {
        let points = mission["points"].as_u64().expect("points");
        assert!((1..=100).contains(&points));
        assert!(!mission["title"].as_str().expect("title").is_empty());
        assert!(!mission["rubric"].as_str().expect("rubric").is_empty());
    }

    // The next day the same weather gives other missions: the clear slots get outdoor walks.
    let next = dry_run(&app, &admin, &sha, day, &["py-tumbler", "py-hydrate", "py-snow-window"]).await;
    assert_eq!(
        summary(&next),
        expected(&[
            ("py-walk-outdoors", "morning", true),
            ("py-sky-photo", "lunch", true),
            ("py-take-the-stairs", "evening", false),
        ]),
        "{next}"
    );

    // Rain: the umbrella, then an indoor mission once the umbrella was given. The evening clears
    // up under a strong-wind warning: the generator proposes a walk, which the host drops.
    let rain = dry_run(&app, &admin, "active", fixture("rainy-day.json"), &[]).await;
    assert_eq!(
        summary(&rain),
        expected(&[("py-umbrella-ready", "morning", false), ("py-indoor-stretch", "lunch", false)]),
        "{rain}"
    );
    assert_eq!(rain["dropped_for_safety"], json!(["py-walk-outdoors"]), "{rain}");

    // Without the warning the same walk is kept.
    let mut calm = fixture("rainy-day.json");
    calm["weather"][2]["alerts"] = json!([]);
    let calm = dry_run(&app, &admin, "active", calm, &[]).await;
    assert_eq!(summary(&calm)[2], ("py-walk-outdoors".to_owned(), "evening".to_owned(), true), "{calm}");
    assert!(calm["dropped_for_safety"].as_array().expect("dropped").is_empty());
}
