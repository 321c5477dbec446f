//! The chat domain's vocabulary: rooms, messages, and the events instances tell each other.

use serde::{Deserialize, Serialize};

/// Rooms are open while a warning of their province is in force, then read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoomStatus {
    Open,
    ReadOnly,
}

impl RoomStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::ReadOnly => "read_only",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "open" => Some(Self::Open),
            "read_only" => Some(Self::ReadOnly),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub id: String,
    pub province: String,
    pub name: String,
    pub status: RoomStatus,
    pub epoch: String,
    /// The offset the next message will get; the latest is one less.
    pub next_offset: i64,
    pub opened_at_ms: i64,
    pub closed_at_ms: Option<i64>,
}

/// A stored chat message. Offsets are consecutive per room from 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChatMessage {
    pub id: String,
    pub room_id: String,
    pub offset: i64,
    pub user_id: String,
    pub nickname: String,
    pub text: String,
    pub sent_at_ms: i64,
}

impl ChatMessage {
    /// The body of the MESSAGE frames that carry it.
    pub fn json_body(&self) -> bytes::Bytes {
        bytes::Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }
}

/// What instances tell each other on the `chat` topic, keyed by room.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    /// A message was stored.
    Message { message: ChatMessage },
    /// A message was deleted by an admin.
    Deleted { room_id: String, message_id: String, offset: i64 },
    /// A room opened, turned read-only or was removed: instances drop what they cached of it.
    RoomChanged { room_id: String },
    /// How many connections an instance has subscribed to each room (sent periodically).
    Presence { instance: String, rooms: Vec<(String, u32)> },
}

/// The STOMP destination of a room.
pub fn destination(room_id: &str) -> String {
    format!("{DESTINATION_PREFIX}{room_id}")
}

pub const DESTINATION_PREFIX: &str = "/topic/rooms/";
