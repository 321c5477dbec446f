//! What the chat tests share: a deployment whose warning feed is a file the test rewrites,
//! polls on request, and the rooms it opens.

use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use weatherwise::config::{Config, RateLimit};
use weatherwise_tests::{Deployment, Mode, Session, TestApp};

/// 서울 under a cold-wave warning (the API hub's current-warnings format).
pub const SEOUL_COLD: &str = "#START7777\n\
# REG_UP, REG_UP_KO, REG_ID, REG_KO, TM_FC, TM_EF, WRN, LVL, CMD, ED_TM\n\
L1100000, 서울특별시, L1100100, 서울동북권, 202612010600, 202612010700, 한파, 경보, 발표, ,=\n\
#7777END\n";

/// No warning anywhere.
pub const NONE: &str =
    "#START7777\n# REG_UP, REG_UP_KO, REG_ID, REG_KO, TM_FC, TM_EF, WRN, LVL, CMD, ED_TM\n#7777END\n";

pub const SEOUL: (f64, f64) = (37.5665, 126.9780);

/// A deployment whose warning feed is a file, holding `SEOUL_COLD` to begin with.
pub struct ChatDeployment {
    pub deployment: Deployment,
    pub feed: PathBuf,
}

impl ChatDeployment {
    pub async fn new(mode: Mode, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut deployment = Deployment::new(mode).await;
        let feed = deployment.data_dir.path().join("warnings.txt");
        std::fs::write(&feed, SEOUL_COLD).expect("feed");
        deployment.config.alerts.fixture = Some(feed.clone());
        deployment.config.chat.sends_per_user = RateLimit { limit: 100_000, window_secs: 60 };
        adjust(&mut deployment.config);
        Self { deployment, feed }
    }

    pub fn set_feed(&self, body: &[u8]) {
        std::fs::write(&self.feed, body).expect("feed");
    }
}

/// Reads the feed now (waiting out a poll already running).
pub async fn poll(app: &TestApp, admin: &Session) -> Value {
    for _ in 0..100 {
        let response = app
            .http
            .post(app.api("/admin/alerts/poll"))
            .bearer_auth(&admin.access)
            .send()
            .await
            .expect("request");
        match response.status().as_u16() {
            200 => return response.json().await.expect("json"),
            409 => tokio::time::sleep(Duration::from_millis(100)).await,
            status => panic!("poll answered {status}: {}", response.text().await.unwrap_or_default()),
        }
    }
    panic!("a poll kept running")
}

pub async fn rooms(app: &TestApp, caller: &Session) -> Vec<Value> {
    let page = app.get_json(caller, "/chat/rooms").await;
    page["rooms"].as_array().expect("rooms").clone()
}

/// The room of `province` (open or not), polling the feed first.
pub async fn room_of(app: &TestApp, admin: &Session, province: &str) -> Value {
    poll(app, admin).await;
    rooms(app, admin)
        .await
        .into_iter()
        .find(|room| room["province"] == province)
        .unwrap_or_else(|| panic!("no room for {province}"))
}

/// A chat deployment, one instance, an admin, and the open 서울 room's id and epoch.
pub async fn seoul_room(
    mode: Mode,
    adjust: impl FnOnce(&mut Config),
) -> (ChatDeployment, TestApp, Session, String, String) {
    let chat = ChatDeployment::new(mode, adjust).await;
    let app = chat.deployment.start().await;
    let admin = chat.deployment.admin(&app).await;
    let room = room_of(&app, &admin, "서울특별시").await;
    assert_eq!(room["status"], "open", "{room}");
    let id = room["id"].as_str().expect("id").to_owned();
    let epoch = room["epoch"].as_str().expect("epoch").to_owned();
    (chat, app, admin, id, epoch)
}
