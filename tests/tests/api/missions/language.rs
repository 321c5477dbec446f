//! The language users read: missions and verdicts are Korean by default and English when the
//! client asks (`Accept-Language`) or the profile says so (`PATCH /me`), the profile winning;
//! a day's missions keep the language they were made in; the verdict, the policy's prompt to
//! the model and the reason follow the mission's language.

use super::support::{COFFEE, SEOUL, decided, deployment, distinct_photo, mission_like, spawn, submit};
use serde_json::{Value, json};
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::{Mode, TestApp, assert_problem, both_modes, component};

both_modes!(
    missions_are_korean_by_default_and_english_on_request,
    the_profile_language_wins_over_accept_language,
    a_verdict_speaks_the_language_of_its_mission,
    a_0_1_generator_keeps_writing_english_through_the_server,
);

fn has_hangul(text: &str) -> bool {
    text.chars().any(|c| ('\u{ac00}'..='\u{d7a3}').contains(&c))
}

/// Today's missions, sending `accept_language` if given.
async fn today(app: &TestApp, token: &str, accept_language: Option<&str>) -> Value {
    let mut request = app
        .http
        .get(app.api("/missions/today"))
        .query(&[("lat", SEOUL.0), ("lon", SEOUL.1)])
        .bearer_auth(token);
    if let Some(value) = accept_language {
        request = request.header("accept-language", value);
    }
    let response = request.send().await.expect("request");
    assert_eq!(response.status(), 200, "today's missions");
    response.json().await.expect("json")
}

fn missions(today: &Value) -> &Vec<Value> {
    let missions = today["missions"].as_array().expect("missions");
    assert!(!missions.is_empty(), "{today}");
    missions
}

/// The language every mission of the day is marked with and written in.
fn language_of(today: &Value) -> &'static str {
    let korean = missions(today).iter().all(|m| {
        has_hangul(m["title"].as_str().expect("title"))
            && has_hangul(m["description"].as_str().expect("text"))
    });
    let english = missions(today).iter().all(|m| !has_hangul(m["title"].as_str().expect("title")));
    let marked: Vec<&str> = missions(today).iter().filter_map(|m| m["language"].as_str()).collect();
    match (korean, english) {
        (true, false) if marked.iter().all(|l| *l == "ko") => "ko",
        (false, true) if marked.iter().all(|l| *l == "en") => "en",
        _ => panic!("missions in no one language, or marked otherwise: {today}"),
    }
}

fn title_of(today: &Value, key: &str) -> String {
    let mission =
        missions(today).iter().find(|m| m["key"] == key).unwrap_or_else(|| panic!("no {key} in {today}"));
    mission["title"].as_str().expect("title").to_owned()
}

async fn patch_me(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.http.patch(app.api("/me")).bearer_auth(token).json(&body).send().await.expect("request")
}

async fn missions_are_korean_by_default_and_english_on_request(mode: Mode) {
    let (app, _vision) = spawn(mode, Behaviour::grade(true, 0.93)).await;

    // The cold, dry fixture day: "Bring a tumbler" in the morning, in Korean by default.
    let korean = app.new_user().await;
    let first = today(&app, &korean.access, None).await;
    assert_eq!(language_of(&first), "ko");
    assert_eq!(title_of(&first, "cold-tumbler"), "텀블러를 사용하세요");
    let unsupported = app.new_user().await;
    let answer = today(&app, &unsupported.access, Some("fr-FR, de;q=0.8")).await;
    assert_eq!(language_of(&answer), "ko", "a language the product does not write falls back to Korean");

    let english = app.new_user().await;
    let answer = today(&app, &english.access, Some("en-US,en;q=0.9,ko;q=0.5")).await;
    assert_eq!(language_of(&answer), "en");
    assert_eq!(title_of(&answer, "cold-tumbler"), "Bring a tumbler");
    let keys = |day: &Value| missions(day).iter().map(|m| m["key"].clone()).collect::<Vec<_>>();
    assert_eq!(keys(&answer), keys(&first), "the same missions, in the language asked");

    // The day's missions were made in Korean and stay so; a language asked later applies from
    // the next day.
    let again = today(&app, &korean.access, Some("en")).await;
    assert_eq!(again["missions"], first["missions"]);
}

