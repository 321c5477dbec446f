//! Test support: the real server on a random port, in either run mode, and local fakes of the
//! outside services it talks to.
//!
//! Scaled-mode tests need PostgreSQL, Redis, a Kafka-protocol broker and an S3-compatible
//! object store; their addresses come from `WEATHERWISE_TEST_POSTGRES`, `WEATHERWISE_TEST_REDIS`,
//! `WEATHERWISE_TEST_KAFKA` and `WEATHERWISE_TEST_S3` (loopback defaults). A missing service
//! fails the test: nothing is skipped.

pub mod fake_kakao;
pub mod fake_vision;
pub mod fake_weather;
pub mod photos;
pub mod sse;

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use weatherwise::accounts::NewUser;
use weatherwise::accounts::nickname::Nickname;
use weatherwise::app::{App, AppState};
use weatherwise::config::{Config, JwtKey, RateLimit, Secret};

/// The signing key every test server uses, so tests can forge tokens of their own.
pub const TEST_JWT_KID: &str = "test-1";
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Embedded,
    Scaled,
}

/// Runs each named `async fn(Mode)` as two tests, `embedded::name` and `scaled::name`.
#[macro_export]
macro_rules! both_modes {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Mode::Embedded).await
                }
            )*
        }
        mod scaled {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Mode::Scaled).await
                }
            )*
        }
    };
}

