//! The `[chat]` section.

use crate::config::RateLimit;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChatConfig {
    /// Browser origins allowed to open `/ws` besides the server's own (`*` for any). Clients
    /// that send no `Origin` (apps, servers) are not browsers and are let through.
    pub allowed_origins: Vec<String>,
    /// The heart-beat interval the server offers and asks for; 0 turns them off.
    pub heart_beat_ms: u64,
    /// Largest STOMP frame (and WebSocket message) accepted.
    pub max_frame_bytes: usize,
    /// Headers per frame, and bytes per header line.
    pub max_headers: usize,
    pub max_header_bytes: usize,
    /// Subscriptions one connection may hold.
    pub max_subscriptions: usize,
    /// Frames waiting to be written to one connection; past it the client is too slow and is
    /// disconnected (it resumes from its last offset).
    pub queue_frames: usize,
    /// Longest message, in characters after normalisation.
    pub max_text_chars: usize,
    /// Messages one user may send, across their connections and instances.
    pub sends_per_user: RateLimit,
    /// Most missed messages a resuming subscription is sent; a longer gap is answered with the
    /// latest messages and a `resume:reset` header (the client reloads by REST).
    pub resume_max_messages: i64,
    /// Messages a subscription without an offset starts with, and the cache keeps per room.
    pub recent_messages: usize,
    /// Read-only rooms are deleted this long after they closed.
    pub keep_closed_days: i64,
    /// How often each instance checks the rooms it serves for messages it never heard of.
    pub head_check_ms: u64,
    /// How often instances tell each other their subscribers per room (the online counts).
    pub presence_secs: u64,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            heart_beat_ms: 10_000,
            max_frame_bytes: 16 * 1024,
            max_headers: 32,
            max_header_bytes: 2048,
            max_subscriptions: 16,
            queue_frames: 512,
            max_text_chars: 1000,
            sends_per_user: RateLimit { limit: 30, window_secs: 10 },
            resume_max_messages: 1000,
            recent_messages: 100,
            keep_closed_days: 30,
            head_check_ms: 1000,
            presence_secs: 5,
        }
    }
}

impl ChatConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(1024..=1024 * 1024).contains(&self.max_frame_bytes) {
            return Err("chat.max_frame_bytes: 1024 to 1048576".into());
        }
        if !(4..=128).contains(&self.max_headers) || !(256..=16 * 1024).contains(&self.max_header_bytes) {
            return Err("chat: max_headers 4 to 128, max_header_bytes 256 to 16384".into());
        }
        if !(1..=256).contains(&self.max_subscriptions) || !(8..=100_000).contains(&self.queue_frames) {
            return Err("chat: max_subscriptions 1 to 256, queue_frames 8 to 100000".into());
        }
        if !(1..=10_000).contains(&self.max_text_chars) || self.max_text_chars * 4 > self.max_frame_bytes {
            return Err("chat.max_text_chars: 1 to 10000, and at most a quarter of max_frame_bytes".into());
        }
        if self.sends_per_user.limit == 0 || self.sends_per_user.window_secs == 0 {
            return Err("chat.sends_per_user: limit and window_secs above zero".into());
        }
        if !(1..=100_000).contains(&self.resume_max_messages) || !(1..=1000).contains(&self.recent_messages) {
            return Err("chat: resume_max_messages 1 to 100000, recent_messages 1 to 1000".into());
        }
        if self.keep_closed_days < 1 || self.head_check_ms < 100 || self.presence_secs == 0 {
            return Err("chat: keep_closed_days ≥ 1, head_check_ms ≥ 100, presence_secs ≥ 1".into());
        }
        if self.heart_beat_ms != 0 && self.heart_beat_ms < 1000 {
            return Err("chat.heart_beat_ms: 0 (off) or at least 1000".into());
        }
        Ok(())
    }
}
