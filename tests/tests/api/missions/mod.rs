//! Missions and photo verification, end to end against the running server.

mod bad_uploads;
mod durability;
mod journey;
mod language;
mod oversized_answers;
mod photo_limits;
mod review;
mod shadow;
pub mod support;
mod vision_faults;