pub fn postgres_server_url() -> String {
    std::env::var("WEATHERWISE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub fn redis_url() -> String {
    std::env::var("WEATHERWISE_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
}

pub fn kafka_brokers() -> String {
    std::env::var("WEATHERWISE_TEST_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// The S3-compatible server of the scaled-mode tests (moto, started by `scripts/services.sh`).
pub fn s3_endpoint() -> String {
    std::env::var("WEATHERWISE_TEST_S3").unwrap_or_else(|_| "http://127.0.0.1:9000".into())
}

/// The bucket every scaled-mode test shares, each under a key prefix of its own.
pub const TEST_BUCKET: &str = "weatherwise-test";

/// `[files]` for the S3 store under a fresh prefix of [`TEST_BUCKET`], which is created first
/// if missing.
pub async fn s3_files_config() -> weatherwise::config::FilesConfig {
    ensure_test_bucket().await;
    weatherwise::config::FilesConfig {
        url: format!("s3://{TEST_BUCKET}/t-{}", uuid::Uuid::new_v4().simple()),
        endpoint: Some(s3_endpoint()),
        region: "us-east-1".into(),
        access_key_id: Some(Secret::new("test".into())),
        secret_access_key: Some(Secret::new("test".into())),
    }
}

/// Creates [`TEST_BUCKET`] once per process. The local server takes unsigned requests; an
/// existing bucket is fine.
async fn ensure_test_bucket() {
    static CREATED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    CREATED
        .get_or_init(|| async {
            let endpoint = s3_endpoint();
            let response =
                reqwest::Client::new().put(format!("{endpoint}/{TEST_BUCKET}")).send().await.unwrap_or_else(
                    |err| panic!("the S3-compatible server must be running at {endpoint}: {err}"),
                );
            let status = response.status().as_u16();
            assert!(status == 200 || status == 409, "creating bucket {TEST_BUCKET}: HTTP {status}");
        })
        .await;
}

/// A fresh, empty PostgreSQL database; returns its URL.
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let server = postgres_server_url();
    let name = format!("ww_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap_or_else(|err| panic!("PostgreSQL must be running at {server}: {err}"));
    // The name is generated above from a UUID, never from input.
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    format!("{server}/{name}")
}

/// One deployment's configuration: a private data directory, and in the scaled mode a private
/// PostgreSQL database, Redis key prefix and Kafka topic prefix. Clone it to start a second
/// instance of the same deployment.
pub struct Deployment {
    pub config: Config,
    pub data_dir: std::sync::Arc<tempfile::TempDir>,
}

impl Deployment {
    pub async fn new(mode: Mode) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config { data_dir: data_dir.path().to_path_buf(), ..Config::default() };
        config.http.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.http.shutdown_grace_secs = 2;
        config.auth.jwt_keys =
            vec![JwtKey { kid: TEST_JWT_KID.into(), secret: Secret::new(TEST_JWT_SECRET.into()) }];
        // Generous limits: tests about limits set their own.
        let generous = RateLimit { limit: 100_000, window_secs: 60 };
        config.rate_limits.login_per_ip = generous;
        config.rate_limits.login_per_account = generous;
        config.rate_limits.signup_per_ip = generous;
        config.rate_limits.signup_per_account = generous;
        config.log.filter = "warn".into();
        if mode == Mode::Scaled {
            let unique = uuid::Uuid::new_v4().simple().to_string();
            config.database.url = Some(Secret::new(fresh_postgres_database().await));
            config.state.url = Secret::new(redis_url());
            config.state.key_prefix = format!("wwtest:{unique}:");
            config.bus.url = format!("kafka://{}", kafka_brokers());
            config.bus.topic_prefix = format!("wwtest.{unique}.");
            config.files = s3_files_config().await;
        }
        Self { config, data_dir: std::sync::Arc::new(data_dir) }
    }

    /// A signed-up user with the admin role (granted as `weatherwise admin grant` does).
    pub async fn admin(&self, app: &TestApp) -> Session {
        use weatherwise::accounts::UserStore as _;
        let user = app.new_user().await;
        let db = weatherwise::db::Database::connect(&self.config.database_url(), 1).await.expect("db");
        let users = weatherwise::accounts::SqlUsers::new(db.clone());
        assert!(
            users.set_role_by_email(&user.email, weatherwise::accounts::Role::Admin).await.expect("grant")
        );
        db.close().await;
        let body: Value = app.login_json(&user.email, &user.password).await;
        Session::from_tokens(&body, user.email, user.password)
    }

    /// Starts one instance of this deployment.
    pub async fn start(&self) -> TestApp {
        TestApp::start(self.config.clone(), self.data_dir.clone()).await
    }
}

pub struct TestApp {
    pub address: SocketAddr,
    pub base: String,
    pub http: reqwest::Client,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _data_dir: std::sync::Arc<tempfile::TempDir>,
}

impl TestApp {
    /// A single instance with a fresh deployment.
    pub async fn spawn(mode: Mode) -> Self {
        Deployment::new(mode).await.start().await
    }

    /// A fresh deployment after `adjust` edits its configuration.
    pub async fn spawn_with(mode: Mode, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut deployment = Deployment::new(mode).await;
        adjust(&mut deployment.config);
        deployment.start().await
    }

    async fn start(config: Config, data_dir: std::sync::Arc<tempfile::TempDir>) -> Self {
        weatherwise::telemetry::init(&config.log);
        let app = App::build(config).await.expect("the application starts");
        let state = app.state().clone();
        let listener = app.bind().await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()
            .expect("client");
        Self {
            address,
            base: format!("http://{address}"),
            http,
            state,
            stop: Some(stop),
            server: Some(server),
            _data_dir: data_dir,
        }
    }

    /// The running server's domain states, for tests that reach into its services.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// Graceful shutdown; returns what `serve` returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(server) => server.await?,
            None => Ok(()),
        }
    }

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

    pub async fn signup(&self, email: &str, password: &str, nickname: &str) -> reqwest::Response {
        self.post_json("/auth/signup", &json!({ "email": email, "password": password, "nickname": nickname }))
            .await
    }

    /// Signs up a fresh random user and returns the token pair.
    pub async fn new_user(&self) -> Session {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let email = format!("user-{tag}@example.com");
        let password = "correct horse battery".to_string();
        let response = self.signup(&email, &password, &format!("u{tag}")).await;
        assert_eq!(response.status(), 201, "sign-up failed");
        let body: Value = response.json().await.expect("json");
        Session::from_tokens(&body, email, password)
    }

    /// Logs in and returns the token pair (or whatever the server answered) as JSON.
    pub async fn login_json(&self, email: &str, password: &str) -> Value {
        let body = json!({ "email": email, "password": password });
        self.post_json("/auth/login", &body).await.json().await.expect("json")
    }

    pub async fn get_me(&self, access_token: &str) -> reqwest::Response {
        self.http.get(self.api("/me")).bearer_auth(access_token).send().await.expect("request")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
    pub email: String,
    pub password: String,
}

impl Session {
    pub fn from_tokens(body: &Value, email: String, password: String) -> Self {
        Self {
            access: body["access_token"].as_str().expect("access_token").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh_token").to_owned(),
            user_id: body["user"]["id"].as_str().expect("user.id").to_owned(),
            email,
            password,
        }
    }
}

/// A component built by `host/build.rs` into `target/plugins` (bundled or test-only).
pub fn component(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/plugins/wasm32-wasip2/plugin")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err} (built by host/build.rs)", path.display()))
}

