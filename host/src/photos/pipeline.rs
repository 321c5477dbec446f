//! The upload pipeline: from the bytes a user sent to what the platform keeps and what a
//! policy may know. Every refusal happens as early and as cheaply as possible: size, then type
//! and container structure, then the dimensions in the header, and only then a decode bounded
//! in pixels and allocation.
//!
//! JPEG, the common case, never decodes at full resolution: the decoder scales in the DCT
//! domain (1/2, 1/4 or 1/8) to the smallest size still at least [`NORMALISED_SIDE`] on its
//! longest side, which skips most of the inverse transform and three quarters or more of the
//! pixel memory; a SIMD resampler takes it the rest of the way. The full-size copy is a lossless
//! strip of the original's metadata ([`super::jpeg`]). PNG and WebP are decoded whole and the
//! full-size copy re-encoded as PNG (lossless, and it bakes the orientation in).

use super::budget::MemoryBudget;
use super::decode_threads::DecodeThreads;
use super::error::{MAX_ASPECT, MAX_PHOTO_BYTES, MAX_PIXELS, MAX_SIDE, PhotoError};
use super::exif::{self, ExifFacts};
use super::features::{NORMALISED_SIDE, fingerprint};
use super::jpeg;
use super::sniff::{self, PhotoType};
use image::metadata::Orientation;
use image::{DynamicImage, ImageReader, Limits, RgbImage};
use sha2::{Digest, Sha256};
use std::io::Cursor;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Quality of the normalised copy: what the model grades and the app shows.
const NORMALISED_QUALITY: u8 = 85;

/// A photo ready to store and to verify. Nothing in `normalised` or `full` carries the GPS
/// position, the capture time or any other EXIF field (the full copy of a rotated JPEG keeps
/// Orientation, alone).
#[derive(Clone)]
pub struct PreparedPhoto {
    /// The sniffed type of the upload.
    pub mime: &'static str,
    /// Dimensions of the upload as it is meant to be seen (after orientation).
    pub width: u32,
    pub height: u32,
    /// Mean luma, 0–1.
    pub brightness: f32,
    /// 64-bit difference hash of the upright picture.
    pub dhash: u64,
    /// When the photo was taken (EXIF), unix milliseconds.
    pub captured_at_ms: Option<i64>,
    /// Where it was taken (EXIF), latitude and longitude in degrees; never stored in a copy.
    pub gps: Option<(f64, f64)>,
    /// SHA-256 of the bytes as uploaded.
    pub sha256: [u8; 32],
    /// JPEG, upright, longest side at most [`NORMALISED_SIDE`].
    pub normalised: Vec<u8>,
    /// The full-size copy without metadata; its type is `full_mime`.
    pub full: Vec<u8>,
    pub full_mime: &'static str,
}

impl PreparedPhoto {
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

impl std::fmt::Debug for PreparedPhoto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedPhoto")
            .field("mime", &self.mime)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("sha256", &self.sha256_hex())
            .field("normalised_bytes", &self.normalised.len())
            .field("full_bytes", &self.full.len())
            .finish_non_exhaustive()
    }
}

/// Runs [`prepare`] within the photo memory budget ([`super::budget`]): each decode first
/// takes the memory its header says it will need, then runs on one of `concurrency` decoding
/// threads of its own ([`super::decode_threads`]; decoding is CPU-bound).
#[derive(Clone)]
pub struct PhotoPipeline {
    permits: Arc<Semaphore>,
    budget: MemoryBudget,
    threads: DecodeThreads,
}

