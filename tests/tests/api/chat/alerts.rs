//! Rooms follow the warning feed: a province with a warning in force has one open room, joined
//! by its later warnings; a province whose warnings end has a read-only room; the feed's rows
//! are recorded once however often they repeat; snapshots carry the warnings; users last seen
//! in the province hear of a new room.

use super::support::{ChatDeployment, NONE, SEOUL, poll, room_of, rooms};
use serde_json::Value;
use std::time::Duration;
use weatherwise_tests::stomp::{StompClient, StompCommand};
use weatherwise_tests::{Mode, both_modes};

const EUC_KR_FEED: &[u8] = include_bytes!("../../../../host/src/weather/fixtures/alerts/hub-now.euc-kr.txt");

async fn rooms_open_join_and_close_with_the_feed(mode: Mode) {
    let chat = ChatDeployment::new(mode, |_| {}).await;
    let app = chat.deployment.start().await;
    let admin = chat.deployment.admin(&app).await;
    let seoul = room_of(&app, &admin, "서울특별시").await;
    assert_eq!(seoul["status"], "open");
    assert_eq!(seoul["name"], "서울특별시 한파 경보");
    assert_eq!(seoul["alerts"].as_array().expect("alerts").len(), 1, "{seoul}");

    // The EUC-KR feed: 강원 (dry warning, cold advisories), 서울 again (a row twice), a lifted
    // row, a sea area. 서울's room stays the same room; 강원's opens.
    chat.set_feed(EUC_KR_FEED);
    let outcome = poll(&app, &admin).await;
    assert!(!outcome["skipped"].as_array().expect("skipped").is_empty(), "{outcome}");
    let all = rooms(&app, &admin).await;
    let open: Vec<&Value> = all.iter().filter(|room| room["status"] == "open").collect();
    let gangwon = open.iter().find(|room| room["province"] == "강원특별자치도").expect("강원's room");
    assert_eq!(gangwon["name"], "강원특별자치도 건조·한파 경보", "{gangwon}");
    let seoul_now = open.iter().find(|room| room["province"] == "서울특별시").expect("서울's room");
    assert_eq!(seoul_now["id"], seoul["id"], "one room per province and episode");
    let keys: Vec<&str> =
        seoul_now["alerts"].as_array().expect("alerts").iter().filter_map(|a| a["key"].as_str()).collect();
    let mut unique = keys.clone();
    unique.dedup();
    assert_eq!(keys, unique, "a repeated row is one alert");
    // Polling the same feed again changes nothing.
    let again = poll(&app, &admin).await;
    assert_eq!((again["new"].as_u64(), again["lifted"].as_u64()), (Some(0), Some(0)), "{again}");
    assert!(!open.iter().any(|room| room["province"] == "부산광역시"), "a lifted warning opens nothing");

    // A user in the room when its warnings end: the room turns read-only and refuses SEND.
    let user = app.user().await;
    let mut client = StompClient::connect(&app, &user).await;
    let room_id = seoul["id"].as_str().expect("id").to_owned();
    assert_eq!(client.send_text(&room_id, "춥다").await.command, StompCommand::Receipt);
    chat.set_feed(NONE.as_bytes());
    let ended = poll(&app, &admin).await;
    assert!(ended["lifted"].as_u64() > Some(0), "{ended}");
    let all = rooms(&app, &admin).await;
    assert!(all.iter().all(|room| room["status"] == "read_only"), "{all:?}");
    let answer = client.send_text(&room_id, "아직?").await;
    client.assert_error(answer, "read-only").await;
    // Kept for history.
    let history = app.get_json(&user, &format!("/chat/rooms/{room_id}/messages")).await;
    assert_eq!(history["messages"][0]["text"], "춥다");

    // A new warning in 서울 is a new episode: a new room.
    chat.set_feed(super::support::SEOUL_COLD.as_bytes());
    let reopened = room_of(&app, &admin, "서울특별시").await;
    let all = rooms(&app, &admin).await;
    let open: Vec<&Value> = all.iter().filter(|room| room["status"] == "open").collect();
    assert_eq!(open.len(), 1);
    assert_ne!(open[0]["id"], seoul["id"], "{reopened}");
    assert_eq!(all[0]["status"], "open", "open rooms first");
}

async fn snapshots_carry_the_warnings_of_their_province(mode: Mode) {
    let chat = ChatDeployment::new(mode, |_| {}).await;
    let app = chat.deployment.start().await;
    let admin = chat.deployment.admin(&app).await;
    poll(&app, &admin).await;
    let user = app.user().await;
    let weather = app.get_json(&user, &format!("/weather?lat={}&lon={}", SEOUL.0, SEOUL.1)).await;
    let alerts = &weather["slots"][2]["alerts"];
    assert!(
        alerts
            .as_array()
            .expect("alerts")
            .iter()
            .any(|a| a["kind"] == "cold-wave" && a["level"] == "warning"),
        "{weather}"
    );
    // The generator sees the warning: today's missions are the bundled generator's warning
    // missions, none outdoors.
    let today = app.get_json(&user, &format!("/missions/today?lat={}&lon={}", SEOUL.0, SEOUL.1)).await;
    let missions = today["missions"].as_array().expect("missions");
    assert!(missions.iter().any(|m| m["key"].as_str().is_some_and(|k| k.starts_with("alert-"))), "{today}");
    assert!(missions.iter().all(|m| m["outdoor"] == false), "{today}");

    chat.set_feed(NONE.as_bytes());
    poll(&app, &admin).await;
    let weather = app.get_json(&user, &format!("/weather?lat={}&lon={}", SEOUL.0, SEOUL.1)).await;
    assert_eq!(weather["slots"][2]["alerts"], serde_json::json!([]), "{weather}");
}

