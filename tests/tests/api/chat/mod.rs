//! Alert chat rooms: rooms that follow the warning feed, STOMP over WebSocket with a stock
//! client's frames, ordered and resumable delivery, on one instance and across instances.

mod alerts;
mod crowd;
mod instances;
mod messaging;
mod protocol;
mod resume;
mod stompjs;
mod support;
