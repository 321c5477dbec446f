//! The composition root: connects the adapters chosen by the configuration, builds each
//! domain's state from them, assembles the routes, and runs the server and its background
//! tasks. No other module imports this one; each domain takes only its own state (through
//! `FromRef`), so what a domain can reach is visible in its state type.
//!
//! `main` and the tests both go through [`App::build`] and [`App::serve`], so the tests
//! exercise the exact server that ships.

use crate::accounts::{SqlUsers, UserStore};
use crate::audit::AuditLog;
use crate::auth::kakao::KakaoClient;
use crate::auth::password::Passwords;
use crate::auth::sessions::SqlSessions;
use crate::auth::tokens::TokenService;
use crate::auth::{AuthService, AuthState, Authenticator};
use crate::community::vote_notices::VoteNotices;
use crate::community::{CommunityState, SqlPosts};
use crate::config::Config;
use crate::db::Database;
use crate::http::client_ip::TrustForwardedFor;
use crate::missions::{MissionService, MissionStore};
use crate::notifications::Notifier;
use crate::ops::Adapters;
use crate::photos::{MemoryBudget, PhotoPipeline};
use crate::plugins::records::SqlRecordStore;
use crate::plugins::registry::PluginRegistry;
use crate::plugins::store::SqlPluginStore;
use crate::plugins::{PluginEngine, PluginsState};
use crate::points::PointsService;
use crate::tasks::Tasks;
use crate::verification::{JobSignal, VerificationStore, Verifier};
use crate::vision::VisionService;
use crate::weather::WeatherService;
use anyhow::Context;
use axum::Router;
use axum::extract::FromRef;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The router's state: one field per domain state, each reachable by `FromRef`. Cloning it
/// clones a handful of `Arc`s.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub authenticator: Authenticator,
    pub auth: AuthState,
    pub community: CommunityState,
    pub missions: Arc<MissionService>,
    pub verification: Arc<Verifier>,
    pub points: PointsService,
    pub notifier: Notifier,
    pub plugins: PluginsState,
    pub weather: WeatherService,
    pub adapters: Adapters,
    pub trust_forwarded_for: TrustForwardedFor,
}

/// State keys the in-memory store never drops for room before they expire: a revocation mark
/// (`auth/extract.rs`) dropped early would let a revoked session's access tokens work again.
const KEPT_UNTIL_EXPIRY: &[&str] = &["revoked-session:"];

/// Votes on one post within this long reach its author as one notice.
const VOTE_NOTICE_WINDOW: Duration = Duration::from_secs(2);

pub struct App {
    config: Config,
    state: AppState,
    tasks: Tasks,
}

