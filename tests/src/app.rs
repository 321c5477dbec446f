//! `TestApp`: one running instance of the real server on port 0, inside the test process (its
//! application state at hand) or as a process of its own, and the users acting on it.

use crate::server_process::ServerProcess;
use crate::{Deployment, Mode, Session};
use futures::StreamExt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use weatherwise::accounts::NewUser;
use weatherwise::accounts::nickname::Nickname;
use weatherwise::app::{App, AppState};
use weatherwise::auth::sessions::new_refresh_token;
use weatherwise::config::Config;

pub struct TestApp {
    pub address: SocketAddr,
    pub base: String,
    pub http: reqwest::Client,
    server: Server,
    _data_dir: Arc<tempfile::TempDir>,
}

enum Server {
    InProcess {
        state: AppState,
        stop: Option<oneshot::Sender<()>>,
        task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    },
    Process(ServerProcess),
}

impl TestApp {
    /// A single instance, in the test process, of a fresh deployment.
    pub async fn spawn(mode: Mode) -> Self {
        Deployment::new(mode).await.start().await
    }

    /// A fresh deployment after `adjust` edits its configuration.
    pub async fn spawn_with(mode: Mode, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut deployment = Deployment::new(mode).await;
        adjust(&mut deployment.config);
        deployment.start().await
    }

    pub(crate) async fn start_in_process(config: Config, data_dir: Arc<tempfile::TempDir>) -> Self {
        weatherwise::telemetry::init(&config.log);
        let app = App::build(config).await.expect("the application starts");
        let state = app.state().clone();
        let listener = app.bind().await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        let server = Server::InProcess { state, stop: Some(stop), task: Some(task) };
        Self::new(address, server, data_dir)
    }

    pub(crate) async fn start_process(config: &Config, data_dir: Arc<tempfile::TempDir>) -> Self {
        let (process, address) = ServerProcess::start(config).await;
        Self::new(address, Server::Process(process), data_dir)
    }

    fn new(address: SocketAddr, server: Server, data_dir: Arc<tempfile::TempDir>) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            // Tests race hundreds of users at once; their connections are kept for reuse.
            .pool_max_idle_per_host(600)
            .build()
            .expect("client");
        Self { address, base: format!("http://{address}"), http, server, _data_dir: data_dir }
    }

    /// The application state of a server running in the test process: the one way tests reach
    /// the server's stores and services.
    pub fn state(&self) -> &AppState {
        match &self.server {
            Server::InProcess { state, .. } => state,
            Server::Process(_) => panic!("a server in a process of its own has no state at hand"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// Graceful shutdown; returns what `serve` returned (or, for a process, how it exited).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        match &mut self.server {
            Server::InProcess { stop, task, .. } => {
                if let Some(stop) = stop.take() {
                    let _ = stop.send(());
                }
                match task.take() {
                    Some(task) => task.await?,
                    None => Ok(()),
                }
            }
            Server::Process(process) => process.terminate().await,
        }
    }

    /// Kills the server's process with SIGKILL and waits until it is gone.
    pub async fn kill(&mut self) {
        match &mut self.server {
            Server::Process(process) => process.kill().await,
            Server::InProcess { .. } => panic!("only a server in a process of its own can be killed"),
        }
    }

    /// The peak resident memory of a server in a process of its own, in MiB.
    pub fn peak_memory_mib(&self) -> u64 {
        match &self.server {
            Server::Process(process) => process.peak_memory_kib() / 1024,
            Server::InProcess { .. } => panic!("a server inside the test process cannot be measured alone"),
        }
    }

    /// The server's `/metrics` exposition (see [`crate::metric`] to read one).
    pub async fn metrics(&self) -> String {
        let response = self.http.get(self.url("/metrics")).send().await.expect("GET /metrics");
        assert_eq!(response.status(), 200, "GET /metrics");
        response.text().await.expect("metrics text")
    }

    /// Signs up a fresh random user through the API (paying argon2's cost).
    pub async fn new_user(&self) -> Session {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let email = format!("user-{tag}@example.com");
        let password = "correct horse battery".to_string();
        let response = self.signup(&email, &password, &format!("u{tag}")).await;
        assert_eq!(response.status(), 201, "sign-up failed");
        let body: Value = response.json().await.expect("json");
        Session::from_tokens(&body, email, password)
    }

    /// A user stored straight through the server's own store, with an access token from the
    /// server's own token service: what sign-up gives, without argon2's deliberate cost (tests
    /// with hundreds of users would spend their time hashing passwords).
    pub async fn user(&self) -> Session {
        self.stored_user(None).await
    }

    /// A stored user (see [`TestApp::user`]) with this nickname.
    pub async fn user_named(&self, nickname: &str) -> Session {
        self.stored_user(Some(nickname)).await
    }

    /// `count` stored users (see [`TestApp::user`]).
    pub async fn users(&self, count: usize) -> Vec<Session> {
        futures::stream::iter(0..count).map(|_| self.user()).buffer_unordered(16).collect().await
    }

    async fn stored_user(&self, nickname: Option<&str>) -> Session {
        let state = self.state();
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let nickname = nickname.map_or_else(|| format!("u{}", &tag[..10]), str::to_owned);
        let nickname = Nickname::parse(&nickname).unwrap_or_else(|why| panic!("nickname {nickname}: {why}"));
        let email = format!("{tag}@example.com");
        let user = state
            .auth
            .users
            .create(NewUser {
                email: Some(email.clone()),
                nickname: nickname.display.clone(),
                nickname_key: nickname.key,
                password_hash: None,
                kakao_id: None,
            })
            .await
            .expect("create user");
        let (_, refresh_hash) = new_refresh_token();
        let session = state
            .auth
            .sessions
            .open(&user.id, &refresh_hash, 3_600_000)
            .await
            .expect("open a session")
            .expect("the user exists");
        let (token, _) = state.auth.tokens.issue(&user.id, "user", &session).expect("issue a token");
        Session::stored(user.id, nickname.display, email, token)
    }

    pub async fn signup(&self, email: &str, password: &str, nickname: &str) -> reqwest::Response {
        self.post_json("/auth/signup", &json!({ "email": email, "password": password, "nickname": nickname }))
            .await
    }

    /// Logs in and returns the token pair (or whatever the server answered) as JSON.
    pub async fn login_json(&self, email: &str, password: &str) -> Value {
        let body = json!({ "email": email, "password": password });
        self.post_json("/auth/login", &body).await.json().await.expect("json")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // A process is killed when its handle drops.
        if let Server::InProcess { stop, .. } = &mut self.server
            && let Some(stop) = stop.take()
        {
            let _ = stop.send(());
        }
    }
}
