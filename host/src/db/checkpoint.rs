//! SQLite's write-ahead log is copied back into the database file by checkpoints. Left to
//! itself, SQLite checkpoints inside whichever commit takes the log past 1,000 pages, and that
//! commit, with every writer queued behind it, waits for the copy and its fsync (on a busy
//! disk, a hundred milliseconds and more). So commits never checkpoint here
//! (`wal_autocheckpoint = 0`): a follower does it beside them, in PASSIVE mode, which neither
//! blocks nor waits for readers and writers. Never RESTART or TRUNCATE while serving: those hold
//! the write lock while they wait for readers, and every writer would queue behind them. The
//! log starts over from its beginning once a checkpoint has copied it all and no reader needs
//! it, and `journal_size_limit` (set on every connection) truncates the file then.

use super::Database;
use crate::tasks::Tasks;
use std::time::Duration;

/// How often the log is checkpointed.
const EVERY: Duration = Duration::from_millis(250);

/// Starts the checkpointer of a SQLite database; nothing for PostgreSQL.
pub fn start(db: &Database, tasks: &Tasks) {
    if db.parallel_writes() {
        return;
    }
    let pool = db.pool().clone();
    tasks.spawn_follower("sqlite checkpoints", move |stop| async move {
        let mut ticks = tokio::time::interval(EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = ticks.tick() => {}
            }
            if let Err(err) = checkpoint(&pool, PASSIVE).await {
                tracing::warn!(error = %err, "checkpointing the SQLite log failed");
            }
        }
        // A last one, so the file is whole when the process ends (nothing is served by then).
        let _ = checkpoint(&pool, TRUNCATE).await;
    });
}

const PASSIVE: &str = "pragma wal_checkpoint(passive)";
const TRUNCATE: &str = "pragma wal_checkpoint(truncate)";

/// Runs one checkpoint (`PASSIVE` or `TRUNCATE`); reports the pages the log holds.
async fn checkpoint(pool: &sqlx::AnyPool, sql: &'static str) -> Result<(), sqlx::Error> {
    let (_busy, log_pages, _copied): (i64, i64, i64) = sqlx::query_as(sql).fetch_one(pool).await?;
    metrics::gauge!("sqlite_wal_pages").set(log_pages as f64);
    Ok(())
}
