//! The server under test with its application state, and helpers to act as its users.

use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;
use weatherwise::app::AppState;
use weatherwise_tests::{Deployment, Instance, Mode};

/// A user of the server and an access token issued for them by the server's token service.
pub type Caller = weatherwise_tests::StoredUser;

/// The real server on port 0, like `TestApp`, plus its [`AppState`].
pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
    pub state: AppState,
    _instance: Instance,
    _deployment: Deployment,
}

impl Server {
    pub async fn start(mode: Mode) -> Self {
        let deployment = Deployment::new(mode).await;
        let instance = Instance::start(&deployment.config).await.expect("the application starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(600)
            .build()
            .expect("client");
        Self {
            base: instance.api_base(),
            http,
            state: instance.state.clone(),
            _instance: instance,
            _deployment: deployment,
        }
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A user stored directly, with a token from the server's own token service.
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

    pub async fn post(&self, caller: &Caller, path: &str, body: &Value) -> reqwest::Response {
        self.http.post(self.api(path)).bearer_auth(&caller.token).json(body).send().await.expect("request")
    }

    pub async fn delete(&self, caller: &Caller, path: &str) -> reqwest::Response {
        self.http.delete(self.api(path)).bearer_auth(&caller.token).send().await.expect("request")
    }

    /// Creates a post and returns it as the server answered.
    pub async fn create_post(&self, caller: &Caller, title: &str, lat: f64, lon: f64) -> Value {
        let body = serde_json::json!({ "title": title, "body": "본문", "lat": lat, "lon": lon });
        let response = self.post(caller, "/posts", &body).await;
        assert_eq!(response.status(), 201, "create post");
        response.json().await.expect("json")
    }

    /// `PUT /posts/{id}/vote` with `Some(value)` or `DELETE` it with `None`.
    pub async fn vote(&self, caller: &Caller, post_id: &str, vote: Option<&str>) -> reqwest::Response {
        let url = self.api(&format!("/posts/{post_id}/vote"));
        let request = match vote {
            Some(vote) => self.http.put(url).json(&serde_json::json!({ "vote": vote })),
            None => self.http.delete(url),
        };
        request.bearer_auth(&caller.token).send().await.expect("request")
    }
}

/// The reference distance the listing must agree with: haversine on a sphere of the mean
/// Earth radius, written out independently of the server's.
pub fn reference_distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().asin()
}

/// The point `distance_m` from (lat, lon) along `bearing` (radians), on the same sphere.
pub fn destination(lat: f64, lon: f64, bearing: f64, distance_m: f64) -> (f64, f64) {
    const R: f64 = 6_371_008.8;
    let angular = distance_m / R;
    let p1 = lat.to_radians();
    let p2 = (p1.sin() * angular.cos() + p1.cos() * angular.sin() * bearing.cos()).asin();
    let l2 = lon.to_radians()
        + (bearing.sin() * angular.sin() * p1.cos()).atan2(angular.cos() - p1.sin() * p2.sin());
    (p2.to_degrees(), l2.to_degrees())
}

/// Every page of a listing, following `next_cursor`; returns the posts in order.
pub async fn walk(server: &Server, caller: &Caller, first: &str) -> Vec<Value> {
    let mut posts = Vec::new();
    let mut path = first.to_owned();
    for _ in 0..10_000 {
        let page = server.get_json(caller, &path).await;
        posts.extend(page["posts"].as_array().expect("posts").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{first}&cursor={cursor}"),
            None => return posts,
        }
    }
    panic!("the listing never ended");
}
