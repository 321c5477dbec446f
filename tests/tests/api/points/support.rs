//! Servers with their application state at hand (one or several instances of a deployment),
//! users made through the store with tokens from the server's own token service (sign-up's
//! argon2 would dominate hundreds of users), and event streams.

use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio::sync::oneshot;
use weatherwise::accounts::NewUser;
use weatherwise::accounts::nickname::Nickname;
use weatherwise::app::{App, SharedState};
use weatherwise_tests::sse::SseStream;
use weatherwise_tests::{Deployment, Mode};

#[derive(Debug, Clone)]
pub struct Caller {
    pub id: String,
    pub nickname: String,
    pub token: String,
}

/// One running instance of a deployment.
pub struct Node {
    pub base: String,
    pub http: reqwest::Client,
    pub state: SharedState,
    stop: Option<oneshot::Sender<()>>,
}

impl Node {
    pub async fn start(deployment: &Deployment) -> Self {
        weatherwise::telemetry::init(&deployment.config.log);
        let app = App::build(deployment.config.clone()).await.expect("the application starts");
        let state = app.state().clone();
        let listener = app.bind().await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()
            .expect("client");
        Self { base: format!("http://{address}/api/v1"), http, state, stop: Some(stop) }
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A user with this nickname, stored directly, and an access token for them.
    pub async fn user_named(&self, nickname: &str) -> Caller {
        let nickname = Nickname::parse(nickname).expect("a valid nickname");
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let user = self
            .state
            .users
            .create(NewUser {
                email: Some(format!("{tag}@example.com")),
                nickname: nickname.display.clone(),
                nickname_key: nickname.key,
                password_hash: None,
                kakao_id: None,
            })
            .await
            .expect("create user");
        let session = uuid::Uuid::now_v7().to_string();
        let (token, _) = self.state.tokens.issue(&user.id, "user", &session).expect("token");
        Caller { id: user.id, nickname: nickname.display, token }
    }

    pub async fn user(&self) -> Caller {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        self.user_named(&format!("p{}", &tag[..10])).await
    }

    pub async fn users(&self, count: usize) -> Vec<Caller> {
        futures::stream::iter(0..count).map(|_| self.user()).buffer_unordered(16).collect().await
    }

    pub async fn get(&self, caller: &Caller, path: &str) -> reqwest::Response {
        self.http.get(self.api(path)).bearer_auth(&caller.token).send().await.expect("request")
    }

    pub async fn get_json(&self, caller: &Caller, path: &str) -> Value {
        let response = self.get(caller, path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json")
    }

    /// Credits through the server's own points service, as the verification code does.
    pub async fn credit(&self, verification_id: &str, user: &Caller, points: i64, at_ms: i64) -> i64 {
        let credit =
            self.state.points.credit(verification_id, &user.id, points, at_ms).await.expect("credit");
        credit.total
    }

    /// `(rank, total)` from `GET /rankings/me`.
    pub async fn my_rank(&self, caller: &Caller) -> (Option<u64>, i64) {
        let body = self.get_json(caller, "/rankings/me").await;
        (body["rank"].as_u64(), body["total"].as_i64().expect("total"))
    }

    /// Opens the caller's event stream here.
    pub async fn stream(&self, caller: &Caller, last_event_id: Option<&str>) -> SseStream {
        SseStream::open(&self.http, &self.api("/notifications/stream"), &caller.token, last_event_id).await
    }

    /// Waits until this instance has `count` streams open for the caller (a stream is registered
    /// before its response headers are sent, but the test should not rely on timing).
    pub async fn wait_for_streams(&self, caller: &Caller, count: usize) {
        for _ in 0..200 {
            if self.state.notifier.streams_of(&caller.id) == count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("expected {count} open streams");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A fresh deployment with one instance.
pub async fn start(mode: Mode) -> (Node, Deployment) {
    let deployment = Deployment::new(mode).await;
    (Node::start(&deployment).await, deployment)
}
