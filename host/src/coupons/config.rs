use serde::{Deserialize, Serialize};

/// `[coupons]`: the claim path's own budget (see `bulkhead.rs`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CouponsConfig {
    /// Claims worked on at once by this instance. Default 16.
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
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=1024).contains(&self.claim_concurrency) || self.claim_queue > 100_000 {
            return Err("coupons: claim_concurrency 1 to 1024, claim_queue at most 100000".into());
        }
        if !(1..=60_000).contains(&self.claim_wait_ms) {
            return Err("coupons.claim_wait_ms: 1 to 60000".into());
        }
        Ok(())
    }
}
