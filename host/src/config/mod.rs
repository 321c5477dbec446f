//! One typed configuration, loaded once at start-up.
//!
//! Precedence: built-in defaults < `weatherwise.toml` (or `--config FILE`) < environment
//! variables named `WEATHERWISE_SECTION__KEY` (for example `WEATHERWISE_DATABASE__URL`).
//! Adapters are chosen by the scheme of their URL, so the embedded mode is simply the defaults.

mod secret;

pub use secret::Secret;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The port `weatherwise serve` listens on when nothing else is configured.
pub const DEFAULT_PORT: u16 = 8080;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the embedded mode keeps its database and files.
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub state: StateConfig,
    pub bus: BusConfig,
    pub auth: AuthConfig,
    pub rate_limits: RateLimitConfig,
    pub kakao: KakaoConfig,
    pub vision: VisionConfig,
    pub files: FilesConfig,
    pub photos: PhotosConfig,
    pub verification: VerificationConfig,
    /// The budget of every plugin call.
    pub plugins: crate::plugins::Limits,
    pub log: LogConfig,
    pub weather: crate::weather::WeatherConfig,
    pub notifications: crate::notifications::NotificationsConfig,
    /// Where weather warnings come from.
    pub alerts: crate::weather::alerts::AlertsConfig,
    /// The alert chat rooms and their STOMP endpoint.
    pub chat: crate::chat::ChatConfig,
    /// The coupon claim path's own budget.
    pub coupons: crate::coupons::CouponsConfig,
    /// Who may read `/metrics` and `/readyz`.
    pub ops: crate::ops::OpsConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// Largest accepted request body for JSON endpoints.
    pub max_body_bytes: usize,
    /// Whole-request deadline; a slower request is answered 408.
    pub request_timeout_secs: u64,
    /// A request's headers must be complete within this long of their first byte; a client
    /// that trickles them is disconnected. Default 10.
    pub header_read_timeout_secs: u64,
    /// A connection with no request in progress on which no byte moves either way for this
    /// long is closed: kept-alive connections nobody uses, connections that never send a byte,
    /// answers the client stopped reading. Default 60.
    pub idle_timeout_secs: u64,
    /// Connections served at once. Past it the server stops accepting, so new connections wait
    /// in the listen backlog until one closes. Keep it below the process's file-descriptor
    /// limit, which the database, Redis and Kafka connections share. Default 4096.
    pub max_connections: usize,
    /// Connections the kernel completes and queues before the server accepts them. A burst of
    /// connections beyond it overflows the queue: the kernel answers the excess with SYN
    /// cookies and drops their handshakes, leaving clients that believe they are connected to
    /// a server that never hears of them. Capped by the kernel (`net.core.somaxconn`).
    /// Default 4096.
    pub listen_backlog: u32,
    /// Take the client address from `X-Forwarded-For` when the connection comes from one of
    /// `trusted_proxies`: the rightmost address that is not a trusted proxy is the client.
    pub trust_forwarded_for: bool,
    /// The proxies whose `X-Forwarded-For` entries are believed: addresses or CIDR ranges.
    /// Default: loopback and the private ranges (10/8, 172.16/12, 192.168/16, fc00::/7).
    pub trusted_proxies: Vec<String>,
    /// How long graceful shutdown waits for in-flight requests.
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// The database's URL, whose scheme picks the engine (see `db::Engine`); empty means the
    /// embedded database in the data directory (`db::embedded_url`).
    pub url: Option<Secret<String>>,
    /// The pool's size. Default 32: room for `coupons.claim_concurrency` claims and the rest.
    pub max_connections: u32,
    /// Apply pending migrations when the server starts (otherwise run `weatherwise migrate`).
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// `memory://` (in-process) or `redis://host:port/db`.
    pub url: Secret<String>,
    /// Prefix for every key, so several deployments can share one Redis.
    pub key_prefix: String,
    /// `memory://` only: most entries held (rate-limit windows, cached vision answers and
    /// weather days, login states). Past it, expired entries go first, then the least recently
    /// used (session and profile entries are caches of the database, read again when dropped).
    /// Redis is bounded by its own `maxmemory`.
    pub memory_max_entries: usize,
    /// `memory://` only: most bytes held, counting keys, values and about 160 bytes per entry.
    pub memory_max_bytes: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// `memory://` (in-process) or `kafka://broker1:9092,broker2:9092`.
    pub url: String,
    /// Prefix for topic and consumer-group names.
    pub topic_prefix: String,
    /// Partitions for topics the host creates at start-up.
    pub partitions: i32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JwtKey {
    pub kid: String,
    /// HMAC-SHA256 secret, at least 32 bytes.
    pub secret: Secret<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    pub access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    /// Signing keys; the first signs, all verify (rotation). Empty: a key generated once and
    /// kept in the database, shared by every instance.
    pub jwt_keys: Vec<JwtKey>,
    /// Concurrent argon2id computations (each takes about 19 MiB); 0 means two per core.
    pub hash_concurrency: usize,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub limit: u64,
    pub window_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub login_per_ip: RateLimit,
    /// Login attempts naming one account from one client address. Keyed by both, so a guesser
    /// elsewhere cannot lock the owner out.
    pub login_per_account_from_ip: RateLimit,
    /// Login attempts naming one account from all addresses together: the ceiling for
    /// guessing spread over many addresses, far above what an owner ever reaches.
    pub login_per_account: RateLimit,
    pub signup_per_ip: RateLimit,
    /// Sign-up attempts naming one email address.
    pub signup_per_account: RateLimit,
    /// Password confirmations of one account (`PUT /me/password`, `DELETE /me`), right or
    /// wrong: a stolen access token cannot be used to guess the password.
    pub password_check_per_account: RateLimit,
    /// Photo uploads by one user, refused ones included (a refused photo costs the server as
    /// much as an accepted one up to the refusal).
    pub photo_uploads_per_user: RateLimit,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct KakaoConfig {
    /// REST API key; Kakao login is off while it is empty.
    pub client_id: Option<String>,
    pub client_secret: Option<Secret<String>>,
    pub redirect_uri: String,
    pub authorize_url: String,
    pub token_url: String,
    pub user_url: String,
    pub timeout_secs: u64,
    /// Largest answer read from Kakao (its answers are a few hundred bytes); reading stops at
    /// the first byte beyond it.
    pub max_response_bytes: usize,
}

/// The multimodal model that grades photos (any OpenAI-compatible `chat/completions`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct VisionConfig {
    /// For example `https://api.openai.com/v1` or `http://localhost:11434/v1`; grading is off
    /// (every policy request answered `unavailable`) while it is empty.
    pub base_url: Option<String>,
    pub model: String,
    pub api_key: Option<Secret<String>>,
    /// `low`, `high` or `auto`: how much of the photo the model looks at.
    pub image_detail: String,
    /// Deadline of one attempt.
    pub timeout_ms: u64,
    /// Attempts per request (1–5); retried on 429, 5xx, timeouts and unreadable bodies.
    pub max_attempts: u32,
    /// First retry delay; doubles each time, plus jitter.
    pub backoff_ms: u64,
    /// How long an answer about one photo is reused for the identical question.
    pub cache_ttl_secs: u64,
    /// Largest answer read from the endpoint, errors included (a completion of at most 1,024
    /// tokens is a few kilobytes); reading stops at the first byte beyond it and the attempt
    /// counts as an unreadable answer.
    pub max_response_bytes: usize,
}