/// The Python example plugin (`plugins/generator-python`), built by `tests/build.rs` with the
/// pinned componentize-py. Fails, saying why, when it could not be built: never skipped.
pub fn python_component() -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugins/python");
    let path = dir.join("generator_python.wasm");
    std::fs::read(&path).unwrap_or_else(|err| {
        let why = std::fs::read_to_string(dir.join("generator_python.problem"))
            .unwrap_or_else(|_| "tests/build.rs has not run (build the tests crate)".into());
        panic!("{}: {err}\n{why}", path.display())
    })
}

/// Reads a response that must be a problem document with `status` and `code`; returns it.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(content_type, "application/problem+json", "not a problem document");
    let request_id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body: Value = response.json().await.expect("problem json");
    assert_eq!(body["code"], code, "problem code in {body}");
    assert_eq!(body["status"], status);
    assert!(body["type"].as_str().is_some_and(|t| t.ends_with(code)), "type in {body}");
    assert!(body["title"].is_string());
    assert!(request_id.is_some(), "x-request-id header");
    assert_eq!(body["request_id"].as_str(), request_id.as_deref(), "request id in body matches header");
    body
}

/// A user stored straight through the server's own store, with an access token from the
/// server's own token service.
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub id: String,
    pub nickname: String,
    pub token: String,
}

/// What sign-up gives, without argon2's deliberate cost: tests and benchmarks with hundreds of
/// users would spend their time hashing passwords. A unique nickname when `nickname` is `None`.
pub async fn stored_user(state: &AppState, nickname: Option<&str>) -> anyhow::Result<StoredUser> {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let nickname = match nickname {
        Some(nickname) => nickname.to_owned(),
        None => format!("u{}", &tag[..10]),
    };
    let nickname = Nickname::parse(&nickname).map_err(|why| anyhow::anyhow!("nickname {nickname}: {why}"))?;
    let user = state
        .auth
        .users
        .create(NewUser {
            email: Some(format!("{tag}@example.com")),
            nickname: nickname.display.clone(),
            nickname_key: nickname.key,
            password_hash: None,
            kakao_id: None,
        })
        .await?;
    let session = uuid::Uuid::now_v7().to_string();
    let (token, _) = state.auth.tokens.issue(&user.id, "user", &session)?;
    Ok(StoredUser { id: user.id, nickname: nickname.display, token })
}

/// One instance serving on port 0 with its application state at hand, for tests that reach
/// into the stores; asked to stop when dropped.
pub struct Instance {
    pub address: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
}

impl Instance {
    pub async fn start(config: &Config) -> anyhow::Result<Self> {
        weatherwise::telemetry::init(&config.log);
        let app = App::build(config.clone()).await?;
        let state = app.state().clone();
        let listener = app.bind().await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        Ok(Self { address, state, stop: Some(stop) })
    }

    /// The API's base URL, without a trailing slash.
    pub fn api_base(&self) -> String {
        format!("http://{}/api/v1", self.address)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
