//! Write transactions: how domain code writes, on either engine.
//!
//! ```ignore
//! let moved = db
//!     .write(|tx| {
//!         Box::pin(async move {
//!             let ids: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
//!                 "select id from posts where id = $1 {}",
//!                 tx.lock_rows(RowLock::Wait)
//!             )))
//!             .bind(post_id)
//!             .fetch_all(&mut **tx)
//!             .await?;
//!             // … more statements on `&mut **tx` …
//!             Ok::<_, sqlx::Error>(ids.len())
//!         })
//!     })
//!     .await?;
//! ```
//!
//! Why a closure: a transaction that loses a lock conflict (a deadlock or serialization failure
//! on PostgreSQL, a busy file on SQLite) is rolled back and run again, so the work must be
//! something that can be called once per attempt. Why a boxed future: the work borrows the
//! transaction, and only a boxed future can say "this future lives as long as that borrow".
//! `async move` copies the references it uses into the future; borrow owned values outside the
//! closure (`let name = &name;`) so each attempt gets the same reference.

use super::{Database, Engine, WriteError};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Connection, Transaction};
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::time::Duration;

/// Attempts of one transaction, the first included, while it loses transient conflicts.
const ATTEMPTS: u32 = 8;
/// The pause after the first conflict; it doubles after each further one, up to the ceiling,
/// and a random part of it is taken so transactions that collided do not collide again.
const FIRST_PAUSE_US: u64 = 1_000;
const LONGEST_PAUSE_US: u64 = 50_000;

/// What the work of [`Database::write`] returns: a boxed future borrowing the transaction.
pub type WriteFuture<'t, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 't>>;

/// An open write transaction. Statements run on `&mut **tx` (it dereferences to the
/// connection); it is committed when the work returns `Ok` and rolled back when it returns
/// `Err`. `'a` is the lifetime of what the work borrows from outside; it never needs a name.
pub struct WriteTx<'c, 'a> {
    tx: Transaction<'c, Any>,
    engine: Engine,
    roll_back: bool,
    // Says that what the work borrows outlives the transaction, which lets its future hold
    // both the transaction and those borrows.
    borrows: PhantomData<&'c &'a ()>,
}

/// How a `select` in a write transaction locks the rows it returns, until the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// Waits for rows another transaction holds.
    Wait,
    /// Passes over rows another transaction holds: concurrent claimers of a queue each get
    /// other rows instead of queueing on the same one.
    SkipLocked,
}

impl WriteTx<'_, '_> {
    /// The clause that ends a `select` so it locks its rows: `for update` on PostgreSQL. On
    /// SQLite nothing: the transaction holds the database's write lock from its first
    /// statement (`begin immediate`), so no other writer runs beside it.
    pub fn lock_rows(&self, lock: RowLock) -> &'static str {
        match (self.engine, lock) {
            (Engine::Sqlite, _) => "",
            (Engine::Postgres, RowLock::Wait) => "for update",
            (Engine::Postgres, RowLock::SkipLocked) => "for update skip locked",
        }
    }

    /// Ends the transaction with a rollback although the work returns `Ok`: for work that finds,
    /// after a first write, that the rest cannot be done and nothing may stand.
    pub fn roll_back(&mut self) {
        self.roll_back = true;
    }
}

impl Deref for WriteTx<'_, '_> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx<'_, '_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// A connection a long-lived writer keeps between its transactions ([`Database::write_on`]).
/// On SQLite the connection that made the last write keeps its page cache valid, where any
/// other would have to read the changed pages again. An idle writer releases it, so the pool
/// can close (closing waits for every connection).
#[derive(Default)]
pub struct KeptConnection(Option<PoolConnection<Any>>);

impl KeptConnection {
    pub fn release(&mut self) {
        self.0 = None;
    }
}

