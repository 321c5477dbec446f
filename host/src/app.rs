//! The composition root: connects the adapters chosen by the configuration, builds each
//! domain's state from them, assembles the routes, and runs the server and its background
//! tasks. No other module imports this one; each domain takes only its own state (through
//! `FromRef`), so what a domain can reach is visible in its state type.
//!
//! `main` and the tests both go through [`App::build`] and [`App::serve`], so the tests
//! exercise the exact server that ships.

use crate::accounts::cached_profiles::CachedProfiles;
use crate::accounts::locations::LastLocations;
use crate::accounts::{SqlUsers, UserStore};
use crate::audit::AuditLog;
use crate::auth::kakao::KakaoClient;
use crate::auth::live_sessions::LiveSessions;
use crate::auth::password::Passwords;
use crate::auth::sessions::{SessionStore, SqlSessions};
use crate::auth::tokens::TokenService;
use crate::auth::{AuthService, AuthState, Authenticator};
use crate::chat::{ChatService, ChatState, ChatStore, RoomKeeper};
use crate::community::vote_notices::VoteNotices;
use crate::community::{CommunityState, SqlPosts};
use crate::config::Config;
use crate::coupons::{CouponService, CouponStore, CouponsState};
use crate::db::Database;
use crate::http::client_ip::TrustedProxies;
use crate::missions::{MissionService, MissionStore};
use crate::notifications::Notifier;
use crate::ops::{Adapters, OpsAccess};
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
use crate::weather::alerts::{ActiveAlerts, AlertPoller, WarningStore};
use anyhow::Context;
use axum::Router;
use axum::extract::FromRef;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The router's state. Axum clones it for every request, so it is one `Arc`: a clone is one
/// count, not one per domain. Each domain's state is reached by `FromRef` (see [`Domains`]).
#[derive(Clone)]
pub struct AppState(Arc<Domains>);

/// One field per domain state.
pub struct Domains {
    pub authenticator: Authenticator,
    pub auth: AuthState,
    pub community: CommunityState,
    pub missions: Arc<MissionService>,
    pub verification: Arc<Verifier>,
    pub points: PointsService,
    pub notifier: Notifier,
    pub plugins: PluginsState,
    pub weather: WeatherService,
    pub alerts: Arc<AlertPoller>,
    pub chat: ChatState,
    pub coupons: CouponsState,
    pub adapters: Adapters,
    pub ops_access: OpsAccess,
    pub trusted_proxies: TrustedProxies,
}

impl std::ops::Deref for AppState {
    type Target = Domains;

    fn deref(&self) -> &Domains {
        &self.0
    }
}

/// `FromRef<AppState>` for each domain state, cloning only that one.
macro_rules! reach_domains {
    ($($field:ident: $state:ty),* $(,)?) => {
        $(impl FromRef<AppState> for $state {
            fn from_ref(app: &AppState) -> Self {
                app.0.$field.clone()
            }
        })*
    };
}

