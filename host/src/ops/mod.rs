//! Operations endpoints, outside `/api/v1`: liveness, readiness, metrics, the API description.

mod access;
mod openapi;

pub use access::{Operator, OpsAccess, OpsConfig};

use crate::bus::EventBus;
use crate::db::Database;
use crate::error::ApiError;
use crate::files::FileStore;
use crate::state::StateStore;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// The adapters readiness checks.
#[derive(Clone)]
pub struct Adapters {
    pub db: Database,
    pub state: Arc<dyn StateStore>,
    pub bus: Arc<dyn EventBus>,
    pub files: Arc<dyn FileStore>,
}

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Adapters: FromRef<S>,
    OpsAccess: FromRef<S>,
{
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(openapi::router())
}

/// The process is up and serving.
/// A constant body: liveness probes come often and need nothing built.
async fn healthz() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#).into_response()
}

/// Every adapter answers: database, state store, event bus, file store. 503 names the failing
/// ones; why they fail goes to the log only (an error can carry hosts, paths and bucket names).
async fn readyz(_operator: Operator, State(adapters): State<Adapters>) -> Response {
    let (database, state, bus, files) = tokio::join!(
        check("database", adapters.db.ping()),
        check("state", adapters.state.ping()),
        check("bus", adapters.bus.ping()),
        check("files", adapters.files.ping()),
    );
    let checks = json!({
        "database": { "backend": adapters.db.engine().name(), "status": database },
        "state": { "backend": adapters.state.backend(), "status": state },
        "bus": { "backend": adapters.bus.backend(), "status": bus },
        "files": { "backend": adapters.files.backend(), "status": files },
    });
    if [database, state, bus, files].iter().all(|status| *status == "ok") {
        return (StatusCode::OK, axum::Json(json!({ "status": "ready", "checks": checks }))).into_response();
    }
    tracing::warn!(%checks, "not ready");
    let mut response =
        ApiError::Unavailable { code: "not_ready", detail: checks.to_string() }.into_response();
    response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
    response
}

/// `ok`, `failing` or `timed out`; a failure is logged with its reason.
async fn check(adapter: &str, probe: impl std::future::Future<Output = anyhow::Result<()>>) -> &'static str {
    match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
        Ok(Ok(())) => "ok",
        Ok(Err(err)) => {
            tracing::warn!(adapter, error = %err, "readiness check failed");
            "failing"
        }
        Err(_) => {
            tracing::warn!(adapter, "readiness check timed out");
            "timed out"
        }
    }
}

async fn metrics(_operator: Operator) -> Response {
    let body = crate::http::metrics::handle().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
