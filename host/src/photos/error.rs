//! Why a photo was refused: one variant per thing the uploader can fix, each with its own
//! problem code.

use crate::error::ApiError;

/// Largest photo accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = 10 << 20;
/// Largest pixel count (a 12-megapixel phone photo is 4000×3000).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Largest side in pixels.
pub const MAX_SIDE: u32 = 12_000;
/// A photo this elongated is not a photo of anything.
pub const MAX_ASPECT: u32 = 20;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PhotoError {
    #[error("the photo is empty")]
    Empty,
    #[error("the photo is {0} bytes; the limit is {MAX_PHOTO_BYTES}")]
    TooLarge(usize),
    #[error("not a JPEG, PNG or WebP image")]
    UnsupportedType,
    #[error("HEIC/HEIF photos are not accepted; send a JPEG (most phones can save one)")]
    Heic,
    #[error("the photo was declared as {declared} but its bytes are {actual}")]
    TypeMismatch { declared: String, actual: &'static str },
    #[error("the image is {0}×{1} pixels, beyond what is accepted")]
    TooManyPixels(u32, u32),
    #[error("animated or multi-frame images are not accepted; send one still photo")]
    Animated,
    #[error("the image could not be decoded: {0}")]
    Corrupt(String),
    /// The photo memory budget stayed spent for as long as an upload may wait.
    #[error("too many photos are being processed right now; try again in a few seconds")]
    Busy,
}

impl PhotoError {
    /// The stable problem code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "photo_empty",
            Self::TooLarge(_) => "photo_too_large",
            Self::UnsupportedType | Self::Heic => "photo_unsupported_type",
            Self::TypeMismatch { .. } => "photo_type_mismatch",
            Self::TooManyPixels(..) => "photo_too_many_pixels",
            Self::Animated => "photo_animated",
            Self::Corrupt(_) => "photo_corrupt",
            Self::Busy => "photos_busy",
        }
    }
}

/// 413 for size, 415 for a type we do not take (or a declared type the bytes contradict),
/// 422 for an image we understand but refuse, 503 while the photo memory budget is spent.
impl From<PhotoError> for ApiError {
    fn from(err: PhotoError) -> Self {
        let (code, detail) = (err.code(), err.to_string());
        match err {
            PhotoError::TooLarge(_) => ApiError::PayloadTooLarge { code, detail },
            PhotoError::Busy => ApiError::Busy { code, detail, retry_after_secs: 2 },
            PhotoError::UnsupportedType | PhotoError::Heic | PhotoError::TypeMismatch { .. } => {
                ApiError::UnsupportedMediaType { code, detail }
            }
            PhotoError::Empty
            | PhotoError::TooManyPixels(..)
            | PhotoError::Animated
            | PhotoError::Corrupt(_) => ApiError::Unprocessable { code, detail },
        }
    }
}
