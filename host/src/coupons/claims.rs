//! `CouponService`: claiming, redeeming, and keeping the gate in step with the database.
//!
//! A claim, in order: a turn in the bulkhead; the event; the claimant's earlier answer under the
//! same idempotency key (replayed as it was); the opening; eligibility (an approved mission
//! today, the event's points minimum); the gate, which refuses most of a storm without a write;
//! then the database, which alone issues, in one transaction with the answer. "Issued" is said
//! only after that commit.

use super::bulkhead::{Bulkhead, Turn};
use super::config::CouponsConfig;
use super::gate::{Admission, CouponGate, DayKey};
use super::model::{Coupon, CouponEvent, Opening};
use super::reconcile::GateKeeper;
use super::store::{CouponStore, IssueError};
use crate::audit::AuditLog;
use crate::notifications::Notifier;
use crate::state::StateStore;
use crate::tasks::Tasks;
use crate::weather::time::seoul_date;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("no such coupon event")]
    NoSuchEvent,
    #[error("the event opens at a later time")]
    NotOpenYet { opens_at_ms: i64 },
    #[error("the event is over")]
    Over,
    #[error("{0}")]
    NotEligible(String),
    #[error("you already hold a coupon of this event")]
    AlreadyHolds,
    #[error("today's coupons are all taken")]
    SoldOut,
    #[error("too many claims at once; try again shortly")]
    Busy,
    #[error("the coupon gate is being rebuilt; try again shortly")]
    GateRebuilding,
    #[error("the coupon gate cannot be reached; try again shortly")]
    GateUnavailable(#[source] anyhow::Error),
    #[error("this idempotency key was used for another claim")]
    KeyReused,
    #[error("a claim with this idempotency key is in progress; try again shortly")]
    InProgress,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ClaimError {
    fn from(err: sqlx::Error) -> Self {
        Self::Internal(err.into())
    }
}

impl ClaimError {
    /// The outcome label of the claims metric.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::NoSuchEvent => "no_such_event",
            Self::NotOpenYet { .. } => "not_open_yet",
            Self::Over => "event_over",
            Self::NotEligible(_) => "not_eligible",
            Self::AlreadyHolds => "already_holds",
            Self::SoldOut => "sold_out",
            Self::Busy => "busy",
            Self::GateRebuilding | Self::GateUnavailable(_) => "unavailable",
            Self::KeyReused => "key_reused",
            Self::InProgress => "in_progress",
            Self::Internal(_) => "error",
        }
    }
}

pub enum Claimed {
    /// Issued by this claim.
    Issued(Coupon),
    /// Issued by an earlier claim with the same key.
    Replayed(Coupon),
}

/// A claim lock outlives a claim that never finished (its process died) by at most this.
const CLAIM_LOCK_TTL: Duration = Duration::from_secs(30);
/// How long a claim waits for a gate another instance is rebuilding before answering 503.
const REBUILD_WAIT: Duration = Duration::from_secs(1);

pub struct CouponService {
    pub store: CouponStore,
    pub audit: AuditLog,
    pub keeper: GateKeeper,
    gate: Arc<dyn CouponGate>,
    state: Arc<dyn StateStore>,
    bulkhead: Bulkhead,
    notifier: Notifier,
    tasks: Tasks,
    /// Each day's gate epoch as last read from the database.
    epochs: Mutex<HashMap<DayKey, String>>,
}

impl CouponService {
    pub fn new(
        store: CouponStore,
        gate: Arc<dyn CouponGate>,
        notifier: Notifier,
        audit: AuditLog,
        state: Arc<dyn StateStore>,
        config: &CouponsConfig,
        tasks: &Tasks,
    ) -> Self {
        Self {
            state,
            tasks: tasks.clone(),
            keeper: GateKeeper { store: store.clone(), gate: gate.clone() },
            store,
            audit,
            gate,
            bulkhead: Bulkhead::new(
                config.claim_concurrency,
                config.claim_queue,
                Duration::from_millis(config.claim_wait_ms),
            ),
            notifier,
            epochs: Mutex::default(),
        }
    }

    /// A turn in the claim path's bulkhead; `None` (counted as busy) when it is full. Taken
    /// before anything else a claim does, authentication included.
    pub async fn enter(&self) -> Option<Turn> {
        let turn = self.bulkhead.enter().await;
        if turn.is_none() {
            metrics::counter!("coupon_claims_total", "outcome" => ClaimError::Busy.outcome()).increment(1);
        }
        turn
    }