reach_domains!(
    authenticator: Authenticator,
    auth: AuthState,
    community: CommunityState,
    missions: Arc<MissionService>,
    verification: Arc<Verifier>,
    points: PointsService,
    notifier: Notifier,
    plugins: PluginsState,
    weather: WeatherService,
    alerts: Arc<AlertPoller>,
    chat: ChatState,
    coupons: CouponsState,
    adapters: Adapters,
    ops_access: OpsAccess,
    trusted_proxies: TrustedProxies,
);

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
        crate::db::checkpoint::start(&db, &tasks);
        let state = crate::state::connect(&config.state).await.context("connecting the state store")?;
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
        let warnings = WarningStore::new(db.clone());
        let active_alerts =
            ActiveAlerts::load(warnings.clone()).await.context("loading the weather warnings")?;
        let weather =
            WeatherService::from_config(&config.weather, state.clone(), Arc::new(active_alerts.clone()))
                .context("weather provider")?;
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
        let chat_store = ChatStore::new(db.clone(), &tasks);
        let chat = ChatService::new(
            chat_store.clone(),
            warnings.clone(),
            bus.clone(),
            state.clone(),
            audit.clone(),
            config.chat.clone(),
        );
        chat.start(&tasks).await.context("starting the chat")?;
        let locations = LastLocations::new(db.clone());
        let room_keeper = RoomKeeper {
            store: chat_store,
            locations: locations.clone(),
            notifier: notifier.clone(),
            bus: bus.clone(),
            tasks: tasks.clone(),
            keep_closed_days: config.chat.keep_closed_days,
        };
        let alerts = AlertPoller::new(
            crate::weather::alerts::feed::from_config(&config.alerts).context("alert feed")?,
            warnings,
            active_alerts,
            Arc::new(room_keeper),
            state.clone(),
            bus.clone(),
            Duration::from_secs(config.alerts.poll_interval_secs),
            Duration::from_secs(config.alerts.lease_secs),
        );
        alerts.start(&tasks).await.context("starting the alert poller")?;
        let coupon_gate = crate::coupons::gate::connect(config.state.url.expose(), &config.state.key_prefix)
            .await
            .context("connecting the coupon gate")?;
        let coupons = Arc::new(CouponService::new(
            CouponStore::new(db.clone()),
            coupon_gate,
            notifier.clone(),
            audit.clone(),
            state.clone(),
            &config.coupons,
            &tasks,
        ));
        let missions = MissionStore::new(db.clone());
        let verifications = VerificationStore::new(db.clone());
        let users: Arc<dyn UserStore> =
            Arc::new(CachedProfiles::new(SqlUsers::new(db.clone()), state.clone()));
        let sessions: Arc<dyn SessionStore> = Arc::new(SqlSessions::new(db.clone()));
        let live_sessions =
            Arc::new(LiveSessions::new(sessions.clone(), state.clone(), config.auth.access_ttl_secs));
        let authenticator = Authenticator::new(tokens.clone(), live_sessions.clone(), users.clone());
        let state = AppState(Arc::new(Domains {
            authenticator,
            auth: Arc::new(AuthService {
                users: users.clone(),
                sessions,
                live_sessions,
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
                locations,
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
            alerts,
            chat,
            coupons,
            adapters: Adapters { db, state, bus, files },
            ops_access: OpsAccess::from_config(&config.ops),
            trusted_proxies: TrustedProxies::from_config(&config.http).map_err(anyhow::Error::msg)?,
        }));
        Ok(Self { config, state, tasks })
    }

    /// Each domain's state, as the routes see it (tests reach services through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Binds the configured address (port 0 picks a free one).
    pub async fn bind(&self) -> anyhow::Result<TcpListener> {
        let address = self.config.http.listen;
        crate::http::server::bind(address, self.config.http.listen_backlog)
            .with_context(|| format!("binding {address}"))
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
            .merge(crate::verification::routes::router())
            .merge(crate::chat::routes::router())
            .merge(crate::coupons::routes::router())
            .merge(crate::coupons::admin_routes::router());
        let routes = Router::new()
            .nest("/api/v1", api)
            .merge(crate::ops::router())
            .merge(crate::chat::routes::ws_router())
            .with_state(self.state.clone());
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
        let chat = self.state.chat.clone();
        let limits = crate::http::server::ConnectionLimits::from(&self.config.http);
        let server = crate::http::server::serve(listener, self.router(), limits, async move {
            shutdown.await;
            tracing::info!("shutting down: draining connections");
            // Event streams never finish by themselves; their clients resume elsewhere.
            notifier.close();
            chat.close_all();
            let _ = stopping_tx.send(());
        });
        tokio::select! {
            () = server => {}
            () = async {
                let _ = stopping_rx.await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!("grace period over: closing the remaining connections");
            }
        }
        self.tasks.shutdown(grace).await;
        self.state.adapters.db.close().await;
        tracing::info!("stopped");
        Ok(())
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
