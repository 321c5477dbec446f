//! The gate beside the database: rebuilding a gate from the database under a new epoch,
//! comparing the two for a day (the end-of-day check), and reconciling them. Used by the
//! server and by `weatherwise coupons check|reconcile`.

use super::gate::{CouponGate, DayKey, GateDay};
use super::store::{CouponStore, Day, StoredFacts};
use std::sync::Arc;

/// The gate and the database side by side for one day.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Comparison {
    pub day: String,
    pub stored: StoredFacts,
    /// The gate holds the day, under the epoch the database names.
    pub gate_current: bool,
    pub gate_remaining: Option<i64>,
    /// The quantity left by the database's count.
    pub expected_remaining: Option<i64>,
    /// Users the gate holds that hold no coupon, and the reverse.
    pub gate_users_without_coupon: usize,
    pub holders_missing_from_gate: usize,
    /// Issued within the quantity, one per user, the counter equal to the rows, one answer per
    /// coupon and none without.
    pub database_consistent: bool,
    pub gate_agrees: bool,
}

#[derive(Clone)]
pub struct GateKeeper {
    pub store: CouponStore,
    pub gate: Arc<dyn CouponGate>,
}

impl GateKeeper {
    /// Rebuilds the day's gate from the database under a new epoch, if the database still
    /// names `expected`: of several callers that found the same stale gate, one rebuilds and
    /// the others use its epoch. Returns the epoch the database names afterwards.
    pub async fn rebuild(&self, day: &DayKey, expected: &str) -> anyhow::Result<Option<String>> {
        match self.store.renew_epoch(&day.event_id, &day.day, expected).await? {
            Some(stored) => {
                self.build(day, &stored).await?;
                Ok(Some(stored.gate_epoch))
            }
            None => {
                Ok(self.store.existing_day(&day.event_id, &day.day).await?.map(|stored| stored.gate_epoch))
            }
        }
    }

    /// Builds the day's gate as the database has the day now, under the epoch it names (after
    /// a change of quantity renewed it); nothing for a day nobody claimed yet.
    pub async fn rebuild_as_stored(&self, day: &DayKey) -> anyhow::Result<()> {
        if let Some(stored) = self.store.existing_day(&day.event_id, &day.day).await? {
            self.build(day, &stored).await?;
        }
        Ok(())
    }

    async fn build(&self, day: &DayKey, stored: &Day) -> anyhow::Result<()> {
        // Read after the epoch changed: a claim committed since is counted here, and one
        // committing later was admitted by the old gate and is checked by the database all the
        // same.
        let issued =
            self.store.existing_day(&day.event_id, &day.day).await?.map_or(stored.issued, |now| now.issued);
        let state = GateDay {
            epoch: stored.gate_epoch.clone(),
            remaining: stored.quantity - issued,
            users: self.store.holders(&day.event_id).await?,
        };
        self.gate.rebuild(day, &state).await?;
        metrics::counter!("coupon_gate_rebuilds_total").increment(1);
        tracing::info!(event = %day.event_id, day = %day.day, "coupon gate rebuilt from the database");
        Ok(())
    }

    /// The gate beside the database for one day.
    pub async fn compare(&self, event_id: &str, day: &str) -> anyhow::Result<Comparison> {
        let key = DayKey { event_id: event_id.to_owned(), day: day.to_owned() };
        let stored = self.store.facts(event_id, day).await?;
        let counter = self.store.existing_day(event_id, day).await?;
        let holders = self.store.holders(event_id).await?;
        let gate = self.gate.read(&key).await?;
        let expected_remaining = counter.as_ref().map(|day| day.quantity - day.issued);
        let gate_current =
            matches!((&gate, &counter), (Some(gate), Some(day)) if gate.epoch == day.gate_epoch);
        let gate_users: &[String] = gate.as_ref().map_or(&[], |gate| &gate.users);
        let gate_users_without_coupon =
            gate_users.iter().filter(|user| holders.binary_search(user).is_err()).count();
        let holders_missing_from_gate =
            holders.iter().filter(|user| gate_users.binary_search(user).is_err()).count();
        let database_consistent = stored.quantity.is_none_or(|quantity| stored.coupons <= quantity)
            && stored.counted == stored.coupons
            && stored.distinct_users == stored.coupons
            && stored.answers == stored.coupons
            && stored.answers_without_coupon == 0;
        let gate_remaining = gate.as_ref().map(|gate| gate.remaining);
        // A day nobody claimed yet has no gate to agree or disagree.
        let gate_agrees = counter.is_none()
            || (gate_current
                && gate_remaining == expected_remaining
                && gate_users_without_coupon == 0
                && holders_missing_from_gate == 0);
        Ok(Comparison {
            day: day.to_owned(),
            stored,
            gate_current,
            gate_remaining,
            expected_remaining,
            gate_users_without_coupon,
            holders_missing_from_gate,
            database_consistent,
            gate_agrees,
        })
    }

    /// Compares the gate with the database for one day and, where they differ, rebuilds the
    /// gate from the database. Returns the comparison before and after.
    pub async fn reconcile(&self, event_id: &str, day: &str) -> anyhow::Result<(Comparison, Comparison)> {
        let before = self.compare(event_id, day).await?;
        if !before.gate_agrees {
            let key = DayKey { event_id: event_id.to_owned(), day: day.to_owned() };
            if let Some(stored) = self.store.existing_day(event_id, day).await? {
                self.rebuild(&key, &stored.gate_epoch).await?;
            }
        }
        let after = self.compare(event_id, day).await?;
        Ok((before, after))
    }
}