impl Default for VisionConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            model: "gpt-4o-mini".into(),
            api_key: None,
            image_detail: "low".into(),
            timeout_ms: 20_000,
            max_attempts: 3,
            backoff_ms: 500,
            cache_ttl_secs: 7 * 24 * 3600,
            max_response_bytes: 256 * 1024,
        }
    }
}

/// Where photo bytes are kept.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    /// `file:///path` (a local directory) or `s3://bucket[/prefix]`; empty means
    /// `<data_dir>/files`.
    pub url: String,
    /// S3: the endpoint of an S3-compatible server, e.g. `http://127.0.0.1:9000`; empty means AWS.
    /// Requests are path-style (`endpoint/bucket/key`).
    pub endpoint: Option<String>,
    /// S3: the signing region.
    pub region: String,
    /// S3: static credentials; without them the usual AWS environment and instance sources apply.
    pub access_key_id: Option<Secret<String>>,
    pub secret_access_key: Option<Secret<String>>,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            endpoint: None,
            region: "us-east-1".into(),
            access_key_id: None,
            secret_access_key: None,
        }
    }
}

/// Photo verification: uploads, the durable job queue and its workers.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerificationConfig {
    /// Photos a mission takes per day (the first plus retries after rejections).
    pub max_daily_attempts: i64,
    /// Job workers on this instance; 0 makes it an API-only instance.
    pub workers: usize,
    /// How long a claimed job stays with its worker; a worker that dies gives it up when
    /// this runs out. Longer than a policy call can last.
    pub lease_secs: u64,
    /// How often idle workers look for jobs queued by other instances.
    pub poll_ms: u64,
    /// Attempts of one job before its verification goes to review.
    pub max_job_attempts: i64,
    /// First delay before a failed job runs again; doubles per attempt, capped at a minute.
    pub retry_backoff_ms: u64,
}

