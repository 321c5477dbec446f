//! Test support: the real server on a random port in either run mode, inside the test process
//! or as a process of its own, and local fakes of the outside services it talks to.
//!
//! Scaled-mode tests need PostgreSQL, Redis, a Kafka-protocol broker and an S3-compatible
//! object store; their addresses come from `WEATHERWISE_TEST_POSTGRES`, `WEATHERWISE_TEST_REDIS`,
//! `WEATHERWISE_TEST_KAFKA` and `WEATHERWISE_TEST_S3` (loopback defaults). A missing service
//! fails the test: nothing is skipped.

mod app;
pub mod broker;
mod deployment;
pub mod fake_kakao;
pub mod fake_vision;
pub mod fake_weather;
pub mod photos;
pub mod redis_server;
mod requests;
mod server_process;
mod session;
pub mod sse;
pub mod stomp;

pub use app::TestApp;
pub use deployment::Deployment;
pub use session::Session;

use serde_json::Value;
use weatherwise::config::Secret;

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

/// The sum of a metric's samples in a Prometheus text exposition, over its label sets that
/// contain `labels` (empty: every one); `None` when no sample matches.
pub fn metric(text: &str, name: &str, labels: &str) -> Option<f64> {
    let samples: Vec<f64> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name).is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter(|line| line.contains(labels))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .collect();
    (!samples.is_empty()).then(|| samples.iter().sum())
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
