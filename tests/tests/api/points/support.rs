//! Servers with their application state at hand (one or several instances of a deployment),
//! users made through the store with tokens from the server's own token service (sign-up's
//! argon2 would dominate hundreds of users), and event streams.

use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;
use weatherwise::app::AppState;
use weatherwise_tests::sse::SseStream;
use weatherwise_tests::{Deployment, Instance, Mode};

pub type Caller = weatherwise_tests::StoredUser;

/// One running instance of a deployment.
pub struct Node {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    _instance: Instance,
}

impl Node {
    pub async fn start(deployment: &Deployment) -> Self {
        let instance = Instance::start(&deployment.config).await.expect("the application starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()
            .expect("client");
        Self { base: instance.api_base(), http, state: instance.state.clone(), _instance: instance }
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A user with this nickname, stored directly, and an access token for them.
    pub async fn user_named(&self, nickname: &str) -> Caller {
        weatherwise_tests::stored_user(&self.state, Some(nickname)).await.expect("create user")
    }

    pub async fn user(&self) -> Caller {
        weatherwise_tests::stored_user(&self.state, None).await.expect("create user")
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

/// A fresh deployment with one instance.
pub async fn start(mode: Mode) -> (Node, Deployment) {
    let deployment = Deployment::new(mode).await;
    (Node::start(&deployment).await, deployment)
}