async fn users_in_the_province_hear_a_room_open(mode: Mode) {
    let chat = ChatDeployment::new(mode, |_| {}).await;
    chat.set_feed(NONE.as_bytes());
    let app = chat.deployment.start().await;
    let admin = chat.deployment.admin(&app).await;
    poll(&app, &admin).await;
    let (local, elsewhere) = (app.user().await, app.user().await);
    // Asking for missions is how the server learns where a user is.
    app.get_json(&local, &format!("/missions/today?lat={}&lon={}", SEOUL.0, SEOUL.1)).await;
    app.get_json(&elsewhere, "/missions/today?lat=35.1796&lon=129.0756").await;
    let mut near = app.stream(&local, None).await;
    let mut far = app.stream(&elsewhere, None).await;

    chat.set_feed(super::support::SEOUL_COLD.as_bytes());
    poll(&app, &admin).await;
    let event = near.next_within(Duration::from_secs(10)).await.expect("a notification");
    assert_eq!(event.event.as_deref(), Some("alert_room.opened"));
    let opened = event.json();
    assert_eq!(opened["province"], "서울특별시", "{opened}");
    assert!(opened["destination"].as_str().is_some_and(|d| d.starts_with("/topic/rooms/")));
    assert!(
        far.next_within(Duration::from_millis(1500)).await.is_none(),
        "부산 hears nothing of 서울's room"
    );
}

/// 서울 under a strong-wind warning (the API hub's current-warnings format).
const SEOUL_WIND: &str = "#START7777\n\
# REG_UP, REG_UP_KO, REG_ID, REG_KO, TM_FC, TM_EF, WRN, LVL, CMD, ED_TM\n\
L1100000, 서울특별시, L1100100, 서울동북권, 202612010600, 202612010700, 강풍, 경보, 발표, ,=\n\
#7777END\n";

/// The host's safety rule acts on the feed: a generator that ignores warnings (the Python
/// example) proposes an evening walk on a clear evening, and under a strong-wind warning read
/// from the feed the host drops it; once the warning is lifted the same walk is given.
async fn an_outdoor_mission_is_dropped_under_a_warning_from_the_feed(mode: Mode) {
    // Rain until lunch, a clear evening; no warning but the feed's.
    let mut day: Value =
        serde_json::from_str(include_str!("../../../../fixtures/rainy-day.json")).expect("day");
    for slot in day["weather"].as_array_mut().expect("slots") {
        slot["alerts"] = serde_json::json!([]);
    }
    let chat = ChatDeployment::new(mode, |config| {
        config.http.request_timeout_secs = crate::python_plugin::UPLOAD_TIMEOUT_SECS;
        let weather = config.data_dir.join("weather.json");
        std::fs::write(&weather, serde_json::json!({"weather": day["weather"]}).to_string())
            .expect("weather");
        config.weather.fixture = Some(weather);
    })
    .await;
    chat.set_feed(SEOUL_WIND.as_bytes());
    let app = chat.deployment.start().await;
    let admin = chat.deployment.admin(&app).await;
    crate::python_plugin::upload_and_activate(&app, &admin).await;
    poll(&app, &admin).await;

    let missions = |today: &Value| -> Vec<(String, String, bool)> {
        today["missions"]
            .as_array()
            .expect("missions")
            .iter()
            .map(|m| {
                let text = |field: &str| m[field].as_str().expect(field).to_owned();
                (text("key"), text("slot"), m["outdoor"].as_bool().expect("outdoor"))
            })
            .collect()
    };
    let at_seoul = format!("/missions/today?lat={}&lon={}", SEOUL.0, SEOUL.1);
    let windy = app.get_json(&app.user().await, &at_seoul).await;
    let windy = missions(&windy);
    assert!(windy.iter().all(|(_, _, outdoor)| !outdoor), "{windy:?}");
    assert!(!windy.iter().any(|(_, slot, _)| slot == "evening"), "the evening walk is dropped: {windy:?}");
    assert_eq!(windy.len(), 2, "{windy:?}");

    chat.set_feed(NONE.as_bytes());
    poll(&app, &admin).await;
    let calm = app.get_json(&app.user().await, &at_seoul).await;
    let calm = missions(&calm);
    assert!(calm.contains(&("py-walk-outdoors".into(), "evening".into(), true)), "{calm:?}");
}

both_modes!(
    rooms_open_join_and_close_with_the_feed,
    snapshots_carry_the_warnings_of_their_province,
    users_in_the_province_hear_a_room_open,
    an_outdoor_mission_is_dropped_under_a_warning_from_the_feed,
);
