//! What a component's store holds during one call: an authority-free WASI context, the log
//! budget, the memory limiter and the vision budget (calls and tokens). The host imports of
//! every contract version ([`super::bindings`]) come down to [`Sandbox::log_line`] and
//! [`Sandbox::grade_photo`].

use super::call_clock::CallClock;
use super::rng::SeededRng;
use crate::vision::{Vision, VisionError};
use std::sync::Arc;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

const MAX_LOG_LINE_BYTES: usize = 1024;
/// Largest prompt or schema a component may send to the model.
const MAX_PROMPT_BYTES: usize = 8_192;

pub struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    pub plugin: String,
    log_lines: u32,
    max_log_lines: u32,
    pub dropped_log_lines: u32,
    /// The cap on all of the instance's linear memories together (a component may have several).
    max_memory_bytes: usize,
    /// The linear memories' sizes added up, now and at most, in bytes.
    total_memory_bytes: usize,
    pub peak_memory_bytes: usize,
    /// Set when the component asked for more memory than its cap.
    pub memory_denied: bool,
    vision: Option<Arc<dyn Vision>>,
    vision_calls: u32,
    max_vision_calls: u32,
    vision_tokens: u32,
    max_vision_tokens: u32,
    /// Where the call's time went: the epoch deadline and the call's watchdog read it.
    pub clock: Arc<CallClock>,
}

impl Sandbox {
    /// `seed` feeds the component's random sources; the call's record keeps it for replays.
    pub fn new(plugin: &str, limits: &super::Limits, vision: Option<Arc<dyn Vision>>, seed: u64) -> Self {
        Self {
            wasi: authority_free_wasi(seed),
            table: ResourceTable::new(),
            plugin: plugin.to_owned(),
            log_lines: 0,
            max_log_lines: limits.max_log_lines,
            dropped_log_lines: 0,
            max_memory_bytes: limits.max_memory_bytes,
            total_memory_bytes: 0,
            peak_memory_bytes: 0,
            memory_denied: false,
            vision,
            vision_calls: 0,
            max_vision_calls: limits.max_vision_calls,
            vision_tokens: 0,
            max_vision_tokens: limits.max_vision_tokens,
            clock: CallClock::start(),
        }
    }
}

/// No preopened directories, environment, arguments, sockets or name lookups; a clock frozen
/// at the epoch and randomness from the call's seed, so a call cannot depend on when it runs
/// and replays exactly.
fn authority_free_wasi(seed: u64) -> WasiCtx {
    let mut builder = WasiCtx::builder();
    builder
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .secure_random(SeededRng::new(seed))
        .insecure_random(SeededRng::new(seed.rotate_left(32)))
        .insecure_random_seed(u128::from(seed));
    builder.build()
}

struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }

    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl ResourceLimiter for Sandbox {
    /// Called for every linear memory as it is created (from zero) and grown, so the running
    /// total covers them all.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.total_memory_bytes.saturating_sub(current).saturating_add(desired);
        if total > self.max_memory_bytes {
            self.memory_denied = true;
            return Ok(false);
        }
        self.total_memory_bytes = total;
        self.peak_memory_bytes = self.peak_memory_bytes.max(total);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// A log line's level, whatever the contract version that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl Sandbox {
    /// The `log` import: at most `max_log_lines` lines of at most 1 KiB per call, the rest
    /// dropped and counted.
    pub fn log_line(&mut self, level: LogLevel, message: &str) {
        if self.log_lines >= self.max_log_lines {
            self.dropped_log_lines += 1;
            return;
        }
        self.log_lines += 1;
        let mut end = message.len().min(MAX_LOG_LINE_BYTES);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let message = &message[..end];
        let plugin = self.plugin.as_str();
        match level {
            LogLevel::Debug => tracing::debug!(plugin, "{message}"),
            LogLevel::Info => tracing::info!(plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin, "{message}"),
            LogLevel::Error => tracing::error!(plugin, "{message}"),
        }
    }

    /// The `vision.grade` import, within the call's budget of requests and tokens.
    pub async fn grade_photo(
        &mut self,
        photo: u64,
        prompt: &str,
        json_schema: &str,
    ) -> Result<String, VisionError> {
        if self.vision_calls >= self.max_vision_calls || self.vision_tokens >= self.max_vision_tokens {
            return Err(VisionError::BudgetExhausted);
        }
        self.vision_calls += 1;
        let Some(vision) = self.vision.clone() else { return Err(VisionError::Unavailable) };
        if prompt.len() > MAX_PROMPT_BYTES || json_schema.len() > MAX_PROMPT_BYTES {
            return Err(VisionError::InvalidAnswer);
        }
        let remaining = self.max_vision_tokens - self.vision_tokens;
        self.clock.vision_started();
        let outcome = vision.grade(photo, prompt, json_schema, remaining).await;
        self.clock.vision_finished();
        let tokens = outcome.as_ref().map_or(0, |answer| answer.tokens);
        self.vision_tokens = self.vision_tokens.saturating_add(tokens);
        outcome.map(|answer| answer.content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_cap_covers_all_memories_together() {
        let limits = super::super::Limits { max_memory_bytes: 64 << 20, ..Default::default() };
        let mut sandbox = Sandbox::new("many-memories", &limits, None, 0);
        assert!(sandbox.memory_growing(0, 40 << 20, None).expect("first memory"));
        assert!(!sandbox.memory_growing(0, 40 << 20, None).expect("second memory"), "over the total");
        assert!(sandbox.memory_denied);
        assert!(sandbox.memory_growing(0, 20 << 20, None).expect("a smaller second memory"));
        assert!(sandbox.memory_growing(40 << 20, 44 << 20, None).expect("the first grows"));
        assert!(!sandbox.memory_growing(20 << 20, 21 << 20, None).expect("the second grows"), "64 MiB used");
        assert_eq!(sandbox.peak_memory_bytes, 64 << 20);
    }
}
