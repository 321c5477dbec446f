//! Requests to a [`TestApp`]: anonymous or as a [`Session`], and the calls many tests make
//! (posts and votes, points, event streams).

use crate::sse::SseStream;
use crate::{Session, TestApp};
use serde_json::Value;
use std::time::Duration;

impl TestApp {
    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http.post(self.api(path)).json(body).send().await.expect("request")
    }

    /// `POST /api/v1{path}` with a JSON body, as the holder of `token`.
    pub async fn post_json_as(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.http.post(self.api(path)).bearer_auth(token).json(body).send().await.expect("request")
    }

    /// The JSON body of `GET /api/v1{path}` as the holder of `token`, whatever the status.
    pub async fn get_json_as(&self, token: &str, path: &str) -> Value {
        let response = self.http.get(self.api(path)).bearer_auth(token).send().await.expect("request");
        response.json().await.expect("json")
    }

    pub async fn get_me(&self, access_token: &str) -> reqwest::Response {
        self.http.get(self.api("/me")).bearer_auth(access_token).send().await.expect("request")
    }

    /// `GET /api/v1{path}` as `caller`.
    pub async fn get(&self, caller: &Session, path: &str) -> reqwest::Response {
        self.http.get(self.api(path)).bearer_auth(&caller.access).send().await.expect("request")
    }

    /// The JSON body of `GET /api/v1{path}` as `caller`, which must answer 200.
    pub async fn get_json(&self, caller: &Session, path: &str) -> Value {
        let response = self.get(caller, path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json")
    }

    /// `POST /api/v1{path}` with a JSON body as `caller`.
    pub async fn post(&self, caller: &Session, path: &str, body: &Value) -> reqwest::Response {
        self.post_json_as(&caller.access, path, body).await
    }

    /// `PUT /api/v1{path}` with a JSON body as `caller`.
    pub async fn put_json(&self, caller: &Session, path: &str, body: &Value) -> reqwest::Response {
        self.http.put(self.api(path)).bearer_auth(&caller.access).json(body).send().await.expect("request")
    }

    /// `DELETE /api/v1{path}` as `caller`.
    pub async fn delete(&self, caller: &Session, path: &str) -> reqwest::Response {
        self.http.delete(self.api(path)).bearer_auth(&caller.access).send().await.expect("request")
    }

    /// Creates a post and returns it as the server answered.
    pub async fn create_post(&self, caller: &Session, title: &str, lat: f64, lon: f64) -> Value {
        let body = serde_json::json!({ "title": title, "body": "본문", "lat": lat, "lon": lon });
        let response = self.post(caller, "/posts", &body).await;
        assert_eq!(response.status(), 201, "create post");
        response.json().await.expect("json")
    }

    /// `PUT /posts/{id}/vote` with `Some(value)` or `DELETE` it with `None`.
    pub async fn vote(&self, caller: &Session, post_id: &str, vote: Option<&str>) -> reqwest::Response {
        let url = self.api(&format!("/posts/{post_id}/vote"));
        let request = match vote {
            Some(vote) => self.http.put(url).json(&serde_json::json!({ "vote": vote })),
            None => self.http.delete(url),
        };
        request.bearer_auth(&caller.access).send().await.expect("request")
    }

    /// Credits through the server's own points service, as the verification code does;
    /// returns the new total.
    pub async fn credit(&self, verification_id: &str, user: &Session, points: i64, at_ms: i64) -> i64 {
        let credit =
            self.state().points.credit(verification_id, &user.user_id, points, at_ms).await.expect("credit");
        credit.total
    }

    /// `(rank, total)` from `GET /rankings/me`.
    pub async fn my_rank(&self, caller: &Session) -> (Option<u64>, i64) {
        let body = self.get_json(caller, "/rankings/me").await;
        (body["rank"].as_u64(), body["total"].as_i64().expect("total"))
    }

    /// Opens the caller's event stream here.
    pub async fn stream(&self, caller: &Session, last_event_id: Option<&str>) -> SseStream {
        SseStream::open(&self.http, &self.api("/notifications/stream"), &caller.access, last_event_id).await
    }

    /// Waits until this instance has `count` streams open for the caller (a stream is registered
    /// before its response headers are sent, but the test should not rely on timing).
    pub async fn wait_for_streams(&self, caller: &Session, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while self.state().notifier.streams_of(&caller.user_id) != count {
            assert!(tokio::time::Instant::now() < deadline, "expected {count} open streams within 5 s");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
