//! What a component's store holds during one call: an authority-free WASI context, the log
//! budget, the memory limiter and the vision budget.

use super::bindings::generator_world::weatherwise::plugins::{log, types};
use super::bindings::policy_world::weatherwise::plugins::vision;
use super::bindings::{Level, VisionError};
use super::policy::Vision;
use std::sync::Arc;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

const MAX_LOG_LINE_BYTES: usize = 1024;

/// A vision request the component made and what it got back: the record replays need.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct VisionExchange {
    pub photo: u64,
    pub prompt: String,
    pub json_schema: String,
    pub answer: Result<String, String>,
}

pub struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    pub plugin: String,
    log_lines: u32,
    max_log_lines: u32,
    pub dropped_log_lines: u32,
    max_memory_bytes: usize,
    /// Set when the component asked for more memory than its cap.
    pub memory_denied: bool,
    vision: Option<Arc<dyn Vision>>,
    vision_calls: u32,
    max_vision_calls: u32,
    pub exchanges: Vec<VisionExchange>,
}

impl Sandbox {
    pub fn new(plugin: &str, limits: &super::Limits, vision: Option<Arc<dyn Vision>>) -> Self {
        Self {
            wasi: authority_free_wasi(),
            table: ResourceTable::new(),
            plugin: plugin.to_owned(),
            log_lines: 0,
            max_log_lines: limits.max_log_lines,
            dropped_log_lines: 0,
            max_memory_bytes: limits.max_memory_bytes,
            memory_denied: false,
            vision,
            vision_calls: 0,
            max_vision_calls: limits.max_vision_calls,
            exchanges: Vec::new(),
        }
    }
}

/// No preopened directories, environment, arguments, sockets or name lookups; a clock frozen
/// at the epoch, so a call cannot depend on when it runs.
fn authority_free_wasi() -> WasiCtx {
    let mut builder = WasiCtx::builder();
    builder
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .insecure_random_seed(0x5eed);
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
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory_bytes {
            self.memory_denied = true;
            return Ok(false);
        }
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

impl types::Host for Sandbox {}

impl log::Host for Sandbox {
    async fn log(&mut self, level: Level, message: String) {
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
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

impl vision::Host for Sandbox {
    async fn grade(
        &mut self,
        photo: u64,
        prompt: String,
        json_schema: String,
    ) -> Result<String, VisionError> {
        if self.vision_calls >= self.max_vision_calls {
            return Err(VisionError::BudgetExhausted);
        }
        self.vision_calls += 1;
        let Some(vision) = self.vision.clone() else { return Err(VisionError::Unavailable) };
        if prompt.len() > 8_192 || json_schema.len() > 8_192 {
            return Err(VisionError::InvalidAnswer);
        }
        let answer = vision.grade(photo, &prompt, &json_schema).await;
        self.exchanges.push(VisionExchange {
            photo,
            prompt,
            json_schema,
            answer: answer.clone().map_err(|err| format!("{err:?}")),
        });
        answer
    }
}