async fn the_profile_language_wins_over_accept_language(mode: Mode) {
    let (app, _vision) = spawn(mode, Behaviour::grade(true, 0.93)).await;
    let user = app.new_user().await;
    assert!(app.get_json_as(&user.access, "/me").await["language"].is_null(), "no choice yet");
    let chosen = patch_me(&app, &user.access, json!({"language": "en"})).await;
    assert_eq!(chosen.status(), 200);
    assert_eq!(chosen.json::<Value>().await.expect("json")["language"], "en");
    assert_eq!(app.get_json_as(&user.access, "/me").await["language"], "en");
    let answer = today(&app, &user.access, Some("ko-KR,ko;q=0.9")).await;
    assert_eq!(language_of(&answer), "en", "the profile's choice wins over the device's header");

    let other = app.new_user().await;
    assert_eq!(patch_me(&app, &other.access, json!({"language": "ko"})).await.status(), 200);
    let answer = today(&app, &other.access, Some("en")).await;
    assert_eq!(language_of(&answer), "ko");

    // The nickname and the language change together or apart; `null` clears the choice.
    let renamed = patch_me(&app, &other.access, json!({"nickname": "언어바꿈", "language": null})).await;
    assert_eq!(renamed.status(), 200);
    let body: Value = renamed.json().await.expect("json");
    assert_eq!((body["nickname"].as_str(), body["language"].is_null()), (Some("언어바꿈"), true), "{body}");
    let unknown = assert_problem(
        patch_me(&app, &other.access, json!({"language": "fr"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(unknown.to_string().contains("language"), "{unknown}");
    let empty =
        assert_problem(patch_me(&app, &other.access, json!({})).await, 422, "validation_failed").await;
    assert_eq!(empty["errors"][0]["field"], "nickname", "{empty}");
    assert!(app.get_json_as(&other.access, "/me").await["language"].is_null());
}

/// The prompt the model was sent in `request` (the policy's part of the user message).
fn prompt(request: &Value) -> String {
    request["messages"][1]["content"][0]["text"].as_str().expect("prompt").to_owned()
}

async fn a_verdict_speaks_the_language_of_its_mission(mode: Mode) {
    // The model is down: the policy sends each photo to review, with its own reason.
    let (app, vision) = spawn(mode, Behaviour::Status(500)).await;
    for (seed, accept, reason_starts, prompt_asks) in
        [(1, None, "담당자가 확인할게요.", "한국어"), (2, Some("en"), "Sent to review:", "in English")]
    {
        let user = app.new_user().await;
        let day = today(&app, &user.access, accept).await;
        let (mission, _) = mission_like(&app, &user.access, "tumbler").await;
        let before = vision.requests().len();
        let response = submit(&app, &user.access, &mission, distinct_photo(seed), "image/jpeg").await;
        assert_eq!(response.status(), 202, "{day}");
        let id = response.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
        let verdict = decided(&app, &user.access, &id).await;
        assert_eq!(verdict["state"], "needs_review", "{verdict}");
        let reason = verdict["reason"].as_str().expect("reason");
        assert!(reason.starts_with(reason_starts), "{accept:?}: {reason}");
        let asked = &vision.requests()[before..];
        assert!(!asked.is_empty(), "the policy asked the model");
        assert!(
            asked.iter().all(|request| prompt(request).contains(prompt_asks)),
            "{accept:?}: {}",
            prompt(&asked[0])
        );
    }
}

async fn a_0_1_generator_keeps_writing_english_through_the_server(mode: Mode) {
    let vision = FakeVision::start(Behaviour::Status(500)).await;
    let deployment = deployment(mode, Some(&vision)).await;
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let uploaded =
        crate::plugin_support::upload(&app, &admin, component("generator_default_v0_1"), "0.1.0").await;
    let sha =
        uploaded.json::<Value>().await.expect("json")["version"]["sha256"].as_str().expect("sha").to_owned();
    let activated = app
        .http
        .post(app.api(&format!("/admin/plugins/{sha}/activate")))
        .bearer_auth(&admin.access)
        .send()
        .await
        .expect("request");
    assert_eq!(activated.status(), 200);

    // Korean is asked for, but a 0.1.0 generator is given no language: its missions are
    // English and marked so, and the 0.2.0 policy explains its verdict in English to match.
    let user = app.new_user().await;
    let day = today(&app, &user.access, Some("ko")).await;
    assert_eq!(language_of(&day), "en");
    assert_eq!(title_of(&day, "cold-tumbler"), "Bring a tumbler");
    let (mission, _) = mission_like(&app, &user.access, "tumbler").await;
    let response = submit(&app, &user.access, &mission, COFFEE.to_vec(), "image/png").await;
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    let verdict = decided(&app, &user.access, &id).await;
    assert!(verdict["reason"].as_str().is_some_and(|r| r.starts_with("Sent to review:")), "{verdict}");
}