impl PhotoPipeline {
    /// `concurrency` 0 means one per core.
    pub fn new(concurrency: usize, budget: MemoryBudget) -> Self {
        let concurrency = match concurrency {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        };
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            budget,
            threads: DecodeThreads::start(concurrency),
        }
    }

    /// The budget upload bodies are read under, too.
    pub fn budget(&self) -> &MemoryBudget {
        &self.budget
    }

    pub async fn prepare(
        &self,
        bytes: impl Into<bytes::Bytes>,
        declared_mime: Option<&str>,
    ) -> Result<PreparedPhoto, PhotoError> {
        let bytes = bytes.into();
        // Refused before waiting for a turn: the cheap checks need no permit.
        if bytes.is_empty() {
            return Err(PhotoError::Empty);
        }
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(PhotoError::TooLarge(bytes.len()));
        }
        let declared = declared_mime.map(str::to_owned);
        let header = {
            let (bytes, declared) = (bytes.clone(), declared.clone());
            self.threads.run(move || decode_estimate(&bytes, declared.as_deref())).await?
        };
        if !self.budget.fits(header.bytes) {
            return Err(PhotoError::TooManyPixels(header.width, header.height));
        }
        let _memory = self.budget.reserve(header.bytes).await?;
        let _permit =
            self.permits.acquire().await.map_err(|_| PhotoError::Corrupt("shutting down".into()))?;
        self.threads.run(move || prepare(&bytes, declared.as_deref())).await
    }
}

/// The dimensions of a photo and the most memory preparing it holds at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeEstimate {
    pub width: u32,
    pub height: u32,
    pub bytes: usize,
}

/// The small copy and its encoding, whatever the photo.
const SMALL_COPY_BYTES: u64 = (NORMALISED_SIDE as u64) * (NORMALISED_SIDE as u64) * 3 * 2;

/// What preparing `bytes` will hold at its peak, from the type and the header's dimensions
/// alone (refusing, as [`prepare`] does, a wrong type or dimensions before anything else).
/// Deliberately on the high side: it is what the memory budget is charged.
pub fn decode_estimate(bytes: &[u8], declared_mime: Option<&str>) -> Result<DecodeEstimate, PhotoError> {
    let kind = sniff::sniff(bytes)?;
    sniff::check_declared(declared_mime, kind)?;
    let (width, height, decoding) = match kind {
        PhotoType::Jpeg => {
            let layout = jpeg::layout(bytes)?;
            let (width, height) = (layout.width, layout.height);
            check_dimensions(width, height)?;
            let scale = dct_scale(width.min(height));
            let pixels = u64::from(width.div_ceil(scale)) * u64::from(height.div_ceil(scale));
            // The decoder's component planes at that scale (a byte a sample, as many samples as
            // the frame has coefficients), its output (a byte a component) and, unless that is
            // RGB already, our RGB conversion of it. A progressive frame also keeps every
            // coefficient of the image.
            let planes = layout.coefficient_bytes / 2 / u64::from(scale * scale);
            let components = u64::from(layout.components.clamp(1, 4));
            let output = pixels * if components == 3 { 3 } else { components + 3 };
            let coefficients = if layout.progressive { layout.coefficient_bytes } else { 0 };
            (width, height, planes + output + coefficients)
        }
        PhotoType::Png | PhotoType::WebP => {
            let corrupt = |err: image::ImageError| PhotoError::Corrupt(err.to_string());
            let decoder = ImageReader::with_format(Cursor::new(bytes), kind.image_format())
                .into_decoder()
                .map_err(corrupt)?;
            let (width, height) = image::ImageDecoder::dimensions(&decoder);
            check_dimensions(width, height)?;
            // The decoded image, the PNG copy encoded from it (no larger), and the RGB image
            // the small copy is made from.
            let decoded = image::ImageDecoder::total_bytes(&decoder);
            (width, height, decoded * 2 + u64::from(width) * u64::from(height) * 3)
        }
    };
    let total = decoding + SMALL_COPY_BYTES + bytes.len() as u64;
    Ok(DecodeEstimate { width, height, bytes: usize::try_from(total).unwrap_or(usize::MAX) })
}

