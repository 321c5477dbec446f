//! Alert chat rooms: one open room per province while a weather warning is in force there,
//! spoken to over STOMP on a WebSocket, with messages stored before they are acknowledged and
//! delivered in order, resumable without gaps on any instance.
//!
//! - [`model`]: rooms, messages (with their per-room `offset`), the events on the bus;
//! - [`store`]: the tables; [`append`]: storing a message at its room's next offset, under
//!   the room's row lock, in groups where writes take turns;
//! - [`rooms`]: rooms open, join and close as the warnings change ([`RoomKeeper`]);
//! - [`hub`]: this instance's subscriptions and in-order delivery; [`recent`]: the latest
//!   messages of each room in the shared state; [`presence`]: online counts across instances;
//! - [`service`]: [`ChatService`], sending, moderation, following the bus;
//! - [`connection`]: one STOMP session (the frame codec is the `weatherwise-stomp` crate);
//! - [`routes`]: REST and `GET /ws`.

pub mod append;
pub mod config;
pub mod connection;
pub mod hub;
pub mod model;
pub mod presence;
pub mod recent;
pub mod rooms;
pub mod routes;
pub mod service;
pub mod store;

pub use config::ChatConfig;
pub use rooms::RoomKeeper;
pub use service::ChatService;
pub use store::ChatStore;

/// The chat domain's state, as its routes take it.
pub type ChatState = std::sync::Arc<ChatService>;
