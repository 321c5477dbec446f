//! The relational store: SQLite (embedded) or PostgreSQL (scaled), chosen by URL scheme.
//!
//! Domain stores write one SQL text that both engines accept (PostgreSQL is the reference
//! dialect: `$n` placeholders, `returning`, `on conflict`; ids as text, times as unix
//! milliseconds in `bigint`). Every difference between the engines lives in this module and in
//! the two migration sets:
//! - connecting (SQLite's pragmas, the directory of its file) and the default URL;
//! - SQLite's log checkpoints, run beside the writers rather than inside a commit
//!   (`checkpoint.rs`);
//! - writing: [`Database::write`] runs a write transaction, taking SQLite's write turn and
//!   retrying transient conflicts (`write.rs`);
//! - row locks: [`WriteTx::lock_rows`] gives the clause a locking `select` ends with;
//! - reading errors: unique violations, the violated constraint, transient conflicts
//!   (`errors.rs`).

pub mod batches;
pub mod checkpoint;
mod errors;
mod write;

pub use errors::{WriteError, is_foreign_key_violation, is_unique_violation, violated_constraint};
pub use write::{KeptConnection, RowLock, WriteFuture, WriteTx};

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::path::Path;
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

/// The URL of the embedded database: a SQLite file in the data directory, created on first use.
pub fn embedded_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("weatherwise.db").display())
}

#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    engine: Engine,
    /// SQLite only: the process's write turn (see [`Database::write`]).
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
                        // Commits never checkpoint: `checkpoint.rs` does, beside them.
                        conn.execute(
                            "pragma journal_mode = wal; pragma synchronous = normal; \
                             pragma busy_timeout = 15000; pragma foreign_keys = on; \
                             pragma mmap_size = 268435456; pragma wal_autocheckpoint = 0; \
                             pragma journal_size_limit = 67108864;",
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

    /// The pool, for reads and single-statement writes that need no write turn.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Whether write transactions of this process commit in parallel. SQLite has one writer
    /// at a time, so its transactions take turns; PostgreSQL locks rows, so transactions on
    /// different rows proceed together.
    pub fn parallel_writes(&self) -> bool {
        self.writer.is_none()
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
