//! The registry: versions stored content-addressed, one active version per world, hot swap.
//!
//! A call takes an `Arc` of the active version when it starts, so an activation never affects
//! calls in flight: they finish on the version they began with. Activations are written to the
//! database, then announced on the bus; every instance reloads on the announcement, and a
//! periodic check catches any announcement that was missed.
//!
//! Activation is gated: a version must pass its world's golden corpus (`gate.rs`) unless an
//! admin forces it with a reason. A policy may also run in shadow beside the active one
//! (`calls.rs`).

use super::generator::LoadedGenerator;
use super::inspect::{self, InspectError, Loaded, Report};
use super::policy::LoadedPolicy;
use super::records::{RecordStore, Scorecard};
use super::store::{NewVersion, PluginStore, VersionInfo};
use super::{PluginEngine, World, bundled, gate};
use crate::bus::{EventBus, topics};
use crate::db::Database;
use crate::tasks::Tasks;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The safety net behind bus announcements.
const PERIODIC_CHECK: Duration = Duration::from_secs(2);
/// Compiled versions kept in memory besides the active ones.
const MAX_CACHED_VERSIONS: usize = 32;
/// Shadow calls running at once; beyond that a shadow comparison is skipped (and counted)
/// rather than queued, so a slow candidate never slows the product.
const SHADOW_SLOTS: usize = 8;

#[derive(Clone)]
pub(super) enum Compiled {
    Generator(Arc<LoadedGenerator>),
    Policy(Arc<LoadedPolicy>),
}

#[derive(Default)]
struct Active {
    generator: Option<(String, Arc<LoadedGenerator>)>,
    policy: Option<(String, Arc<LoadedPolicy>)>,
    shadow_policy: Option<(String, Arc<LoadedPolicy>)>,
}

