//! The relational store: SQLite (embedded) or PostgreSQL (scaled), chosen by URL scheme.
//!
//! Domain stores write one SQL text that both engines accept (PostgreSQL is the reference
//! dialect: `$n` placeholders, `returning`, `on conflict`; ids as text, times as unix
//! milliseconds in `bigint`). Engine differences live here and in the per-engine migrations.

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            _ => anyhow::bail!("database.url must start with sqlite: or postgres:"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    engine: Engine,
    /// SQLite only: see [`Database::write_turn`].
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl Database {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        install_default_drivers();
        let engine = Engine::from_url(url)?;
        if engine == Engine::Sqlite {
            create_sqlite_parent_dir(url)?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            // A ping before every checkout doubles the round trips of each query; a broken
            // connection surfaces as a query error instead and the pool replaces it.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        // WAL lets readers run beside the single writer; the busy timeout makes
                        // concurrent writers queue instead of failing with SQLITE_BUSY. Reads
                        // through a memory map (up to 256 MiB of the file) skip a read call per
                        // page, which a connection makes whenever another one wrote since.
                        conn.execute(
                            "pragma journal_mode = wal; pragma synchronous = normal; \
                             pragma busy_timeout = 15000; pragma foreign_keys = on; \
                             pragma mmap_size = 268435456;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .with_context(|| format!("connecting to the {} database", engine.name()))?;
        let writer = (engine == Engine::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(())));
        Ok(Self { pool, engine, writer })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Waits for this process's turn to run a write transaction on a hot spot, and holds it
    /// until the guard drops. On SQLite (one writer at a time, one process) the lock hands the
    /// file to the next writer the moment the previous one finishes, where SQLite's busy
    /// handler would have it sleep and poll (1, 2, 5 … 100 ms). `None` on PostgreSQL, whose
    /// row locks already order writers across instances.
    pub async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.writer {
            Some(writer) => Some(writer.clone().lock_owned().await),
            None => None,
        }
    }

    /// Applies the pending migrations of this engine's set.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.engine {
            Engine::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Engine::Postgres => sqlx::migrate!("../migrations/postgres"),
        };
        migrator.run(&self.pool).await.context("applying migrations")
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// True when the error is a unique-constraint violation (answered 409 by the callers).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().is_some_and(|db| db.is_unique_violation())
}

/// True when the transaction lost a lock conflict and may simply be tried again: a deadlock or
/// serialization failure on PostgreSQL, a busy or locked database on SQLite.
pub fn is_transient_conflict(err: &sqlx::Error) -> bool {
    let Some(code) = err.as_database_error().and_then(|db| db.code()) else {
        return false;
    };
    // SQLite reports extended result codes: 5 SQLITE_BUSY, 6 SQLITE_LOCKED and their
    // variants (busy_snapshot 517, locked_sharedcache 262, …) keep the primary code in the low byte.
    let sqlite_busy = code.parse::<i32>().is_ok_and(|code| matches!(code & 0xff, 5 | 6));
    sqlite_busy || matches!(code.as_ref(), "40001" | "40P01")
}

/// The name of the violated constraint or, on SQLite, the message naming the column.
pub fn violated_constraint(err: &sqlx::Error) -> String {
    err.as_database_error()
        .map(|db| db.constraint().map(str::to_owned).unwrap_or_else(|| db.message().to_owned()))
        .unwrap_or_default()
}

fn create_sqlite_parent_dir(url: &str) -> anyhow::Result<()> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(())
}

/// Milliseconds since the Unix epoch: the portable timestamp of every table.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
