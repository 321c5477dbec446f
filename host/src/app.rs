//! Builds the application from a configuration: adapters chosen once, by URL scheme, and the
//! services every domain shares. `main` and the tests both go through [`App::build`] and
//! [`App::serve`], so the tests exercise the exact server that ships.

use crate::accounts::{SqlUsers, UserStore};
use crate::auth::kakao::KakaoClient;
use crate::auth::password::Passwords;
use crate::auth::sessions::{SessionStore, SqlSessions};
use crate::auth::tokens::TokenService;
use crate::bus::EventBus;
use crate::community::vote_notices::VoteNotices;
use crate::community::{PostStore, SqlPosts};
use crate::config::Config;
use crate::db::Database;
use crate::files::FileStore;
use crate::missions::MissionStore;
use crate::notifications::Notifier;
use crate::photos::PhotoPipeline;
use crate::plugins::PluginEngine;
use crate::plugins::records::SqlRecordStore;
use crate::plugins::registry::PluginRegistry;
use crate::plugins::store::SqlPluginStore;
use crate::points::PointsService;
use crate::state::StateStore;
use crate::verification::{JobSignal, VerificationStore};
use crate::vision::VisionService;
use crate::weather::WeatherService;
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Everything a request handler may reach, shared behind one `Arc`.
pub struct AppState {
    pub config: Config,
    pub db: Database,
    pub state: Arc<dyn StateStore>,
    pub bus: Arc<dyn EventBus>,
    pub users: Arc<dyn UserStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub tokens: TokenService,
    pub passwords: Passwords,
    pub kakao: Option<KakaoClient>,
    pub plugins: Arc<PluginRegistry>,
    pub vision: VisionService,
    pub posts: Arc<dyn PostStore>,
    pub vote_notices: VoteNotices,
    pub weather: WeatherService,
    pub notifier: Notifier,
    pub points: PointsService,
    pub files: Arc<dyn FileStore>,
    pub photos: PhotoPipeline,
    pub missions: MissionStore,
    pub verifications: VerificationStore,
    pub job_signal: JobSignal,
}

pub type SharedState = Arc<AppState>;

/// Votes on one post within this long reach its author as one notice.
const VOTE_NOTICE_WINDOW: Duration = Duration::from_secs(2);

pub struct App {
    state: SharedState,
}

impl App {
    /// Connects every adapter named by the configuration and applies migrations if asked.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate().map_err(anyhow::Error::msg).context("invalid configuration")?;
        // Installed before the first request so no measurement is lost.
        crate::http::metrics::handle();
        let db = Database::connect(&config.database_url(), config.database.max_connections).await?;
        if config.database.migrate_on_start {
            db.migrate().await?;
        }
        let state = crate::state::connect(config.state.url.expose(), &config.state.key_prefix)
            .await
            .context("connecting the state store")?;
        let bus = crate::bus::connect(&config.bus.url, &config.bus.topic_prefix, config.bus.partitions)
            .await
            .context("connecting the event bus")?;
        let files = crate::files::connect(&config.files, &config.data_dir)
            .await
            .context("connecting the file store")?;
        let tokens = TokenService::from_config(&config.auth, &db).await?;
        let kakao = KakaoClient::from_config(&config.kakao)?;
        let plugins = PluginRegistry::start(
            PluginEngine::new(config.plugins.clone())?,
            Arc::new(SqlPluginStore::new(db.clone())),
            Arc::new(SqlRecordStore::new(db.clone())),
            db.clone(),
            bus.clone(),
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
        let notifier = Notifier::start(db.clone(), bus.clone(), &config.notifications)
            .await
            .context("starting the notifier")?;
        let ranking =
            crate::points::ranking::connect(config.state.url.expose(), &config.state.key_prefix, &db)
                .await
                .context("connecting the ranking")?;
        let points = PointsService::new(db.clone(), ranking, notifier.clone());
        points.follow_account_deletions(bus.as_ref()).await?;
        let state = AppState {
            users: Arc::new(SqlUsers::new(db.clone())),
            sessions: Arc::new(SqlSessions::new(db.clone())),
            posts: Arc::new(SqlPosts::new(db.clone())),
            vote_notices: VoteNotices::new(bus.clone(), notifier.clone(), VOTE_NOTICE_WINDOW),
            photos: PhotoPipeline::new(config.photos.concurrency),
            files,
            missions: MissionStore::new(db.clone()),
            verifications: VerificationStore::new(db.clone()),
            job_signal: JobSignal::default(),
            passwords: Passwords::new(config.auth.hash_concurrency),
            tokens,
            kakao,
            plugins,
            vision,
            weather,
            notifier,
            points,
            state,
            bus,
            db,
            config,
        };
        Ok(Self { state: Arc::new(state) })
    }

    pub fn state(&self) -> &SharedState {
        &self.state
    }

    /// Binds the configured address (port 0 picks a free one).
    pub async fn bind(&self) -> anyhow::Result<TcpListener> {
        let address = self.state.config.http.listen;
        TcpListener::bind(address).await.with_context(|| format!("binding {address}"))
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests for at most the
    /// configured grace period.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let address = listener.local_addr()?;
        tracing::info!(%address, "listening");
        let grace = Duration::from_secs(self.state.config.http.shutdown_grace_secs);
        let router = crate::http::router(self.state.clone());
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let notifier = self.state.notifier.clone();
        let server = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("shutting down: draining connections");
                // Event streams never finish by themselves; their clients resume elsewhere.
                notifier.close();
                let _ = stopping_tx.send(());
            });
        let (stop_workers, workers_stop) = tokio::sync::watch::channel(false);
        let mut workers = crate::verification::worker::spawn(self.state.clone(), workers_stop);
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
        // Workers finish the job in hand (its lease covers a crash if the grace runs out).
        let _ = stop_workers.send(true);
        if tokio::time::timeout(grace, async { while workers.join_next().await.is_some() {} }).await.is_err()
        {
            tracing::warn!("grace period over: abandoning verification jobs in progress to their leases");
            workers.abort_all();
        }
        self.state.db.close().await;
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
