//! A local stand-in for Kakao's OAuth and user endpoints, speaking their real formats:
//! form-encoded token requests, `invalid_grant`/`KOE320` errors, `/v2/user/me` with
//! `kakao_account.profile`, and `{"msg","code":-401}` for a bad token.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "fake-rest-api-key";
pub const REDIRECT_URI: &str = "http://localhost/api/v1/auth/kakao/callback";

#[derive(Debug, Clone)]
pub struct KakaoUser {
    pub id: i64,
    pub nickname: String,
    pub email: Option<String>,
}

#[derive(Default)]
struct Inner {
    /// Authorization code → user, each code usable once.
    codes: HashMap<String, KakaoUser>,
    /// Access token → user.
    tokens: HashMap<String, KakaoUser>,
    token_requests: Vec<HashMap<String, String>>,
}

#[derive(Clone, Default)]
pub struct FakeKakao {
    inner: Arc<Mutex<Inner>>,
    pub address: Option<SocketAddr>,
}

impl FakeKakao {
    pub async fn start() -> Self {
        let mut fake = Self::default();
        let router = Router::new()
            .route("/oauth/token", post(token))
            .route("/v2/user/me", get(user_me))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake Kakao");
        fake.address = Some(listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        fake
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.address.expect("started"))
    }

    /// The user "logs in" at Kakao; returns the code Kakao would append to the redirect.
    pub fn issue_code(&self, user: KakaoUser) -> String {
        let code = format!("code-{}", uuid::Uuid::new_v4().simple());
        self.inner.lock().expect("lock").codes.insert(code.clone(), user);
        code
    }

    pub fn token_requests(&self) -> Vec<HashMap<String, String>> {
        self.inner.lock().expect("lock").token_requests.clone()
    }
}

async fn token(State(fake): State<FakeKakao>, headers: HeaderMap, body: String) -> Response {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return (StatusCode::BAD_REQUEST, Json(json!({"error":"invalid_request","error_description":"bad content type","error_code":"KOE010"}))).into_response();
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let mut inner = fake.inner.lock().expect("lock");
    inner.token_requests.push(form.clone());
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    if field("grant_type") != "authorization_code"
        || field("client_id") != CLIENT_ID
        || field("redirect_uri") != REDIRECT_URI
    {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error":"invalid_client","error_description":"Bad client credentials","error_code":"KOE101"}))).into_response();
    }
    let Some(user) = inner.codes.remove(field("code")) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "error": "invalid_grant",
                "error_description": format!("authorization code not found for code={}", field("code")),
                "error_code": "KOE320"
            })),
        )
            .into_response();
    };
    let access_token = format!("kakao-at-{}", uuid::Uuid::new_v4().simple());
    inner.tokens.insert(access_token.clone(), user);
    Json(json!({
        "token_type": "bearer",
        "access_token": access_token,
        "expires_in": 21599,
        "refresh_token": format!("kakao-rt-{}", uuid::Uuid::new_v4().simple()),
        "refresh_token_expires_in": 5183999,
        "scope": "profile_nickname account_email"
    }))
    .into_response()
}

async fn user_me(State(fake): State<FakeKakao>, headers: HeaderMap) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let inner = fake.inner.lock().expect("lock");
    let Some(user) = inner.tokens.get(token) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"msg":"this access token does not exist","code":-401})),
        )
            .into_response();
    };
    let mut account = json!({
        "profile_nickname_needs_agreement": false,
        "profile": {
            "nickname": user.nickname,
            "thumbnail_image_url": "http://k.kakaocdn.net/dn/thumb.jpg",
            "profile_image_url": "http://k.kakaocdn.net/dn/img.jpg",
            "is_default_image": false
        }
    });
    if let Some(email) = &user.email {
        account["has_email"] = json!(true);
        account["email_needs_agreement"] = json!(false);
        account["is_email_valid"] = json!(true);
        account["is_email_verified"] = json!(true);
        account["email"] = json!(email);
    }
    Json(json!({
        "id": user.id,
        "connected_at": "2026-11-23T12:00:00Z",
        "properties": { "nickname": user.nickname },
        "kakao_account": account
    }))
    .into_response()
}