impl App {
    /// Connects every adapter named by the configuration and applies migrations if asked.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate().map_err(anyhow::Error::msg).context("invalid configuration")?;
        // Installed before the first request so no measurement is lost.
        crate::http::metrics::handle();
        let tasks = Tasks::new();
        let db = Database::connect(&config.database_url(), config.database.max_connections).await?;
        if config.database.migrate_on_start {
            db.migrate().await?;
        }
        let state = crate::state::connect(&config.state, KEPT_UNTIL_EXPIRY)
            .await
            .context("connecting the state store")?;
        let bus = crate::bus::connect(&config.bus.url, &config.bus.topic_prefix, config.bus.partitions)
            .await
            .context("connecting the event bus")?;
        let files = crate::files::connect(&config.files, &config.data_dir)
            .await
            .context("connecting the file store")?;
        let tokens = Arc::new(TokenService::from_config(&config.auth, &db).await?);
        let kakao = KakaoClient::from_config(&config.kakao)?;
        let registry = PluginRegistry::start(
            PluginEngine::new(config.plugins.clone())?,
            Arc::new(SqlPluginStore::new(db.clone())),
            Arc::new(SqlRecordStore::new(db.clone())),
            db.clone(),
            bus.clone(),
            &tasks,
        )
        .await
        .context("starting the plugin registry")?;
        tracing::info!(
            database = db.engine().name(),
            state = state.backend(),
            bus = bus.backend(),
            files = files.backend(),
            kakao = kakao.is_some(),
            vision = config.vision.base_url.is_some(),
            "adapters ready"
        );
        let vision = VisionService::from_config(&config.vision, state.clone());
        let weather =
            WeatherService::from_config(&config.weather, state.clone()).context("weather provider")?;
        let notifier = Notifier::start(db.clone(), bus.clone(), &config.notifications, &tasks)
            .await
            .context("starting the notifier")?;
        let ranking =
            crate::points::ranking::connect(config.state.url.expose(), &config.state.key_prefix, &db)
                .await
                .context("connecting the ranking")?;
        let points = PointsService::new(db.clone(), ranking, notifier.clone());
        points.follow_account_deletions(bus.as_ref(), &tasks).await?;
        let audit = AuditLog::new(db.clone());
        let missions = MissionStore::new(db.clone());
        let verifications = VerificationStore::new(db.clone());
        let users: Arc<dyn UserStore> = Arc::new(SqlUsers::new(db.clone()));
        let state = AppState {
            authenticator: Authenticator::new(tokens.clone(), state.clone()),
            auth: Arc::new(AuthService {
                users: users.clone(),
                sessions: Arc::new(SqlSessions::new(db.clone())),
                tokens,
                passwords: Passwords::new(config.auth.hash_concurrency),
                kakao,
                state: state.clone(),
                bus: bus.clone(),
                config: config.auth.clone(),
                rate_limits: config.rate_limits.clone(),
            }),
            community: CommunityState {
                posts: Arc::new(SqlPosts::new(db.clone(), &tasks)),
                vote_notices: VoteNotices::new(
                    bus.clone(),
                    notifier.clone(),
                    VOTE_NOTICE_WINDOW,
                    tasks.clone(),
                ),
            },
            missions: Arc::new(MissionService {
                store: missions.clone(),
                users,
                verifications: verifications.clone(),
                weather: weather.clone(),
                plugins: registry.clone(),
                max_daily_attempts: config.verification.max_daily_attempts,
            }),
            verification: Arc::new(Verifier {
                verifications,
                missions,
                files: files.clone(),
                photos: PhotoPipeline::new(
                    config.photos.concurrency,
                    MemoryBudget::new(
                        config.photos.memory_budget_bytes,
                        Duration::from_millis(config.photos.budget_wait_ms),
                    ),
                ),
                vision: vision.clone(),
                plugins: registry.clone(),
                points: points.clone(),
                notifier: notifier.clone(),
                audit: audit.clone(),
                job_signal: JobSignal::default(),
                config: config.verification.clone(),
                state: state.clone(),
                upload_limit: config.rate_limits.photo_uploads_per_user,
            }),
            points,
            notifier,
            plugins: PluginsState { registry, vision, audit },
            weather,
            adapters: Adapters { db, state, bus, files },
            trust_forwarded_for: TrustForwardedFor(config.http.trust_forwarded_for),
        };
        Ok(Self { config, state, tasks })
    }

    /// Each domain's state, as the routes see it (tests reach services through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Binds the configured address (port 0 picks a free one).
    pub async fn bind(&self) -> anyhow::Result<TcpListener> {
        let address = self.config.http.listen;
        TcpListener::bind(address).await.with_context(|| format!("binding {address}"))
    }

    /// Every domain's routes with the application's state: the API under `/api/v1`,
    /// operations at the root, and the middleware every request passes.
    fn router(&self) -> Router {
        let api = Router::new()
            .merge(crate::auth::routes::router())
            .merge(crate::accounts::routes::router())
            .merge(crate::community::routes::router())
            .merge(crate::plugins::routes::router())
            .merge(crate::weather::routes::router())
            .merge(crate::points::routes::router())
            .merge(crate::notifications::routes::router())
            .merge(crate::missions::routes::router())
            .merge(crate::verification::routes::router());
        let routes =
            Router::new().nest("/api/v1", api).merge(crate::ops::router()).with_state(self.state.clone());
        crate::http::with_middleware(routes, &self.config.http)
    }

    /// Serves until `shutdown` resolves, then stops in order: stop accepting and drain
    /// in-flight requests, drain background work, stop the followers, close the pools. Each
    /// phase waits at most the configured grace period.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = listener.local_addr()?;
        tracing::info!(%address, "listening");
        let grace = Duration::from_secs(self.config.http.shutdown_grace_secs);
        crate::verification::worker::start(&self.state.verification, &self.tasks);
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let notifier = self.state.notifier.clone();
        let server = axum::serve(listener, self.router().into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("shutting down: draining connections");
                // Event streams never finish by themselves; their clients resume elsewhere.
                notifier.close();
                let _ = stopping_tx.send(());
            });
        let drained = async { server.await.context("serving HTTP") };
        tokio::pin!(drained);
        let outcome = tokio::select! {
            result = &mut drained => result,
            () = async {
                let _ = stopping_rx.await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!("grace period over: closing the remaining connections");
                Ok(())
            }
        };
        self.tasks.shutdown(grace).await;
        self.state.adapters.db.close().await;
        tracing::info!("stopped");
        outcome
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
