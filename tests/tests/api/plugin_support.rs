//! Helpers of the plugin tests: the admin API calls they all make.

use serde_json::{Value, json};
use weatherwise_tests::{Session, TestApp};

pub const COFFEE: &[u8] = include_bytes!("../../../plugins/corpus/photos/coffee.png");
pub const CAT: &[u8] = include_bytes!("../../../plugins/corpus/photos/chelsea.png");

pub async fn upload(app: &TestApp, admin: &Session, bytes: Vec<u8>, label: &str) -> reqwest::Response {
    app.http
        .post(app.api("/admin/plugins"))
        .query(&[("label", label), ("note", "from the tests")])
        .bearer_auth(&admin.access)
        .header("content-type", "application/wasm")
        .body(bytes)
        .send()
        .await
        .expect("request")
}

pub async fn admin_get(app: &TestApp, admin: &Session, path: &str) -> Value {
    app.get_json_as(&admin.access, path).await
}

pub async fn admin_post(app: &TestApp, admin: &Session, path: &str) -> reqwest::Response {
    app.http.post(app.api(path)).bearer_auth(&admin.access).send().await.expect("request")
}

pub fn day() -> Value {
    json!([
        {"slot": "morning", "temperature_c": 26.0, "sky": "overcast", "precipitation": "rain",
         "alerts": [{"kind": "typhoon", "level": "warning"}]},
        {"slot": "lunch", "temperature_c": 28.0, "sky": "clear", "precipitation": "none"},
        {"slot": "evening", "temperature_c": 22.0, "sky": "clear", "precipitation": "none"}
    ])
}

pub async fn dry_run(app: &TestApp, admin: &Session, id: &str, region: &str) -> reqwest::Response {
    app.http
        .post(app.api(&format!("/admin/plugins/{id}/dry-run")))
        .bearer_auth(&admin.access)
        .json(&json!({"weather": day(), "user": {"region": region, "local_date": "2026-11-23"}}))
        .send()
        .await
        .expect("request")
}

/// Activates a version whatever its scorecard says (the hostile test components fail their
/// corpus on purpose), with the reason the API requires.
pub async fn force_activate(app: &TestApp, admin: &Session, sha: &str) -> reqwest::Response {
    admin_post(app, admin, &format!("/admin/plugins/{sha}/activate?force=true&reason=sandbox%20test")).await
}

pub fn cup_mission() -> Value {
    json!({"key": "cloudy-tumbler", "title": "Bring your own cup", "description": "Coffee in your own cup.",
           "points": 10, "slot": "morning", "rubric": "Photo of a reusable cup or tumbler with a drink.",
           "outdoor": false})
}

/// A policy dry-run: the `request` JSON part and the `photo` file part.
pub async fn policy_dry_run(
    app: &TestApp,
    admin: &Session,
    id: &str,
    photo: &[u8],
    request: Value,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .part(
            "request",
            reqwest::multipart::Part::text(request.to_string()).mime_str("application/json").expect("mime"),
        )
        .part("photo", reqwest::multipart::Part::bytes(photo.to_vec()).file_name("photo.png"));
    app.http
        .post(app.api(&format!("/admin/plugins/{id}/dry-run")))
        .bearer_auth(&admin.access)
        .multipart(form)
        .send()
        .await
        .expect("request")
}
