use serde::{Deserialize, Serialize};

/// `[coupons]`: the claim path's own budget (see `bulkhead.rs`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CouponsConfig {
    /// Claims worked on at once by this instance; fewer than the database's connections, so a
    /// storm leaves the other routes some (a claim uses one at a time). Default 16.
    pub claim_concurrency: usize,
    /// Claims waiting for a turn at most; past it a claim is answered 429 at once. Default 256.
    pub claim_queue: usize,
    /// How long a claim waits for a turn before it is answered 429. Default 2000.
    pub claim_wait_ms: u64,
}

impl Default for CouponsConfig {
    fn default() -> Self {
        Self { claim_concurrency: 16, claim_queue: 256, claim_wait_ms: 2000 }
    }
}

impl CouponsConfig {
    /// `database_connections`: the pool's size (`database.max_connections`).
    pub fn validate(&self, database_connections: u32) -> Result<(), String> {
        if !(1..=1024).contains(&self.claim_concurrency) || self.claim_queue > 100_000 {
            return Err("coupons: claim_concurrency 1 to 1024, claim_queue at most 100000".into());
        }
        if self.claim_concurrency >= database_connections as usize {
            return Err(format!(
                "coupons.claim_concurrency ({}) must be below database.max_connections ({database_connections}): \
                 a claim storm would otherwise hold every database connection",
                self.claim_concurrency
            ));
        }
        if !(1..=60_000).contains(&self.claim_wait_ms) {
            return Err("coupons.claim_wait_ms: 1 to 60000".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_budget_stays_below_the_pool() {
        let config = CouponsConfig::default();
        assert_eq!(config.validate(32), Ok(()));
        let refused = config.validate(16).expect_err("16 claims would hold a pool of 16");
        assert!(refused.contains("database.max_connections"), "{refused}");
        assert!(CouponsConfig { claim_concurrency: 15, ..config }.validate(16).is_ok());
    }
}
