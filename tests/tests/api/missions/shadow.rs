//! Live verifications feed shadow mode, and their policy calls replay exactly.

use super::support::{COFFEE, configure, decided, mission_like, submitted};
use crate::plugin_support::{admin_get, admin_post, upload};
use serde_json::Value;
use std::time::Duration;
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::{Deployment, Mode, both_modes, component};

both_modes!(missions_live_verifications_are_shadowed_and_replay);

async fn missions_live_verifications_are_shadowed_and_replay(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.95)).await;
    let mut deployment = Deployment::new(mode).await;
    configure(&mut deployment.config, Some(&vision));
    let app = deployment.start().await;
    let admin = deployment.admin(&app).await;
    let uploaded: Value =
        upload(&app, &admin, component("hostile_policy"), "candidate").await.json().await.expect("json");
    let candidate = uploaded["version"]["sha256"].as_str().expect("sha").to_owned();
    assert_eq!(admin_post(&app, &admin, &format!("/admin/plugins/{candidate}/shadow")).await.status(), 200);

    let user = app.new_user().await;
    let (mission, _) = mission_like(&app, &user.access, "tumbler").await;
    let id = submitted(&app, &user.access, &mission, COFFEE.to_vec(), "image/png").await;
    assert_eq!(decided(&app, &user.access, &id).await["state"], "approved");

    // The candidate ran beside the live verification, and was only recorded.
    let mut report = Value::Null;
    for _ in 0..100 {
        report = admin_get(&app, &admin, "/admin/shadow").await;
        if report["report"]["compared"].as_u64() == Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(report["report"]["compared"], 1, "{report}");

    // The live call replays on the same version with the same seed and the recorded answers.
    let inspected = admin_get(&app, &admin, &format!("/admin/verifications/{id}")).await;
    let call_id = inspected["call_id"].as_str().expect("the verification names its policy call").to_owned();
    let replay = admin_post(&app, &admin, &format!("/admin/plugin-calls/{call_id}/replay")).await;
    assert_eq!(replay.status(), 200, "replaying {call_id}");
    let replay: Value = replay.json().await.expect("json");
    assert_eq!(replay["identical"], true, "{replay}");
    assert_eq!(vision.requests().len(), 1, "the replay answered vision from the record");
}
