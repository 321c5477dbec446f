//! Measuring an uploaded photo: its real type (sniffed from the bytes, never from the name or
//! the declared type), its dimensions (read from the header before anything is decoded), its
//! brightness and its perceptual hash. Decoding is bounded in pixels and allocation so a small
//! file declaring huge dimensions is refused instead of decoded. Uploads go through
//! [`super::prepare`]; `measure` keeps the full decoded image for callers that want it (the
//! golden corpus of the policy gate).

use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

use super::error::{MAX_PHOTO_BYTES, MAX_PIXELS, MAX_SIDE, PhotoError};

#[derive(Debug, Clone)]
pub struct Measured {
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    /// Mean luma, 0–1.
    pub brightness: f32,
    /// 64-bit difference hash.
    pub dhash: u64,
    pub image: DynamicImage,
}

pub fn measure(bytes: &[u8]) -> Result<Measured, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(PhotoError::TooLarge(bytes.len()));
    }
    let format = image::guess_format(bytes).map_err(|_| PhotoError::UnsupportedType)?;
    let mime = match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
        ImageFormat::WebP => "image/webp",
        ImageFormat::Gif => "image/gif",
        _ => return Err(PhotoError::UnsupportedType),
    };
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|err| PhotoError::Corrupt(err.to_string()))?;
    super::pipeline::check_dimensions(width, height)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 4 + (16 << 20));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let image = reader.decode().map_err(|err| PhotoError::Corrupt(err.to_string()))?;
    let (brightness, dhash) = fingerprint(&image);
    Ok(Measured { mime, width, height, brightness, dhash, image })
}

/// Brightness over a small grey thumbnail, and the dHash of a 9×8 one: each bit says whether a
/// pixel is brighter than its right neighbour, which survives rescaling and recompression.
pub(crate) fn fingerprint(image: &DynamicImage) -> (f32, u64) {
    let thumb = image.thumbnail(64, 64).to_luma8();
    let total: u64 = thumb.pixels().map(|p| u64::from(p.0[0])).sum();
    let brightness = total as f32 / (thumb.pixels().len().max(1) as f32 * 255.0);
    let small = image.resize_exact(9, 8, image::imageops::FilterType::Triangle).to_luma8();
    let mut hash = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            let brighter = small.get_pixel(x, y).0[0] > small.get_pixel(x + 1, y).0[0];
            hash = (hash << 1) | u64::from(brighter);
        }
    }
    (brightness, hash)
}

/// Longest side of the copy the model sees and the app shows.
pub const NORMALISED_SIDE: u32 = 1024;

/// A JPEG of at most [`NORMALISED_SIDE`] pixels a side. Encoding from decoded pixels drops
/// every piece of metadata the upload carried (EXIF, GPS, comments).
pub fn normalised_jpeg(image: &DynamicImage) -> Result<Vec<u8>, PhotoError> {
    let small = if image.width().max(image.height()) > NORMALISED_SIDE {
        image.thumbnail(NORMALISED_SIDE, NORMALISED_SIDE)
    } else {
        image.clone()
    };
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85);
    small.to_rgb8().write_with_encoder(encoder).map_err(|err| PhotoError::Corrupt(err.to_string()))?;
    Ok(bytes)
}

/// Bits that differ between two perceptual hashes; a few means the same picture.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32, shade: u8) -> Vec<u8> {
        let image = image::GrayImage::from_pixel(width, height, image::Luma([shade]));
        let mut bytes = Vec::new();
        image.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).expect("encode");
        bytes
    }

    #[test]
    fn measures_size_and_brightness() {
        let measured = measure(&png(40, 30, 255)).expect("measured");
        assert_eq!((measured.mime, measured.width, measured.height), ("image/png", 40, 30));
        assert!(measured.brightness > 0.99);
        assert!(measure(&png(40, 30, 0)).expect("measured").brightness < 0.01);
    }

    #[test]
    fn refuses_what_is_not_a_reasonable_photo() {
        assert_eq!(measure(&[]).expect_err("empty"), PhotoError::Empty);
        assert_eq!(measure(b"hello, not an image").expect_err("text"), PhotoError::UnsupportedType);
        assert_eq!(measure(&png(2_000, 1, 9)).expect_err("a line"), PhotoError::TooManyPixels(2_000, 1));
        let truncated = &png(64, 64, 100)[..60];
        assert!(matches!(measure(truncated), Err(PhotoError::Corrupt(_))));
    }

    #[test]
    fn the_same_picture_rescaled_keeps_its_hash() {
        let gradient =
            image::GrayImage::from_fn(200, 100, |x, y| image::Luma([((x * 7 + y * 3) % 256) as u8]));
        let big = DynamicImage::ImageLuma8(gradient);
        let small = big.thumbnail(100, 50);
        assert!(hamming(fingerprint(&big).1, fingerprint(&small).1) <= 6);
    }
}
