//! Photos as the host sees them: sniffed, bounded, decoded, measured.

pub mod features;

pub use features::{MAX_PHOTO_BYTES, Measured, PhotoError, measure, normalised_jpeg};