    /// Claims (see [`Self::claim`]) in a task of its own that runs to its end even when the
    /// caller stops waiting (a client that hung up): a claim cut off between the gate and the
    /// database would leave the gate counting a coupon nobody got, and its key locked for the
    /// lock's lifetime. The task holds the bulkhead's `turn` until it ends.
    pub async fn claim_to_the_end(
        self: &Arc<Self>,
        turn: Turn,
        user_id: String,
        event_id: String,
        key: String,
        now_ms: i64,
    ) -> Result<Claimed, ClaimError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let service = self.clone();
        self.tasks.spawn_work("coupon claim", move |_drain| async move {
            let outcome = service.claim(&user_id, &event_id, &key, now_ms).await;
            drop(turn);
            // The caller may be gone; the claim is done all the same.
            let _ = answer.send(outcome);
        });
        answered
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("a claim's task ended without an answer").into()))
    }

    /// Claims a coupon of `event_id` for `user_id` under the idempotency key `key`, within a
    /// turn of the bulkhead ([`Self::enter`]). Only through [`Self::claim_to_the_end`], so no
    /// caller can cut a claim off halfway.
    async fn claim(
        &self,
        user_id: &str,
        event_id: &str,
        key: &str,
        now_ms: i64,
    ) -> Result<Claimed, ClaimError> {
        let outcome = self.claim_once(user_id, event_id, key, now_ms).await;
        let label = match &outcome {
            Ok(Claimed::Issued(_)) => "issued",
            Ok(Claimed::Replayed(_)) => "replayed",
            Err(err) => err.outcome(),
        };
        metrics::counter!("coupon_claims_total", "outcome" => label).increment(1);
        outcome
    }

    async fn claim_once(
        &self,
        user_id: &str,
        event_id: &str,
        key: &str,
        now_ms: i64,
    ) -> Result<Claimed, ClaimError> {
        // One claim per key at a time, on every instance: a retry sent while its original is
        // still running is told to try again, and then gets the original's answer.
        let lock = format!("coupon-claim:{user_id}:{key}");
        let key_locked = match self.state.put_if_absent(&lock, "1", CLAIM_LOCK_TTL).await {
            Ok(true) => true,
            Ok(false) => return Err(ClaimError::InProgress),
            // Without the lock the database still decides; only a racing retry's answer may
            // then say "already holds" instead of repeating the coupon.
            Err(err) => {
                tracing::warn!(error = %err, "the claim lock is unavailable");
                false
            }
        };
        let outcome = self.claim_locked(user_id, event_id, key, now_ms, key_locked).await;
        if let Err(err) = self.state.delete(&lock).await {
            tracing::warn!(error = %err, "releasing a claim lock failed; it expires");
        }
        outcome
    }

    async fn claim_locked(
        &self,
        user_id: &str,
        event_id: &str,
        key: &str,
        now_ms: i64,
        key_locked: bool,
    ) -> Result<Claimed, ClaimError> {
        let today = seoul_date(now_ms).to_string();
        let (event, facts) =
            self.store.claim_facts(event_id, user_id, key, &today).await?.ok_or(ClaimError::NoSuchEvent)?;
        // A retry gets the answer it got, whatever changed since.
        if let Some((answered_event, coupon)) = facts.replay {
            return if answered_event == event_id {
                Ok(Claimed::Replayed(coupon))
            } else {
                Err(ClaimError::KeyReused)
            };
        }
        let day = match event.opening(now_ms) {
            Opening::Open { day } => day,
            Opening::NotYet { opens_at_ms } => return Err(ClaimError::NotOpenYet { opens_at_ms }),
            Opening::Over => return Err(ClaimError::Over),
        };
        if !facts.approved_today {
            return Err(ClaimError::NotEligible("a mission of yours must be approved today first".into()));
        }
        if facts.points < event.min_points {
            return Err(ClaimError::NotEligible(format!(
                "this event needs {} points in total",
                event.min_points
            )));
        }
        let day_key = DayKey { event_id: event.id.clone(), day };
        let epoch = match self.admit(&day_key, &event, user_id).await {
            // Under the key's lock no other claim with this key ran since its earlier answer was
            // looked for above, so the coupon held came from a claim under another key.
            Err(ClaimError::AlreadyHolds) if key_locked => return Err(ClaimError::AlreadyHolds),
            Err(ClaimError::AlreadyHolds) => return self.replay_or_holds(user_id, event_id, key).await,
            admitted => admitted?,
        };
        match self.store.issue(&event.id, &day_key.day, user_id, key).await {
            Ok(coupon) => {
                self.announce(&event, &coupon).await;
                Ok(Claimed::Issued(coupon))
            }
            Err(IssueError::SoldOut) => {
                // The gate let more through than the database has: it is behind (a claim it
                // admitted was lost with its process). Rebuilt from the database, it agrees.
                self.rebuild_if_current(&day_key, &epoch).await;
                Err(ClaimError::SoldOut)
            }
            Err(IssueError::AlreadyHolds) => {
                self.give_back(&day_key, &epoch, user_id, true).await;
                self.replay_or_holds(user_id, event_id, key).await
            }
            Err(IssueError::KeyReused) => {
                self.give_back(&day_key, &epoch, user_id, false).await;
                Err(ClaimError::KeyReused)
            }
            Err(IssueError::Database(err)) => {
                self.give_back(&day_key, &epoch, user_id, false).await;
                Err(ClaimError::Internal(err.into()))
            }
        }
    }

    /// Passes the gate; returns the epoch admitted under. A stale gate is recovered once
    /// (another instance's newer epoch, or a rebuild from the database), then waited for a
    /// moment while another instance may still be building it.
    async fn admit(&self, day: &DayKey, event: &CouponEvent, user_id: &str) -> Result<String, ClaimError> {
        let mut epoch = self.epoch(day, event.daily_quantity).await?;
        let mut recovered = false;
        let deadline = tokio::time::Instant::now() + REBUILD_WAIT;
        loop {
            let admission =
                self.gate.admit(day, &epoch, user_id).await.map_err(ClaimError::GateUnavailable)?;
            match admission {
                Admission::Admitted => return Ok(epoch),
                Admission::SoldOut => return Err(ClaimError::SoldOut),
                Admission::AlreadyHolds => return Err(ClaimError::AlreadyHolds),
                Admission::Stale if !recovered => {
                    epoch = self.recover(day, &epoch).await?;
                    recovered = true;
                }
                Admission::Stale if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Admission::Stale => return Err(ClaimError::GateRebuilding),
            }
        }
    }

    /// The day's gate epoch: cached, else read (the day is created on its first claim).
    async fn epoch(&self, day: &DayKey, quantity: i64) -> Result<String, ClaimError> {
        if let Some(epoch) = self.cached_epoch(day) {
            return Ok(epoch);
        }
        let stored = self.store.day(&day.event_id, &day.day, quantity).await?;
        self.cache_epoch(day, &stored.gate_epoch);
        Ok(stored.gate_epoch)
    }

    /// After the gate answered stale for `used`: the database's epoch if it moved on (another
    /// instance rebuilt the gate, or the quantity changed), else a rebuild under a new one.
    async fn recover(&self, day: &DayKey, used: &str) -> Result<String, ClaimError> {
        let stored =
            self.store.existing_day(&day.event_id, &day.day).await?.ok_or(ClaimError::GateRebuilding)?;
        if stored.gate_epoch != used {
            self.cache_epoch(day, &stored.gate_epoch);
            return Ok(stored.gate_epoch);
        }
        self.rebuild(day, used).await?;
        self.cached_epoch(day).ok_or(ClaimError::GateRebuilding)
    }

    /// Rebuilds the day's gate if the database still names `expected` (see
    /// [`GateKeeper::rebuild`]) and caches the epoch then in force.
    async fn rebuild(&self, day: &DayKey, expected: &str) -> Result<(), ClaimError> {
        if let Some(epoch) = self.keeper.rebuild(day, expected).await.map_err(ClaimError::GateUnavailable)? {
            self.cache_epoch(day, &epoch);
        }
        Ok(())
    }

    async fn rebuild_if_current(&self, day: &DayKey, epoch: &str) {
        if let Err(err) = self.rebuild(day, epoch).await {
            tracing::warn!(error = %err, "rebuilding the coupon gate failed; the next claim tries again");
        }
    }

    async fn give_back(&self, day: &DayKey, epoch: &str, user_id: &str, still_holds: bool) {
        if let Err(err) = self.gate.give_back(day, epoch, user_id, still_holds).await {
            // The gate then under-admits until reconciled; it never over-admits past the database.
            tracing::warn!(error = %err, "returning a coupon admission to the gate failed");
        }
    }

    /// A claim found already holding may be a retry that raced its original: once the original
    /// committed, the key has its answer, which is given again.
    async fn replay_or_holds(&self, user_id: &str, event_id: &str, key: &str) -> Result<Claimed, ClaimError> {
        match self.store.answered(user_id, key).await? {
            Some((answered_event, coupon)) if answered_event == event_id => Ok(Claimed::Replayed(coupon)),
            _ => Err(ClaimError::AlreadyHolds),
        }
    }

    async fn announce(&self, event: &CouponEvent, coupon: &Coupon) {
        let payload = serde_json::json!({
            "coupon_id": coupon.id,
            "event_id": event.id,
            "kind": event.kind,
            "title": event.title,
            "day": coupon.day,
        });
        if let Err(err) = self.notifier.notify(&coupon.user_id, "coupon.issued", payload).await {
            tracing::warn!(error = %err, "could not notify an issued coupon");
        }
    }

    fn cached_epoch(&self, day: &DayKey) -> Option<String> {
        self.epochs.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(day).cloned()
    }

    fn cache_epoch(&self, day: &DayKey, epoch: &str) {
        let mut epochs = self.epochs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Days of past events go: a bounded map however long the process runs.
        if epochs.len() >= 4096 {
            epochs.clear();
        }
        epochs.insert(day.clone(), epoch.to_owned());
    }
}
