//! The alert poller: reads the warning feed on a schedule, records what it lists, and tells
//! the instances and the alert rooms.
//!
//! Exactly one instance reads the feed at a time: the one holding the lease in the shared
//! state, which it renews every third of its term; when the holder dies, another takes the
//! lease within one term and polls at once. A poll asked for by an admin takes a short lock
//! instead, so it never runs beside a scheduled one. Every instance reloads the warnings in
//! force when the poller announces a change on the bus, and on its own every lease term in
//! case an announcement was lost.

use super::active::ActiveAlerts;
use super::feed::WarningFeed;
use super::store::{StoredWarning, WarningStore};
use crate::bus::{EventBus, topics};
use crate::state::StateStore;
use crate::tasks::Tasks;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LEASE_KEY: &str = "alerts:poller";
const POLLING_KEY: &str = "alerts:polling";
/// How long the polling lock outlives an instance that dies during a poll: the poll renews it
/// three times a term while it runs, so a dead poller blocks the next one (the lease's new
/// holder, or an admin's poll) for at most this long.
const POLLING_LOCK: Duration = Duration::from_secs(3);

/// Told of the warnings in force after every successful poll (the alert rooms follow them).
#[async_trait]
pub trait WarningsListener: Send + Sync + 'static {
    async fn warnings_in_force(&self, in_force: &[StoredWarning]) -> anyhow::Result<()>;
}

/// What one poll found.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PollOutcome {
    pub source: &'static str,
    /// Rows read, duplicates included.
    pub read: usize,
    pub new: usize,
    pub lifted: usize,
    pub in_force: usize,
    /// Rows passed over, with why (a sea area, an unknown kind …).
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("another poll is running")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

pub struct AlertPoller {
    feed: Box<dyn WarningFeed>,
    store: WarningStore,
    active: ActiveAlerts,
    listener: Arc<dyn WarningsListener>,
    state: Arc<dyn StateStore>,
    bus: Arc<dyn EventBus>,
    /// This instance's name in the lease.
    holder: String,
    interval: Duration,
    lease: Duration,
}

impl AlertPoller {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        feed: Box<dyn WarningFeed>,
        store: WarningStore,
        active: ActiveAlerts,
        listener: Arc<dyn WarningsListener>,
        state: Arc<dyn StateStore>,
        bus: Arc<dyn EventBus>,
        interval: Duration,
        lease: Duration,
    ) -> Arc<Self> {
        let holder = uuid::Uuid::new_v4().simple().to_string();
        Arc::new(Self { feed, store, active, listener, state, bus, holder, interval, lease })
    }

    /// Reads the feed now and applies it. Refused while another poll runs anywhere.
    pub async fn poll_now(&self) -> Result<PollOutcome, PollError> {
        if !self.state.put_if_absent(POLLING_KEY, &self.holder, POLLING_LOCK).await? {
            return Err(PollError::Busy);
        }
        let outcome = {
            let poll = self.poll();
            tokio::pin!(poll);
            let mut renew = tokio::time::interval(POLLING_LOCK / 3);
            renew.tick().await;
            loop {
                tokio::select! {
                    outcome = &mut poll => break outcome,
                    _ = renew.tick() => {
                        if let Err(err) = self.state.extend_if(POLLING_KEY, &self.holder, POLLING_LOCK).await {
                            tracing::warn!(error = %err, "could not renew the alert polling lock");
                        }
                    }
                }
            }
        };
        if let Err(err) = self.state.delete(POLLING_KEY).await {
            tracing::warn!(error = %err, "could not release the alert polling lock");
        }
        let outcome = outcome?;
        metrics::counter!("alerts_polls_total", "outcome" => "ok").increment(1);
        Ok(outcome)
    }

    async fn poll(&self) -> anyhow::Result<PollOutcome> {
        let read = self.feed.current().await.inspect_err(|_| {
            metrics::counter!("alerts_polls_total", "outcome" => "failed").increment(1);
        })?;
        for reason in &read.skipped {
            tracing::debug!(reason, "warning row passed over");
        }
        let recorded = self.store.record(&read.warnings).await?;
        let in_force = self.store.in_force().await?;
        self.active.replace(&in_force);
        self.listener.warnings_in_force(&in_force).await?;
        if recorded.new > 0 || recorded.lifted > 0 {
            tracing::info!(new = recorded.new, lifted = recorded.lifted, "weather warnings changed");
            if let Err(err) = self.bus.publish(topics::ALERTS, "warnings", b"{}").await {
                tracing::warn!(error = %err, "could not announce changed warnings; instances reload on their own");
            }
        }
        Ok(PollOutcome {
            source: self.feed.name(),
            read: read.warnings.len(),
            new: recorded.new,
            lifted: recorded.lifted,
            in_force: in_force.len(),
            skipped: read.skipped,
        })
    }

    /// Holds or seeks the lease, polls on schedule while holding it, and reloads the warnings
    /// in force (on announcements and every lease term), until the tasks stop.
    pub async fn start(self: &Arc<Self>, tasks: &Tasks) -> anyhow::Result<()> {
        let group = format!("{}-{}", topics::ALERTS, self.holder);
        let mut announcements = self.bus.subscribe(topics::ALERTS, &group).await?;
        let poller = self.clone();
        tasks.spawn_follower("alert poller", move |stop| async move {
            let mut holding = false;
            let mut last_poll: Option<Instant> = None;
            let mut tick = tokio::time::interval(poller.lease / 3);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    announced = announcements.next() => {
                        if announced.is_none() { break }
                        poller.reload().await;
                        continue;
                    }
                    _ = tick.tick() => {}
                }
                holding = poller.hold_lease(holding).await;
                if holding && last_poll.is_none_or(|at| at.elapsed() >= poller.interval) {
                    match poller.poll_now().await {
                        Ok(_) => last_poll = Some(Instant::now()),
                        Err(PollError::Busy) => {}
                        Err(err) => {
                            tracing::warn!(error = %err, "reading the warning feed failed; retrying");
                            // Try again at the next tick rather than an interval later.
                        }
                    }
                } else {
                    poller.reload().await;
                }
            }
            if holding {
                let _ = poller.state.delete(LEASE_KEY).await;
            }
        });
        Ok(())
    }

    async fn hold_lease(&self, holding: bool) -> bool {
        let held = if holding {
            self.state.extend_if(LEASE_KEY, &self.holder, self.lease).await
        } else {
            self.state.put_if_absent(LEASE_KEY, &self.holder, self.lease).await
        };
        match held {
            Ok(held) => {
                if held && !holding {
                    tracing::info!("this instance now polls the warning feed");
                }
                held
            }
            Err(err) => {
                tracing::warn!(error = %err, "the alert poller's lease is unreachable");
                false
            }
        }
    }

    async fn reload(&self) {
        if let Err(err) = self.active.reload().await {
            tracing::warn!(error = %err, "could not reload the warnings in force");
        }
    }
}
