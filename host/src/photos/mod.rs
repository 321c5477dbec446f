//! Photos as the host sees them: sniffed, bounded, decoded, measured, stripped of metadata.
//!
//! [`prepare`] (or [`PhotoPipeline::prepare`] on the blocking pool) turns an upload into a
//! [`PreparedPhoto`]: the normalised JPEG the model and the app see, a metadata-free full-size
//! copy, and the features a policy may use, within the process's photo memory budget
//! ([`MemoryBudget`]). [`store`] puts both copies in a [`crate::files::FileStore`].

pub mod budget;
mod decode_threads;
pub mod error;
pub mod exif;
pub mod features;
pub mod jpeg;
pub mod pipeline;
pub mod sniff;
mod store;
#[cfg(test)]
mod tests;

pub use budget::{MemoryBudget, Reservation};
pub use error::{MAX_PHOTO_BYTES, MAX_PIXELS, PhotoError};
pub use features::{Measured, NORMALISED_SIDE, hamming, measure, normalised_jpeg};
pub use pipeline::{DecodeEstimate, PhotoPipeline, PreparedPhoto, decode_estimate, prepare};
pub use store::{StoredPhoto, store};
