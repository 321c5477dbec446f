//! One deployment: the configuration every instance of it shares, and its private backends.

use crate::{Mode, Session, TEST_JWT_KID, TEST_JWT_SECRET, TestApp};
use crate::{fresh_postgres_database, kafka_brokers, redis_url, s3_files_config};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use weatherwise::accounts::Role;
use weatherwise::config::{Config, JwtKey, RateLimit, Secret};

/// One deployment's configuration: a private data directory, and in the scaled mode a private
/// PostgreSQL database, Redis key prefix, Kafka topic prefix and S3 key prefix. Start it again
/// for a second instance of the same deployment, or for a restart.
pub struct Deployment {
    pub config: Config,
    pub data_dir: Arc<tempfile::TempDir>,
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
        config.rate_limits.login_per_account_from_ip = generous;
        config.rate_limits.login_per_account = generous;
        config.rate_limits.signup_per_ip = generous;
        config.rate_limits.signup_per_account = generous;
        config.rate_limits.password_check_per_account = generous;
        config.rate_limits.photo_uploads_per_user = generous;
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
        Self { config, data_dir: Arc::new(data_dir) }
    }

    /// A signed-up user with the admin role (granted as `weatherwise admin grant` does).
    pub async fn admin(&self, app: &TestApp) -> Session {
        let user = app.new_user().await;
        self.set_role(&user.email, Role::Admin).await;
        let body: Value = app.login_json(&user.email, user.password()).await;
        Session::from_tokens(&body, user.email.clone(), user.password().to_owned())
    }

    /// Sets a user's role from outside the server, as `weatherwise admin grant|revoke` does.
    pub async fn set_role(&self, email: &str, role: Role) {
        use weatherwise::accounts::UserStore as _;
        let db = weatherwise::db::Database::connect(&self.config.database_url(), 1).await.expect("db");
        let users = weatherwise::accounts::SqlUsers::new(db.clone());
        assert!(users.set_role_by_email(email, role).await.expect("set role"), "no user {email}");
        db.close().await;
    }

    /// `count` users stored straight in this deployment's database, each with an access token
    /// of its signing key: what [`TestApp::user`] gives, for a server in a process of its own
    /// (whose memory a test measures: sign-up's argon2 would weigh in it).
    pub async fn stored_users(&self, count: usize) -> Vec<Session> {
        use weatherwise::accounts::{NewUser, SqlUsers, UserStore as _};
        use weatherwise::auth::sessions::{SessionStore as _, SqlSessions, new_refresh_token};
        let db = weatherwise::db::Database::connect(&self.config.database_url(), 2).await.expect("db");
        let tokens = weatherwise::auth::tokens::TokenService::from_config(&self.config.auth, &db)
            .await
            .expect("tokens");
        let users = SqlUsers::new(db.clone());
        let mut sessions = Vec::new();
        for _ in 0..count {
            let tag = uuid::Uuid::new_v4().simple().to_string();
            let (nickname, email) = (format!("u{}", &tag[..10]), format!("{tag}@example.com"));
            let user = users
                .create(NewUser {
                    email: Some(email.clone()),
                    nickname: nickname.clone(),
                    nickname_key: nickname.clone(),
                    password_hash: None,
                    kakao_id: None,
                })
                .await
                .expect("create user");
            let (_, refresh_hash) = new_refresh_token();
            let session = SqlSessions::new(db.clone())
                .open(&user.id, &refresh_hash, 3_600_000)
                .await
                .expect("open a session")
                .expect("the user exists");
            let (token, _) = tokens.issue(&user.id, "user", &session).expect("issue a token");
            sessions.push(Session::stored(user.id, nickname, email, token));
        }
        db.close().await;
        sessions
    }

    /// Gives each user a mission approved today (Asia/Seoul), as a verification that passed
    /// would: what makes a user eligible for coupons, set up without photos and a model.
    pub async fn approve_a_mission_today(&self, users: &[Session]) {
        let db = weatherwise::db::Database::connect(&self.config.database_url(), 2).await.expect("db");
        let now = weatherwise::db::now_ms();
        let today = weatherwise::weather::time::seoul_date(now).to_string();
        for user in users {
            sqlx::query(
                "insert into missions (id, user_id, local_date, slot, key, title, description, points, \
                 rubric, outdoor, language, state, attempts, created_at, updated_at) \
                 values ($1, $2, $3, 'morning', 'bring-a-cup', 'Bring a cup', 'A reusable cup today.', 10, \
                 'A reusable cup.', 0, 'en', 'approved', 1, $4, $4)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&user.user_id)
            .bind(&today)
            .bind(now)
            .execute(db.pool())
            .await
            .expect("an approved mission");
        }
        db.close().await;
    }

    /// Runs the `weatherwise` command line against this deployment (`coupons check`, …).
    pub async fn command(&self, args: &[&str]) -> std::process::Output {
        crate::server_process::run_command(&self.config, args).await
    }

    /// Starts one instance of this deployment inside the test process, its state at hand.
    pub async fn start(&self) -> TestApp {
        TestApp::start_in_process(self.config.clone(), self.data_dir.clone()).await
    }

    /// Starts one instance of this deployment as a process of its own (the `weatherwise`
    /// binary), which a test can kill outright or measure alone.
    pub async fn start_process(&self) -> TestApp {
        TestApp::start_process(&self.config, self.data_dir.clone()).await
    }
}