/// The DCT scale the decoder picks (see [`decode_jpeg_scaled`]): the largest of 8, 4, 2 that
/// keeps the shorter side at least [`NORMALISED_SIDE`], else 1.
fn dct_scale(shorter_side: u32) -> u32 {
    [8, 4, 2].into_iter().find(|scale| shorter_side.div_ceil(*scale) >= NORMALISED_SIDE).unwrap_or(1)
}

/// The whole pipeline for one upload (CPU-bound; call it off the async executor, or use
/// [`PhotoPipeline::prepare`]).
pub fn prepare(bytes: &[u8], declared_mime: Option<&str>) -> Result<PreparedPhoto, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(PhotoError::TooLarge(bytes.len()));
    }
    let kind = sniff::sniff(bytes)?;
    sniff::check_declared(declared_mime, kind)?;
    let decoded = match kind {
        PhotoType::Jpeg => jpeg_path(bytes)?,
        PhotoType::Png | PhotoType::WebP => other_path(bytes, kind)?,
    };
    let Decoded { small, full, full_mime, facts, width, height } = decoded;
    let (brightness, dhash) = fingerprint(&small);
    let normalised = encode_jpeg(&small.into_rgb8())?;
    Ok(PreparedPhoto {
        mime: kind.mime(),
        width,
        height,
        brightness,
        dhash,
        captured_at_ms: facts.captured_at_ms,
        gps: facts.gps,
        sha256: Sha256::digest(bytes).into(),
        normalised,
        full,
        full_mime,
    })
}

struct Decoded {
    /// Upright, longest side at most [`NORMALISED_SIDE`].
    small: DynamicImage,
    full: Vec<u8>,
    full_mime: &'static str,
    facts: ExifFacts,
    /// Upright dimensions of the original.
    width: u32,
    height: u32,
}

/// Refuses images too large, too many pixels or too elongated, before anything is decoded.
pub(super) fn check_dimensions(width: u32, height: u32) -> Result<(), PhotoError> {
    let (long, short) = (width.max(height), width.min(height).max(1));
    if width == 0
        || height == 0
        || long > MAX_SIDE
        || u64::from(width) * u64::from(height) > MAX_PIXELS
        || long / short > MAX_ASPECT
    {
        return Err(PhotoError::TooManyPixels(width, height));
    }
    Ok(())
}

fn upright(width: u32, height: u32, orientation: u16) -> (u32, u32) {
    if orientation >= 5 { (height, width) } else { (width, height) }
}

fn jpeg_path(bytes: &[u8]) -> Result<Decoded, PhotoError> {
    let layout = jpeg::layout(bytes)?;
    check_dimensions(layout.width, layout.height)?;
    let facts = layout.exif.clone().map(|range| exif::read_tiff(&bytes[range])).unwrap_or_default();
    let pixels = decode_jpeg_scaled(bytes)?;
    let small = orient(shrink(pixels)?, facts.orientation);
    let (width, height) = upright(layout.width, layout.height, facts.orientation);
    let full = jpeg::strip(bytes, &layout, facts.orientation);
    Ok(Decoded { small, full, full_mime: "image/jpeg", facts, width, height })
}

/// Decodes at the smallest DCT scale (1, 1/2, 1/4, 1/8) whose longest side still reaches
/// [`NORMALISED_SIDE`].
fn decode_jpeg_scaled(bytes: &[u8]) -> Result<RgbImage, PhotoError> {
    let corrupt = |err: jpeg_decoder::Error| PhotoError::Corrupt(err.to_string());
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size((MAX_PIXELS * 4) as usize);
    decoder.read_info().map_err(corrupt)?;
    let side = NORMALISED_SIDE as u16;
    let (width, height) = decoder.scale(side, side).map_err(corrupt)?;
    let info = decoder.info().ok_or_else(|| PhotoError::Corrupt("no frame".into()))?;
    let pixels = decoder.decode().map_err(corrupt)?;
    let (width, height) = (u32::from(width), u32::from(height));
    let rgb = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => pixels,
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        jpeg_decoder::PixelFormat::L16 => pixels.chunks_exact(2).flat_map(|l| [l[0], l[0], l[0]]).collect(),
        // Adobe writes CMYK inverted, which the decoder hands over as is.
        jpeg_decoder::PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let k = u16::from(p[3]);
                [p[0], p[1], p[2]].map(|c| (u16::from(c) * k / 255) as u8)
            })
            .collect(),
    };
    RgbImage::from_raw(width, height, rgb).ok_or_else(|| PhotoError::Corrupt("short pixel data".into()))
}

