//! The registry: versions stored content-addressed, one active version per world, hot swap.
//!
//! A call takes an `Arc` of the active version when it starts, so an activation never affects
//! calls in flight: they finish on the version they began with. Activations are written to the
//! database, then announced on the bus; every instance reloads on the announcement, and a
//! periodic check catches any announcement that was missed.

use super::generator::LoadedGenerator;
use super::inspect::{self, InspectError, Loaded, Report};
use super::policy::LoadedPolicy;
use super::store::{NewVersion, PluginStore, VersionInfo};
use super::{PluginEngine, World, bundled};
use crate::bus::{EventBus, topics};
use crate::db::Database;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The safety net behind bus announcements.
const PERIODIC_CHECK: Duration = Duration::from_secs(2);
/// Compiled versions kept in memory besides the active ones.
const MAX_CACHED_VERSIONS: usize = 32;

#[derive(Clone)]
enum Compiled {
    Generator(Arc<LoadedGenerator>),
    Policy(Arc<LoadedPolicy>),
}

#[derive(Default)]
struct Active {
    generator: Option<(String, Arc<LoadedGenerator>)>,
    policy: Option<(String, Arc<LoadedPolicy>)>,
}

pub struct PluginRegistry {
    pub engine: Arc<PluginEngine>,
    store: Arc<dyn PluginStore>,
    db: Database,
    bus: Arc<dyn EventBus>,
    compiled: Mutex<HashMap<String, Compiled>>,
    active: RwLock<Active>,
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
}

impl PluginRegistry {
    /// Registers the bundled components, activates them where a world has no active version,
    /// loads the active versions and starts following activations.
    pub async fn start(
        engine: PluginEngine,
        store: Arc<dyn PluginStore>,
        db: Database,
        bus: Arc<dyn EventBus>,
    ) -> anyhow::Result<Arc<Self>> {
        let registry = Arc::new(Self {
            engine: Arc::new(engine),
            store,
            db,
            bus,
            compiled: Mutex::new(HashMap::new()),
            active: RwLock::new(Active::default()),
        });
        let active = registry.store.active().await?;
        for (label, bytes) in [("bundled generator", bundled::GENERATOR), ("bundled policy", bundled::POLICY)]
        {
            let uploaded = registry
                .upload(bytes, label, "shipped with the server", None)
                .await
                .map_err(anyhow::Error::from)?;
            let world = uploaded.version.world;
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
        registry.clone().follow_activations().await?;
        Ok(registry)
    }

    /// Validates (compiles, finds the world) and stores a component.
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
        self.cache(&sha256, compiled);
        let version =
            self.store.info(&sha256).await?.ok_or_else(|| RegistryError::NotFound(sha256.clone()))?;
        let report = serde_json::to_value(&report).map_err(anyhow::Error::from)?;
        Ok(Uploaded { version, created, report })
    }

    pub async fn list(&self) -> Result<(Vec<VersionInfo>, Vec<(World, String)>), RegistryError> {
        Ok((self.store.list().await?, self.store.active().await?))
    }

    pub async fn info(&self, sha256: &str) -> Result<VersionInfo, RegistryError> {
        self.store.info(sha256).await?.ok_or_else(|| RegistryError::NotFound(sha256.to_owned()))
    }

    pub async fn activate(&self, sha256: &str, actor: Option<&str>) -> Result<VersionInfo, RegistryError> {
        let info = self.info(sha256).await?;
        self.load(sha256).await?;
        self.store.activate(info.world, sha256, actor).await?;
        crate::audit::record(&self.db, actor, "plugin.activate", sha256, info.world.as_str()).await?;
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

    /// A specific version, compiled (from the cache or the store).
    pub async fn version_generator(&self, sha256: &str) -> Result<Arc<LoadedGenerator>, RegistryError> {
        match self.load(sha256).await? {
            Compiled::Generator(generator) => Ok(generator),
            Compiled::Policy(_) => Err(RegistryError::WrongWorld {
                sha256: sha256.to_owned(),
                expected: World::MissionGenerator.as_str(),
                actual: World::VerificationPolicy.as_str(),
            }),
        }
    }

    /// Makes memory match the database's active versions.
    pub async fn refresh(&self) -> anyhow::Result<()> {
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
            serde_json::json!({ "type": "plugin.activated", "world": world.as_str(), "sha256": sha256 });
        if let Err(err) =
            self.bus.publish(topics::PLUGINS, world.as_str(), payload.to_string().as_bytes()).await
        {
            tracing::warn!(error = %err, "could not announce a plugin activation; the periodic check will catch up");
        }
    }

    /// Reloads on every announcement (each instance is its own consumer group, so every
    /// instance hears every announcement) and every few seconds regardless.
    async fn follow_activations(self: Arc<Self>) -> anyhow::Result<()> {
        let group = format!("plugins-{}", uuid::Uuid::new_v4().simple());
        let mut subscription = self.bus.subscribe(topics::PLUGINS, &group).await?;
        let weak = Arc::downgrade(&self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PERIODIC_CHECK);
            loop {
                tokio::select! {
                    message = subscription.next() => if message.is_none() { break },
                    _ = tick.tick() => {}
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
