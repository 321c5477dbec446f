//! Storage of component versions and activations, one SQL text for both engines.

use super::{Contract, World};
use crate::db::{Database, is_unique_violation, now_ms};
use async_trait::async_trait;

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct VersionInfo {
    pub sha256: String,
    #[schema(value_type = String)]
    pub world: World,
    /// The version of the plugin contracts it implements, e.g. `0.2.0`.
    #[schema(value_type = String)]
    pub contract: Contract,
    pub label: String,
    pub note: String,
    pub uploaded_by: Option<String>,
    pub size_bytes: i64,
    pub created_at: i64,
}

pub struct NewVersion<'a> {
    pub sha256: &'a str,
    pub world: World,
    pub contract: Contract,
    pub label: &'a str,
    pub note: &'a str,
    pub uploaded_by: Option<&'a str>,
    pub component: &'a [u8],
}

#[async_trait]
pub trait PluginStore: Send + Sync + 'static {
    /// Stores a version; `false` when that content was already stored.
    async fn insert(&self, version: NewVersion<'_>) -> anyhow::Result<bool>;
    async fn info(&self, sha256: &str) -> anyhow::Result<Option<VersionInfo>>;
    async fn component(&self, sha256: &str) -> anyhow::Result<Option<Vec<u8>>>;
    async fn list(&self) -> anyhow::Result<Vec<VersionInfo>>;
    /// Deletes a version that was never or is no longer active; `false` if it is active.
    async fn delete_inactive(&self, sha256: &str) -> anyhow::Result<bool>;
    async fn activate(&self, world: World, sha256: &str, actor: Option<&str>) -> anyhow::Result<()>;
    /// The active version of each world.
    async fn active(&self) -> anyhow::Result<Vec<(World, String)>>;
    /// Activation history of a world, newest first.
    async fn history(&self, world: World, limit: i64) -> anyhow::Result<Vec<String>>;
}

#[derive(Clone)]
pub struct SqlPluginStore {
    db: Database,
}

impl SqlPluginStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

type InfoRow = (String, String, String, String, String, Option<String>, i64, i64);

fn to_info(
    (sha256, world, contract, label, note, uploaded_by, size_bytes, created_at): InfoRow,
) -> VersionInfo {
    VersionInfo {
        sha256,
        world: World::from_column(&world),
        contract: Contract::from_column(&contract),
        label,
        note,
        uploaded_by,
        size_bytes,
        created_at,
    }
}

const INFO_COLUMNS: &str = "sha256, world, contract, label, note, uploaded_by, size_bytes, created_at";

#[async_trait]
impl PluginStore for SqlPluginStore {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, version: NewVersion<'_>) -> anyhow::Result<bool> {
        let inserted = sqlx::query(
            "insert into plugin_versions (sha256, world, contract, label, note, uploaded_by, size_bytes, component, \
             created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(version.sha256)
        .bind(version.world.as_str())
        .bind(version.contract.as_str())
        .bind(version.label)
        .bind(version.note)
        .bind(version.uploaded_by)
        .bind(i64::try_from(version.component.len())?)
        .bind(version.component)
        .bind(now_ms())
        .execute(self.db.pool())
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(err) if is_unique_violation(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    async fn info(&self, sha256: &str) -> anyhow::Result<Option<VersionInfo>> {
        let sql = format!("select {INFO_COLUMNS} from plugin_versions where sha256 = $1");
        let row: Option<InfoRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(sha256).fetch_optional(self.db.pool()).await?;
        Ok(row.map(to_info))
    }

    async fn component(&self, sha256: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("select component from plugin_versions where sha256 = $1")
                .bind(sha256)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(row.map(|(bytes,)| bytes))
    }

    async fn list(&self) -> anyhow::Result<Vec<VersionInfo>> {
        let sql = format!("select {INFO_COLUMNS} from plugin_versions order by created_at desc, sha256");
        let rows: Vec<InfoRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(self.db.pool()).await?;
        Ok(rows.into_iter().map(to_info).collect())
    }

    async fn delete_inactive(&self, sha256: &str) -> anyhow::Result<bool> {
        let active = self.active().await?;
        if active.iter().any(|(_, active_sha)| active_sha == sha256) {
            return Ok(false);
        }
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("delete from plugin_activations where sha256 = $1")
            .bind(sha256)
            .execute(&mut *tx)
            .await?;
        sqlx::query("delete from plugin_versions where sha256 = $1").bind(sha256).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn activate(&self, world: World, sha256: &str, actor: Option<&str>) -> anyhow::Result<()> {
        sqlx::query("insert into plugin_activations (id, world, sha256, actor, activated_at) values ($1, $2, $3, $4, $5)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(world.as_str())
            .bind(sha256)
            .bind(actor)
            .bind(now_ms())
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    async fn active(&self) -> anyhow::Result<Vec<(World, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "select a.world, a.sha256 from plugin_activations a \
             where a.id = (select max(b.id) from plugin_activations b where b.world = a.world)",
        )
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|(world, sha)| (World::from_column(&world), sha)).collect())
    }

    async fn history(&self, world: World, limit: i64) -> anyhow::Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "select sha256 from plugin_activations where world = $1 order by id desc limit $2",
        )
        .bind(world.as_str())
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|(sha,)| sha).collect())
    }
}