pub struct PluginRegistry {
    pub engine: Arc<PluginEngine>,
    store: Arc<dyn PluginStore>,
    pub(super) records: Arc<dyn RecordStore>,
    db: Database,
    bus: Arc<dyn EventBus>,
    compiled: Mutex<HashMap<String, Compiled>>,
    active: RwLock<Active>,
    pub(super) shadow_slots: Arc<tokio::sync::Semaphore>,
    /// Shadow runs go out as work of these tasks, so shutdown waits for their verdicts.
    pub(super) tasks: Tasks,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Inspect(#[from] InspectError),
    #[error("no plugin version {0}")]
    NotFound(String),
    #[error("version {0} is active; activate another version first")]
    Active(String),
    #[error("there is no earlier version of {0} to roll back to")]
    NothingToRollBack(&'static str),
    #[error("version {sha256} is a {actual}, not a {expected}")]
    WrongWorld { sha256: String, expected: &'static str, actual: &'static str },
    #[error("the version passed {}/{} cases of its golden corpus; fix it or force the activation with a reason", .0.passed, .0.total)]
    GateFailed(Box<Scorecard>),
    #[error("no plugin call {0}")]
    CallNotFound(String),
    #[error("no {0} is active")]
    NothingActive(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    pub version: VersionInfo,
    /// False when this exact content was already stored.
    pub created: bool,
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    /// How it did on its world's golden corpus; activation needs every case passed.
    pub scorecard: Scorecard,
}

impl PluginRegistry {
    /// The registry over its stores, without the bundled components or activation following:
    /// what offline tools (`weatherwise plugin replay`) need.
    pub fn open(
        engine: PluginEngine,
        store: Arc<dyn PluginStore>,
        records: Arc<dyn RecordStore>,
        db: Database,
        bus: Arc<dyn EventBus>,
        tasks: Tasks,
    ) -> Arc<Self> {
        Arc::new(Self {
            engine: Arc::new(engine),
            store,
            records,
            db,
            bus,
            compiled: Mutex::new(HashMap::new()),
            active: RwLock::new(Active::default()),
            shadow_slots: Arc::new(tokio::sync::Semaphore::new(SHADOW_SLOTS)),
            tasks,
        })
    }

    /// Registers the bundled components, activates them where a world has no active version,
    /// loads the active versions and starts following activations.
    pub async fn start(
        engine: PluginEngine,
        store: Arc<dyn PluginStore>,
        records: Arc<dyn RecordStore>,
        db: Database,
        bus: Arc<dyn EventBus>,
        tasks: &Tasks,
    ) -> anyhow::Result<Arc<Self>> {
        let registry = Self::open(engine, store, records, db, bus, tasks.clone());
        let active = registry.store.active().await?;
        for (label, bytes) in [("bundled generator", bundled::GENERATOR), ("bundled policy", bundled::POLICY)]
        {
            let uploaded = registry
                .upload(bytes, label, "shipped with the server", None)
                .await
                .map_err(anyhow::Error::from)?;
            let world = uploaded.version.world;
            if !uploaded.scorecard.passes() {
                tracing::error!(world = world.as_str(), failures = ?uploaded.scorecard.failures, "a bundled plugin fails its golden corpus");
            }
            if !active.iter().any(|(active_world, _)| *active_world == world) {
                registry.store.activate(world, &uploaded.version.sha256, None).await?;
                crate::audit::record(
                    &registry.db,
                    None,
                    "plugin.activate",
                    &uploaded.version.sha256,
                    "bundled default",
                )
                .await?;
            }
        }
        registry.refresh().await?;
        registry.clone().follow_activations(tasks).await?;
        Ok(registry)
    }

    /// Validates (compiles, finds the world), stores a component and scores it on its corpus.
    pub async fn upload(
        &self,
        bytes: &[u8],
        label: &str,
        note: &str,
        actor: Option<&str>,
    ) -> Result<Uploaded, RegistryError> {
        let sha256 = inspect::sha256_hex(bytes);
        let (report, compiled) = self.compile(sha256.clone(), bytes.to_vec()).await?;
        let created = self
            .store
            .insert(NewVersion {
                sha256: &sha256,
                world: report.world,
                contract: report.contract,
                label,
                note,
                uploaded_by: actor,
                component: bytes,
            })
            .await?;
        if created && actor.is_some() {
            crate::audit::record(
                &self.db,
                actor,
                "plugin.upload",
                &sha256,
                &format!("{} {label}", report.world.as_str()),
            )
            .await?;
        }
        self.cache(&sha256, compiled.clone());
        let version =
            self.store.info(&sha256).await?.ok_or_else(|| RegistryError::NotFound(sha256.clone()))?;
        let scorecard = self.scorecard_of(&sha256, &compiled, version.size_bytes).await?;
        let report = serde_json::to_value(&report).map_err(anyhow::Error::from)?;
        Ok(Uploaded { version, created, report, scorecard })
    }

    /// The version's scorecard on the current corpus, measured now if it has none yet.
    async fn scorecard_of(&self, sha256: &str, compiled: &Compiled, size: i64) -> anyhow::Result<Scorecard> {
        let world = match compiled {
            Compiled::Generator(_) => World::MissionGenerator,
            Compiled::Policy(_) => World::VerificationPolicy,
        };
        if let Some(scorecard) = self.records.scorecard(sha256).await?
            && scorecard.corpus == gate::corpus_digest(world)
        {
            return Ok(scorecard);
        }
        let size = u64::try_from(size).unwrap_or(0);
        let scorecard = match compiled {
            Compiled::Generator(generator) => gate::score_generator(&self.engine, generator, size).await,
            Compiled::Policy(policy) => gate::score_policy(&self.engine, policy, size).await,
        };
        self.records.put_scorecard(sha256, &scorecard).await?;
        Ok(scorecard)
    }

    pub async fn scorecard(&self, sha256: &str) -> Result<Scorecard, RegistryError> {
        let info = self.info(sha256).await?;
        let compiled = self.load(sha256).await?;
        Ok(self.scorecard_of(sha256, &compiled, info.size_bytes).await?)
    }

    pub async fn list(&self) -> Result<(Vec<VersionInfo>, Vec<(World, String)>), RegistryError> {
        Ok((self.store.list().await?, self.store.active().await?))
    }

    pub async fn info(&self, sha256: &str) -> Result<VersionInfo, RegistryError> {
        self.store.info(sha256).await?.ok_or_else(|| RegistryError::NotFound(sha256.to_owned()))
    }

    /// Activates a version that passes its corpus; `force` (the admin's reason) activates one
    /// that does not, and the audit log says so.
    pub async fn activate(
        &self,
        sha256: &str,
        actor: Option<&str>,
        force: Option<&str>,
    ) -> Result<VersionInfo, RegistryError> {
        let info = self.info(sha256).await?;
        let compiled = self.load(sha256).await?;
        let scorecard = self.scorecard_of(sha256, &compiled, info.size_bytes).await?;
        let (action, detail) = match (scorecard.passes(), force) {
            (true, _) => ("plugin.activate", info.world.as_str().to_owned()),
            (false, None) => return Err(RegistryError::GateFailed(Box::new(scorecard))),
            (false, Some(reason)) => (
                "plugin.activate.forced",
                format!(
                    "{}; corpus {}/{}; reason: {reason}",
                    info.world.as_str(),
                    scorecard.passed,
                    scorecard.total
                ),
            ),
        };
        self.store.activate(info.world, sha256, actor).await?;
        crate::audit::record(&self.db, actor, action, sha256, &detail).await?;
        self.refresh().await?;
        self.announce(info.world, sha256).await;
        Ok(info)
    }

    /// Re-activates the version that was active before the current one.
    pub async fn rollback(&self, world: World, actor: Option<&str>) -> Result<VersionInfo, RegistryError> {
        let history = self.store.history(world, 1000).await?;
        let current = history.first().cloned();
        let previous = history.iter().find(|sha| Some(*sha) != current.as_ref()).cloned();
        let Some(previous) = previous else { return Err(RegistryError::NothingToRollBack(world.as_str())) };
        let info = self.info(&previous).await?;
        self.load(&previous).await?;
        self.store.activate(world, &previous, actor).await?;
        crate::audit::record(&self.db, actor, "plugin.rollback", &previous, world.as_str()).await?;
        self.refresh().await?;
        self.announce(world, &previous).await;
        Ok(info)
    }

    pub async fn delete(&self, sha256: &str, actor: Option<&str>) -> Result<(), RegistryError> {
        self.info(sha256).await?;
        if !self.store.delete_inactive(sha256).await? {
            return Err(RegistryError::Active(sha256.to_owned()));
        }
        self.compiled.lock().unwrap_or_else(|p| p.into_inner()).remove(sha256);
        crate::audit::record(&self.db, actor, "plugin.delete", sha256, "").await?;
        Ok(())
    }

    /// The active generator, pinned for the caller's whole call.
    pub fn generator(&self) -> Option<(String, Arc<LoadedGenerator>)> {
        self.active.read().unwrap_or_else(|p| p.into_inner()).generator.clone()
    }

    pub fn policy(&self) -> Option<(String, Arc<LoadedPolicy>)> {
        self.active.read().unwrap_or_else(|p| p.into_inner()).policy.clone()
    }

    /// The policy running in shadow beside the active one, if any.
    pub fn shadow_policy(&self) -> Option<(String, Arc<LoadedPolicy>)> {
        self.active.read().unwrap_or_else(|p| p.into_inner()).shadow_policy.clone()
    }

    /// Starts running `sha256` (a policy) in shadow on live verifications.
    pub async fn start_shadow(
        &self,
        sha256: &str,
        actor: Option<&str>,
    ) -> Result<VersionInfo, RegistryError> {
        let info = self.info(sha256).await?;
        self.version_policy(sha256).await?;
        self.records.set_shadow(World::VerificationPolicy, Some(sha256), actor).await?;
        crate::audit::record(&self.db, actor, "plugin.shadow.start", sha256, info.world.as_str()).await?;
        self.refresh().await?;
        self.announce(info.world, sha256).await;
        Ok(info)
    }

    pub async fn shadow_report(
        &self,
        candidate: &str,
        disagreements: i64,
    ) -> Result<super::records::ShadowReport, RegistryError> {
        Ok(self.records.shadow_report(candidate, disagreements).await?)
    }

    pub async fn stop_shadow(&self, actor: Option<&str>) -> Result<(), RegistryError> {
        let world = World::VerificationPolicy;
        let Some(current) = self.records.shadow(world).await? else { return Ok(()) };
        self.records.set_shadow(world, None, actor).await?;
        crate::audit::record(&self.db, actor, "plugin.shadow.stop", &current, world.as_str()).await?;
        self.refresh().await?;
        self.announce(world, &current).await;
        Ok(())
    }

    /// A specific version, compiled (from the cache or the store).
    pub async fn version_generator(&self, sha256: &str) -> Result<Arc<LoadedGenerator>, RegistryError> {
        match self.load(sha256).await? {
            Compiled::Generator(generator) => Ok(generator),
            Compiled::Policy(_) => Err(wrong_world(sha256, World::MissionGenerator)),
        }
    }

    pub async fn version_policy(&self, sha256: &str) -> Result<Arc<LoadedPolicy>, RegistryError> {
        match self.load(sha256).await? {
            Compiled::Policy(policy) => Ok(policy),
            Compiled::Generator(_) => Err(wrong_world(sha256, World::VerificationPolicy)),
        }
    }

    /// Makes memory match the database's active versions and shadow candidate.
    pub async fn refresh(&self) -> anyhow::Result<()> {
        self.refresh_shadow().await?;
        for (world, sha256) in self.store.active().await? {
            let current = {
                let active = self.active.read().unwrap_or_else(|p| p.into_inner());
                match world {
                    World::MissionGenerator => active.generator.as_ref().map(|(sha, _)| sha.clone()),
                    World::VerificationPolicy => active.policy.as_ref().map(|(sha, _)| sha.clone()),
                }
            };
            if current.as_deref() == Some(sha256.as_str()) {
                continue;
            }
            let compiled =
                self.load(&sha256).await.map_err(|err| anyhow::anyhow!("loading {sha256}: {err}"))?;
            let mut active = self.active.write().unwrap_or_else(|p| p.into_inner());
            match compiled {
                Compiled::Generator(generator) => active.generator = Some((sha256.clone(), generator)),
                Compiled::Policy(policy) => active.policy = Some((sha256.clone(), policy)),
            }
            tracing::info!(world = world.as_str(), %sha256, "plugin version active");
        }
        Ok(())
    }

    async fn refresh_shadow(&self) -> anyhow::Result<()> {
        let wanted = self.records.shadow(World::VerificationPolicy).await?;
        let current = self.shadow_policy().map(|(sha, _)| sha);
        if wanted == current {
            return Ok(());
        }
        let loaded = match &wanted {
            Some(sha256) => Some((
                sha256.clone(),
                self.version_policy(sha256)
                    .await
                    .map_err(|err| anyhow::anyhow!("loading {sha256}: {err}"))?,
            )),
            None => None,
        };
        self.active.write().unwrap_or_else(|p| p.into_inner()).shadow_policy = loaded;
        tracing::info!(shadow = ?wanted, "shadow policy changed");
        Ok(())
    }

    async fn load(&self, sha256: &str) -> Result<Compiled, RegistryError> {
        if let Some(compiled) = self.compiled.lock().unwrap_or_else(|p| p.into_inner()).get(sha256).cloned() {
            return Ok(compiled);
        }
        let bytes =
            self.store.component(sha256).await?.ok_or_else(|| RegistryError::NotFound(sha256.to_owned()))?;
        let (_, compiled) = self.compile(sha256.to_owned(), bytes).await?;
        self.cache(sha256, compiled.clone());
        Ok(compiled)
    }

    /// Compiling takes tens of milliseconds of CPU: off the executor.
    async fn compile(&self, name: String, bytes: Vec<u8>) -> Result<(Report, Compiled), RegistryError> {
        let engine = self.engine.clone();
        let (report, loaded) = tokio::task::spawn_blocking(move || inspect::load(&engine, &name, &bytes))
            .await
            .map_err(anyhow::Error::from)??;
        let compiled = match loaded {
            Loaded::Generator(generator) => Compiled::Generator(Arc::new(generator)),
            Loaded::Policy(policy) => Compiled::Policy(Arc::new(policy)),
        };
        Ok((report, compiled))
    }

    fn cache(&self, sha256: &str, compiled: Compiled) {
        let mut cache = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED_VERSIONS {
            let active = self.active.read().unwrap_or_else(|p| p.into_inner());
            let keep: Vec<String> = [
                active.generator.as_ref().map(|(s, _)| s.clone()),
                active.policy.as_ref().map(|(s, _)| s.clone()),
                active.shadow_policy.as_ref().map(|(s, _)| s.clone()),
            ]
            .into_iter()
            .flatten()
            .collect();
            cache.retain(|sha, _| keep.contains(sha));
        }
        cache.insert(sha256.to_owned(), compiled);
    }

    async fn announce(&self, world: World, sha256: &str) {
        let payload =
            serde_json::json!({ "type": "plugin.changed", "world": world.as_str(), "sha256": sha256 });
        if let Err(err) =
            self.bus.publish(topics::PLUGINS, world.as_str(), payload.to_string().as_bytes()).await
        {
            tracing::warn!(error = %err, "could not announce a plugin activation; the periodic check will catch up");
        }
    }

    /// Reloads on every announcement (each instance is its own consumer group, so every
    /// instance hears every announcement) and every few seconds regardless.
    async fn follow_activations(self: Arc<Self>, tasks: &Tasks) -> anyhow::Result<()> {
        let group = format!("plugins-{}", uuid::Uuid::new_v4().simple());
        let mut subscription = self.bus.subscribe(topics::PLUGINS, &group).await?;
        let weak = Arc::downgrade(&self);
        tasks.spawn_follower("plugin activations", move |stop| async move {
            let mut tick = tokio::time::interval(PERIODIC_CHECK);
            loop {
                tokio::select! {
                    message = subscription.next() => if message.is_none() { break },
                    _ = tick.tick() => {}
                    () = stop.cancelled() => break,
                }
                let Some(registry) = weak.upgrade() else { break };
                if let Err(err) = registry.refresh().await {
                    tracing::warn!(error = %err, "refreshing the active plugins failed");
                }
            }
        });
        Ok(())
    }
}

fn wrong_world(sha256: &str, expected: World) -> RegistryError {
    let actual = match expected {
        World::MissionGenerator => World::VerificationPolicy,
        World::VerificationPolicy => World::MissionGenerator,
    };
    RegistryError::WrongWorld {
        sha256: sha256.to_owned(),
        expected: expected.as_str(),
        actual: actual.as_str(),
    }
}
