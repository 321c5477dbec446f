//! The audit log: who did what to which thing, for every admin action.

use crate::db::{Database, now_ms};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: i64,
    pub actor: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// The audit log as the domains that write to it hold it.
#[derive(Debug, Clone)]
pub struct AuditLog {
    db: Database,
}

impl AuditLog {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub async fn record(
        &self,
        actor: Option<&str>,
        action: &str,
        target: &str,
        detail: &str,
    ) -> anyhow::Result<()> {
        record(&self.db, actor, action, target, detail).await
    }

    /// Newest first; `before` is the id of the last entry of the previous page.
    pub async fn list(&self, before: Option<&str>, limit: i64) -> anyhow::Result<Vec<AuditEntry>> {
        list(&self.db, before, limit).await
    }
}

pub async fn record(
    db: &Database,
    actor: Option<&str>,
    action: &str,
    target: &str,
    detail: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "insert into audit_log (id, at, actor, action, target, detail) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(now_ms())
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Newest first; `before` is the id of the last entry of the previous page.
pub async fn list(db: &Database, before: Option<&str>, limit: i64) -> anyhow::Result<Vec<AuditEntry>> {
    let rows: Vec<(String, i64, Option<String>, String, String, String)> = sqlx::query_as(
        "select id, at, actor, action, target, detail from audit_log where id < $1 order by id desc limit $2",
    )
    .bind(before.unwrap_or("~"))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, at, actor, action, target, detail)| AuditEntry { id, at, actor, action, target, detail })
        .collect())
}