impl Database {
    /// Runs `work` in a write transaction: commits when it returns `Ok` (unless it called
    /// [`WriteTx::roll_back`]), rolls back when it returns `Err`. A transient conflict rolls
    /// the attempt back and runs `work` again on a new transaction, up to 8 attempts with a
    /// short random pause that grows; so `work` decides everything from what it reads in the
    /// transaction, and has no effect outside it.
    ///
    /// On SQLite (one writer at a time) the transaction first takes this process's write turn,
    /// so writers are handed the file in order the moment the previous one commits, where
    /// SQLite's busy handler would have them sleep and poll (1, 2, 5 … 100 ms); it then
    /// begins `immediate`, taking the write lock before its first read, so a read-then-write
    /// transaction never has to upgrade a snapshot another process wrote past. PostgreSQL's
    /// row locks order writers across instances, so there is no turn.
    pub async fn write<'a, T, E, F>(&self, mut work: F) -> Result<T, E>
    where
        F: for<'t, 'c> FnMut(&'t mut WriteTx<'c, 'a>) -> WriteFuture<'t, T, E>,
        E: WriteError,
    {
        let mut attempt = 1;
        loop {
            let outcome = {
                // The turn before the connection: a writer waiting for its turn holds no
                // connection the others need.
                let _turn = self.write_turn().await;
                match self.pool.acquire().await {
                    Ok(mut conn) => self.attempt(&mut conn, &mut work).await,
                    Err(err) => Err(err.into()),
                }
            };
            match outcome {
                Err(err) if another_attempt(&err, &mut attempt).await => continue,
                outcome => return outcome,
            }
        }
    }

    /// [`Database::write`] on the connection `kept` holds (acquired first if it holds none).
    /// After an error that is not a transient conflict the connection is released, as it may
    /// be the cause.
    pub async fn write_on<'a, T, E, F>(&self, kept: &mut KeptConnection, mut work: F) -> Result<T, E>
    where
        F: for<'t, 'c> FnMut(&'t mut WriteTx<'c, 'a>) -> WriteFuture<'t, T, E>,
        E: WriteError,
    {
        let mut attempt = 1;
        loop {
            let conn = match &mut kept.0 {
                Some(conn) => conn,
                None => kept.0.insert(self.pool.acquire().await?),
            };
            let outcome = {
                let _turn = self.write_turn().await;
                self.attempt(conn, &mut work).await
            };
            if outcome.as_ref().is_err_and(|err| !err.is_transient()) {
                kept.release();
            }
            match outcome {
                Err(err) if another_attempt(&err, &mut attempt).await => continue,
                outcome => return outcome,
            }
        }
    }

    /// SQLite: waits for this process's turn to write and holds it until the guard drops.
    async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.writer {
            Some(writer) => Some(writer.clone().lock_owned().await),
            None => None,
        }
    }

    /// One attempt: begin, run the work, and commit or roll back.
    async fn attempt<'a, T, E, F>(&self, conn: &mut AnyConnection, work: &mut F) -> Result<T, E>
    where
        F: for<'t, 'c> FnMut(&'t mut WriteTx<'c, 'a>) -> WriteFuture<'t, T, E>,
        E: WriteError,
    {
        let tx = match self.engine {
            Engine::Sqlite => conn.begin_with("begin immediate").await?,
            Engine::Postgres => conn.begin().await?,
        };
        let mut tx = WriteTx { tx, engine: self.engine, roll_back: false, borrows: PhantomData };
        let outcome = work(&mut tx).await;
        let WriteTx { tx, roll_back, .. } = tx;
        match outcome {
            Ok(value) if roll_back => {
                tx.rollback().await?;
                Ok(value)
            }
            Ok(value) => {
                tx.commit().await?;
                Ok(value)
            }
            Err(err) => {
                // Ended here rather than when dropped, so the write lock is free before the
                // turn passes on. The work's error is the one to report.
                if let Err(rollback) = tx.rollback().await {
                    tracing::debug!(error = %rollback, "rolling back a failed write transaction");
                }
                Err(err)
            }
        }
    }
}

/// After a failed attempt: whether another is worth making, after a pause.
async fn another_attempt<E: WriteError>(err: &E, attempt: &mut u32) -> bool {
    if *attempt >= ATTEMPTS || !err.is_transient() {
        return false;
    }
    let ceiling = (FIRST_PAUSE_US << (*attempt - 1)).min(LONGEST_PAUSE_US);
    let pause = rand::random_range(ceiling / 2..=ceiling);
    tracing::debug!(attempt, pause_us = pause, error = ?err.database_error(), "a write transaction conflicted; retrying");
    tokio::time::sleep(Duration::from_micros(pause)).await;
    *attempt += 1;
    true
}