impl Default for VerificationConfig {
    fn default() -> Self {
        Self {
            max_daily_attempts: 3,
            workers: 2,
            lease_secs: 180,
            poll_ms: 500,
            max_job_attempts: 5,
            retry_backoff_ms: 1_000,
        }
    }
}

/// The upload pipeline.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhotosConfig {
    /// Photos decoded at once (decoding is CPU-bound); 0 means one per core. Memory is bounded
    /// by `memory_budget_bytes`, not by this.
    pub concurrency: usize,
    /// Memory every upload in progress shares, in bytes: bodies being read and kept, and
    /// decodes (each charged an estimate from its header before it starts). A photo whose
    /// decode alone would need more is refused as too many pixels. The server's peak memory is
    /// about its idle size plus this.
    pub memory_budget_bytes: usize,
    /// How long an upload waits for its share of the budget before it is answered 503
    /// `photos_busy` with `Retry-After`.
    pub budget_wait_ms: u64,
}

impl Default for PhotosConfig {
    fn default() -> Self {
        Self { concurrency: 0, memory_budget_bytes: 44 << 20, budget_wait_ms: 5_000 }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A `tracing` filter such as `info,weatherwise=debug`; `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            http: HttpConfig::default(),
            database: DatabaseConfig::default(),
            state: StateConfig::default(),
            bus: BusConfig::default(),
            auth: AuthConfig::default(),
            rate_limits: RateLimitConfig::default(),
            kakao: KakaoConfig::default(),
            vision: VisionConfig::default(),
            files: FilesConfig::default(),
            photos: PhotosConfig::default(),
            verification: VerificationConfig::default(),
            plugins: crate::plugins::Limits::default(),
            log: LogConfig::default(),
            weather: crate::weather::WeatherConfig::default(),
            notifications: crate::notifications::NotificationsConfig::default(),
            alerts: crate::weather::alerts::AlertsConfig::default(),
            chat: crate::chat::ChatConfig::default(),
            coupons: crate::coupons::CouponsConfig::default(),
            ops: crate::ops::OpsConfig::default(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            max_body_bytes: 64 * 1024,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 4096,
            listen_backlog: 4096,
            trust_forwarded_for: false,
            trusted_proxies: [
                "127.0.0.0/8",
                "::1/128",
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "fc00::/7",
            ]
            .map(String::from)
            .to_vec(),
            shutdown_grace_secs: 20,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: None, max_connections: 32, migrate_on_start: true }
    }
}

impl Default for StateConfig {
    fn default() -> Self {
        let memory = crate::state::MemoryLimits::default();
        Self {
            url: Secret::new("memory://".into()),
            key_prefix: "ww:".into(),
            memory_max_entries: memory.max_entries,
            memory_max_bytes: memory.max_bytes,
        }
    }
}

impl Default for BusConfig {
    fn default() -> Self {
        Self { url: "memory://".into(), topic_prefix: "weatherwise.".into(), partitions: 3 }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            issuer: "weatherwise".into(),
            audience: "weatherwise-api".into(),
            access_ttl_secs: 15 * 60,
            refresh_ttl_secs: 30 * 24 * 3600,
            jwt_keys: Vec::new(),
            hash_concurrency: 0,
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            login_per_ip: RateLimit { limit: 30, window_secs: 60 },
            login_per_account_from_ip: RateLimit { limit: 10, window_secs: 300 },
            login_per_account: RateLimit { limit: 200, window_secs: 300 },
            signup_per_ip: RateLimit { limit: 20, window_secs: 3600 },
            signup_per_account: RateLimit { limit: 5, window_secs: 3600 },
            password_check_per_account: RateLimit { limit: 5, window_secs: 300 },
            photo_uploads_per_user: RateLimit { limit: 20, window_secs: 600 },
        }
    }
}

impl Default for KakaoConfig {
    fn default() -> Self {
        Self {
            client_id: None,
            client_secret: None,
            redirect_uri: format!("http://localhost:{DEFAULT_PORT}/api/v1/auth/kakao/callback"),
            authorize_url: "https://kauth.kakao.com/oauth/authorize".into(),
            token_url: "https://kauth.kakao.com/oauth/token".into(),
            user_url: "https://kapi.kakao.com/v2/user/me".into(),
            timeout_secs: 5,
            max_response_bytes: 64 * 1024,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: "text".into(), filter: "info".into() }
    }
}

impl Config {
    /// Defaults, then the TOML file if it exists, then `WEATHERWISE_*` variables.
    pub fn load(file: &Path) -> Result<Self, Box<figment::Error>> {
        Self::figment(file).extract().map_err(Box::new)
    }

    fn figment(file: &Path) -> Figment {
        // The defaults are a layer of their own, so a file or variable that sets one key of a
        // section (say `rate_limits.login_per_ip.limit`) keeps the defaults of its siblings.
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("WEATHERWISE_").split("__"))
    }

    /// The database URL, defaulting to the embedded database inside the data directory.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) if !url.expose().is_empty() => url.expose().clone(),
            _ => crate::db::embedded_url(&self.data_dir),
        }
    }

    /// Checks the invariants serde cannot express.
    pub fn validate(&self) -> Result<(), String> {
        for key in &self.auth.jwt_keys {
            if key.secret.expose().len() < 32 {
                return Err(format!("auth.jwt_keys[{}]: the secret must be at least 32 bytes", key.kid));
            }
            if key.kid.is_empty() || key.kid.len() > 64 {
                return Err("auth.jwt_keys: kid must be 1 to 64 characters".into());
            }
        }
        if self.auth.access_ttl_secs == 0 || self.auth.refresh_ttl_secs <= self.auth.access_ttl_secs {
            return Err("auth: refresh_ttl_secs must exceed access_ttl_secs, both above zero".into());
        }
        for (name, limit) in [
            ("login_per_ip", self.rate_limits.login_per_ip),
            ("login_per_account_from_ip", self.rate_limits.login_per_account_from_ip),
            ("login_per_account", self.rate_limits.login_per_account),
            ("signup_per_ip", self.rate_limits.signup_per_ip),
            ("signup_per_account", self.rate_limits.signup_per_account),
            ("password_check_per_account", self.rate_limits.password_check_per_account),
            ("photo_uploads_per_user", self.rate_limits.photo_uploads_per_user),
        ] {
            if limit.limit == 0 || limit.window_secs == 0 {
                return Err(format!("rate_limits.{name}: limit and window_secs must be above zero"));
            }
        }
        let http = &self.http;
        if http.header_read_timeout_secs == 0
            || http.idle_timeout_secs == 0
            || http.max_connections == 0
            || http.listen_backlog == 0
        {
            return Err("http: header_read_timeout_secs, idle_timeout_secs, max_connections and \
                 listen_backlog above zero"
                .into());
        }
        crate::http::client_ip::TrustedProxies::from_config(http)
            .map_err(|err| format!("http.trusted_proxies: {err}"))?;
        if !matches!(self.vision.image_detail.as_str(), "low" | "high" | "auto") {
            return Err("vision.image_detail must be `low`, `high` or `auto`".into());
        }
        if !(1..=5).contains(&self.vision.max_attempts) || self.vision.timeout_ms == 0 {
            return Err("vision: max_attempts must be 1 to 5 and timeout_ms above zero".into());
        }
        if self.vision.max_response_bytes < 4096 || self.kakao.max_response_bytes < 1024 {
            return Err(
                "vision.max_response_bytes must be at least 4096, kakao.max_response_bytes at least 1024"
                    .into(),
            );
        }
        if self.state.memory_max_entries < 100 || self.state.memory_max_bytes < (1 << 20) {
            return Err("state: memory_max_entries at least 100, memory_max_bytes at least 1 MiB".into());
        }
        if self.photos.memory_budget_bytes < (32 << 20) {
            return Err(
                "photos.memory_budget_bytes must be at least 32 MiB (a photo body alone may take 10)".into(),
            );
        }
        let limits = &self.plugins;
        if limits.fuel == 0 || limits.timeout_ms == 0 || limits.max_memory_bytes < (1 << 20) {
            return Err("plugins: fuel and timeout_ms above zero, max_memory_bytes at least 1 MiB".into());
        }
        self.weather.validate()?;
        self.alerts.validate()?;
        self.chat.validate()?;
        self.coupons.validate(self.database.max_connections)?;
        self.notifications.validate()?;
        self.ops.validate()?;
        let files = self.files.url.trim();
        if !(files.is_empty() || files.starts_with("file://") || files.starts_with("s3://")) {
            return Err("files.url must be empty, file://PATH or s3://BUCKET[/PREFIX]".into());
        }
        if files.starts_with("s3://")
            && self.files.access_key_id.is_some() != self.files.secret_access_key.is_some()
        {
            return Err("files: set both access_key_id and secret_access_key, or neither".into());
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return Err("log.format must be `text` or `json`".into());
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file_which_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "weatherwise.toml",
                "data_dir = \"/srv/ww\"\n[http]\nlisten = \"0.0.0.0:9000\"\n[state]\nurl = \"redis://127.0.0.1/\"\n",
            )?;
            jail.set_env("WEATHERWISE_HTTP__LISTEN", "127.0.0.1:7000");
            jail.set_env("WEATHERWISE_RATE_LIMITS__LOGIN_PER_IP__LIMIT", "3");
            let config = Config::load(Path::new("weatherwise.toml")).map_err(|e| *e)?;
            assert_eq!(config.data_dir, PathBuf::from("/srv/ww"));
            assert_eq!(config.http.listen.port(), 7000);
            assert_eq!(config.state.url.expose(), "redis://127.0.0.1/");
            assert_eq!(config.auth.access_ttl_secs, 900);
            assert_eq!(config.rate_limits.login_per_ip.limit, 3);
            assert_eq!(config.rate_limits.login_per_ip.window_secs, 60, "siblings keep their defaults");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_rejected() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("weatherwise.toml", "[http]\nlisten_port = 1\n")?;
            assert!(Config::load(Path::new("weatherwise.toml")).is_err());
            Ok(())
        });
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let mut config = Config::default();
        config.database.url = Some(Secret::new("db://u:topsecret@h/db".into()));
        config.auth.jwt_keys.push(JwtKey { kid: "k1".into(), secret: Secret::new("x".repeat(40)) });
        let dump = format!("{config:?}");
        assert!(!dump.contains("topsecret"));
        assert!(!dump.contains(&"x".repeat(40)));
    }
}