fn other_path(bytes: &[u8], kind: PhotoType) -> Result<Decoded, PhotoError> {
    let corrupt = |err: image::ImageError| PhotoError::Corrupt(err.to_string());
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), kind.image_format())
        .into_dimensions()
        .map_err(corrupt)?;
    check_dimensions(width, height)?;
    let facts = exif::read_container(bytes);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + (16 << 20));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.image_format());
    reader.limits(limits);
    let mut image = reader.decode().map_err(corrupt)?;
    let orientation = Orientation::from_exif(facts.orientation as u8).unwrap_or(Orientation::NoTransforms);
    image.apply_orientation(orientation);
    let mut full = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut full,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    image.write_with_encoder(encoder).map_err(corrupt)?;
    let (width, height) = (image.width(), image.height());
    let small = shrink(image.into_rgb8())?;
    Ok(Decoded { small: DynamicImage::ImageRgb8(small), full, full_mime: "image/png", facts, width, height })
}

/// Resamples to a longest side of at most [`NORMALISED_SIDE`] (bilinear convolution, which at
/// these ratios after the DCT scaling averages every source pixel).
fn shrink(image: RgbImage) -> Result<RgbImage, PhotoError> {
    let (width, height) = image.dimensions();
    let long = width.max(height);
    if long <= NORMALISED_SIDE {
        return Ok(image);
    }
    let scale = f64::from(NORMALISED_SIDE) / f64::from(long);
    let target = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(1, NORMALISED_SIDE);
    let (to_width, to_height) = (target(width), target(height));
    let failed = |err: &dyn std::fmt::Display| PhotoError::Corrupt(format!("resizing: {err}"));
    let source = fast_image_resize::images::Image::from_vec_u8(
        width,
        height,
        image.into_raw(),
        fast_image_resize::PixelType::U8x3,
    )
    .map_err(|err| failed(&err))?;
    let mut target_image = fast_image_resize::images::Image::new(to_width, to_height, source.pixel_type());
    let options = fast_image_resize::ResizeOptions::new()
        .resize_alg(fast_image_resize::ResizeAlg::Convolution(fast_image_resize::FilterType::Bilinear));
    fast_image_resize::Resizer::new()
        .resize(&source, &mut target_image, &options)
        .map_err(|err| failed(&err))?;
    RgbImage::from_raw(to_width, to_height, target_image.into_vec())
        .ok_or_else(|| PhotoError::Corrupt("resizing: short buffer".into()))
}

fn orient(image: RgbImage, orientation: u16) -> DynamicImage {
    let mut image = DynamicImage::ImageRgb8(image);
    if let Some(orientation) = Orientation::from_exif(orientation as u8) {
        image.apply_orientation(orientation);
    }
    image
}

fn encode_jpeg(image: &RgbImage) -> Result<Vec<u8>, PhotoError> {
    let mut bytes = Vec::with_capacity(image.len() / 8);
    let (width, height) = image.dimensions();
    let encoder = jpeg_encoder::Encoder::new(&mut bytes, NORMALISED_QUALITY);
    encoder
        .encode(image.as_raw(), width as u16, height as u16, jpeg_encoder::ColorType::Rgb)
        .map_err(|err| PhotoError::Corrupt(format!("encoding: {err}")))?;
    Ok(bytes)
}
