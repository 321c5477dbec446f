//! Fixed-window limits kept in the shared state store, so in the scaled mode every instance
//! counts into the same window.

use crate::config::RateLimit;
use crate::error::{ApiError, ApiResult};
use crate::state::StateStore;
use std::time::Duration;

/// Counts one attempt of `scope` by `subject`; past the limit, answers 429 with `Retry-After`.
pub async fn check(state: &dyn StateStore, scope: &str, subject: &str, limit: RateLimit) -> ApiResult<()> {
    let key = format!("rl:{scope}:{subject}");
    let window = state.hit(&key, Duration::from_secs(limit.window_secs)).await?;
    if window.count > limit.limit {
        metrics::counter!("rate_limited_total", "scope" => scope.to_owned()).increment(1);
        return Err(ApiError::RateLimited { retry_after_secs: window.resets_in.as_secs_f64().ceil() as u64 });
    }
    Ok(())
}
