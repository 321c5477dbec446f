//! The budget of one plugin call, and the ways a call can fail.

use std::time::Duration;

/// Bounds applied to every call; the defaults are production limits.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Wasm instructions, roughly; a generator needs well under a million.
    pub fuel: u64,
    /// Wall time of a call spent in the component itself.
    pub timeout_ms: u64,
    /// Wall time a policy call may spend waiting for its vision requests, on top of
    /// `timeout_ms`: a model answers in seconds, a component in milliseconds.
    pub vision_timeout_ms: u64,
    /// Linear memory per instance.
    pub max_memory_bytes: usize,
    /// Vision requests per call.
    pub max_vision_calls: u32,
    /// Model tokens (prompt and answer) per call, over all its vision requests.
    pub max_vision_tokens: u32,
    /// Log lines kept per call.
    pub max_log_lines: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 200_000_000,
            timeout_ms: 2_000,
            vision_timeout_ms: 60_000,
            max_memory_bytes: 64 << 20,
            max_vision_calls: 3,
            max_vision_tokens: 4_000,
            max_log_lines: 64,
        }
    }
}

impl Limits {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.max(1))
    }

    /// The whole wall-time budget of a policy call, vision requests included.
    pub fn policy_timeout(&self) -> Duration {
        self.timeout() + Duration::from_millis(self.vision_timeout_ms)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallErrorKind {
    /// The component trapped (panic, unreachable, stack overflow…).
    Trap,
    /// It used up its fuel.
    OutOfFuel,
    /// It ran past its wall-time budget.
    Timeout,
    /// It tried to grow memory past the cap.
    MemoryLimit,
    /// It answered something the contract does not allow.
    InvalidOutput,
    /// It returned its own error.
    PluginError,
    /// It could not be instantiated.
    Instantiation,
}

impl CallErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trap => "trap",
            Self::OutOfFuel => "out_of_fuel",
            Self::Timeout => "timeout",
            Self::MemoryLimit => "memory_limit",
            Self::InvalidOutput => "invalid_output",
            Self::PluginError => "plugin_error",
            Self::Instantiation => "instantiation",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("plugin call failed ({}): {message}", kind.as_str())]
pub struct CallError {
    pub kind: CallErrorKind,
    pub message: String,
}

impl CallError {
    pub fn new(kind: CallErrorKind, message: impl Into<String>) -> Self {
        let mut message: String = message.into();
        if message.len() > 1_000 {
            let mut end = 1_000;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        Self { kind, message }
    }
}
