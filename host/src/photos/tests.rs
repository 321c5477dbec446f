//! The upload pipeline on real photos and on hostile files built here.

use super::exif::build::{Fields, into_jpeg};
use super::*;
use image::{DynamicImage, ImageFormat};
use std::io::Cursor;

const ROCKET: &[u8] = include_bytes!("../../../tests/fixtures/photos/rocket.jpg");
const HUBBLE: &[u8] = include_bytes!("../../../tests/fixtures/photos/hubble_deep_field.jpg");
const COFFEE: &[u8] = include_bytes!("../../../tests/fixtures/photos/coffee.png");

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), format).expect("encode");
    bytes
}

fn decoded(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).expect("decodes")
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    chunk
}

/// A PNG with `chunk` inserted right after IHDR.
fn png_with_chunk(png: &[u8], chunk: &[u8]) -> Vec<u8> {
    let ihdr_end = 8 + 8 + 13 + 4;
    [&png[..ihdr_end], chunk, &png[ihdr_end..]].concat()
}

fn geotagged_rocket(orientation: u16) -> Vec<u8> {
    into_jpeg(
        ROCKET,
        &Fields {
            orientation,
            taken: Some("2025:07:01 14:30:00"),
            offset: None,
            gps: Some((([37, 33, 5_940], b'N'), ([126, 58, 4_680], b'E'))),
        },
    )
}

/// True when `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn bad_uploads_get_precise_errors() {
    assert_eq!(prepare(&[], None).expect_err("empty"), PhotoError::Empty);
    assert_eq!(prepare(b"hello, I am a text file\n", None).expect_err("text"), PhotoError::UnsupportedType);
    let eleven_mib = vec![0xFF; 11 << 20];
    assert_eq!(
        prepare(&eleven_mib, Some("image/jpeg")).expect_err("too large"),
        PhotoError::TooLarge(11 << 20)
    );
    for cut in [ROCKET.len() / 2, ROCKET.len() - 10, 200] {
        assert!(matches!(prepare(&ROCKET[..cut], None), Err(PhotoError::Corrupt(_))), "truncated at {cut}");
    }
    assert_eq!(
        prepare(COFFEE, Some("image/jpeg")).expect_err("PNG declared as JPEG"),
        PhotoError::TypeMismatch { declared: "image/jpeg".into(), actual: "image/png" }
    );
    assert!(matches!(prepare(ROCKET, Some("image/webp")), Err(PhotoError::TypeMismatch { .. })));
    assert!(matches!(prepare(ROCKET, Some("text/plain")), Err(PhotoError::TypeMismatch { .. })));
    let heic = [&[0, 0, 0, 24][..], b"ftypheic", &[0; 12]].concat();
    assert_eq!(prepare(&heic, None).expect_err("heic"), PhotoError::Heic);
}

#[test]
fn declared_types_that_agree_are_accepted() {
    for declared in [
        None,
        Some("image/jpeg"),
        Some("IMAGE/JPEG; foo=bar"),
        Some("image/jpg"),
        Some("application/octet-stream"),
    ] {
        assert!(prepare(ROCKET, declared).is_ok(), "{declared:?}");
    }
    assert!(prepare(COFFEE, Some("image/png")).is_ok());
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    // A PNG that declares 60000×60000 pixels and holds almost nothing.
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let bomb = [
        &b"\x89PNG\r\n\x1a\n"[..],
        &png_chunk(b"IHDR", &ihdr),
        &png_chunk(b"IDAT", &[0x78, 0x9C, 3, 0, 0, 0, 0, 1]),
        &png_chunk(b"IEND", &[]),
    ]
    .concat();
    assert_eq!(
        prepare(&bomb, Some("image/png")).expect_err("png bomb"),
        PhotoError::TooManyPixels(60_000, 60_000)
    );

    // A JPEG whose frame header is rewritten to 60000×60000.
    let mut jpeg_bomb = ROCKET.to_vec();
    let sof = jpeg_bomb.windows(2).position(|w| w == [0xFF, 0xC0]).expect("baseline frame");
    jpeg_bomb[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    assert_eq!(prepare(&jpeg_bomb, None).expect_err("jpeg bomb"), PhotoError::TooManyPixels(60_000, 60_000));

    // Within the pixel budget but absurdly thin.
    let line = encode(DynamicImage::ImageLuma8(image::GrayImage::new(50_000, 1)), ImageFormat::Png);
    assert_eq!(prepare(&line, None).expect_err("a line"), PhotoError::TooManyPixels(50_000, 1));
    let thin = encode(DynamicImage::ImageLuma8(image::GrayImage::new(4_000, 100)), ImageFormat::Png);
    assert_eq!(prepare(&thin, None).expect_err("thin"), PhotoError::TooManyPixels(4_000, 100));
}

#[test]
fn animated_images_are_refused() {
    let still = encode(DynamicImage::ImageRgb8(image::RgbImage::new(8, 8)), ImageFormat::Png);
    // acTL: 2 frames, loop forever.
    let apng = png_with_chunk(&still, &png_chunk(b"acTL", &[0, 0, 0, 2, 0, 0, 0, 0]));
    assert_eq!(prepare(&apng, Some("image/png")).expect_err("apng"), PhotoError::Animated);

    // An extended WebP with the animation flag and an ANIM chunk.
    let mut body = b"WEBP".to_vec();
    body.extend_from_slice(b"VP8X");
    body.extend_from_slice(&10u32.to_le_bytes());
    body.extend_from_slice(&[0x02, 0, 0, 0, 7, 0, 0, 7, 0, 0]);
    body.extend_from_slice(b"ANIM");
    body.extend_from_slice(&6u32.to_le_bytes());
    body.extend_from_slice(&[0; 6]);
    let webp = [&b"RIFF"[..], &(body.len() as u32).to_le_bytes(), &body].concat();
    assert_eq!(prepare(&webp, Some("image/webp")).expect_err("animated webp"), PhotoError::Animated);

    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        for shade in [0u8, 255] {
            let frame =
                image::Frame::new(image::RgbaImage::from_pixel(8, 8, image::Rgba([shade, 0, 0, 255])));
            encoder.encode_frame(frame).expect("frame");
        }
    }
    assert_eq!(prepare(&gif, None).expect_err("animated gif"), PhotoError::Animated);
    let one_frame = encode(DynamicImage::ImageRgb8(image::RgbImage::new(8, 8)), ImageFormat::Gif);
    assert_eq!(prepare(&one_frame, None).expect_err("still gif"), PhotoError::UnsupportedType);
}

#[test]
fn exif_is_read_orientation_applied_and_nothing_kept() {
    let upload = geotagged_rocket(6);
    let photo = prepare(&upload, Some("image/jpeg")).expect("prepared");
    // 2025-07-01 14:30 in Seoul is 05:30 UTC.
    assert_eq!(photo.captured_at_ms, Some(1_751_347_800_000));
    let (lat, lon) = photo.gps.expect("gps");
    assert!((lat - 37.566_5).abs() < 1e-4 && (lon - 126.979_666).abs() < 1e-4, "{lat},{lon}");
    // Orientation 6: the 640×427 sensor image is seen as 427×640.
    assert_eq!((photo.width, photo.height), (427, 640));
    let normalised = decoded(&photo.normalised);
    assert_eq!((normalised.width(), normalised.height()), (427, 640));
    assert_eq!(photo.sha256_hex(), hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&upload)));

    assert_eq!(exif::read_jpeg(&photo.normalised), None, "the normalised copy has no EXIF at all");
    let full = exif::read_jpeg(&photo.full).expect("the rotated full copy keeps Orientation");
    assert_eq!(full, exif::ExifFacts { captured_at_ms: None, gps: None, orientation: 6 });
    let layout = jpeg::layout(&photo.full).expect("full copy is a JPEG");
    assert_eq!(layout.exif.map(|range| range.len()), Some(26), "Orientation is the only field");
    for output in [&photo.normalised, &photo.full] {
        assert!(!contains(output, b"2025:07:01"));
        assert!(!contains(output, &5_940u32.to_le_bytes()), "no GPS seconds");
        assert!(!contains(output, b"cmp3.10"), "no comment");
    }
    // The full copy is the original's compressed data, pixel for pixel.
    assert_eq!(decoded(&photo.full).to_rgb8(), decoded(ROCKET).to_rgb8());
}

#[test]
fn upright_photos_lose_all_their_metadata() {
    let photo = prepare(&geotagged_rocket(1), None).expect("prepared");
    assert_eq!((photo.width, photo.height), (640, 427));
    assert_eq!(exif::read_jpeg(&photo.full), None);
    assert!(photo.gps.is_some());

    let hubble = prepare(HUBBLE, None).expect("prepared");
    assert!(contains(HUBBLE, b"Photoshop"));
    for output in [&hubble.normalised, &hubble.full] {
        assert!(!contains(output, b"Photoshop"));
        assert_eq!(exif::read_jpeg(output), None);
    }
    assert_eq!((hubble.width, hubble.height), (1000, 872));
    let normalised = decoded(&hubble.normalised);
    assert_eq!((normalised.width(), normalised.height()), (1000, 872));
}

#[test]
fn large_jpegs_are_scaled_to_the_normalised_side() {
    let big = image::RgbImage::from_fn(3000, 2000, |x, y| image::Rgb([(x / 12) as u8, (y / 8) as u8, 128]));
    let bytes = encode(DynamicImage::ImageRgb8(big), ImageFormat::Jpeg);
    let photo = prepare(&bytes, None).expect("prepared");
    assert_eq!((photo.width, photo.height), (3000, 2000));
    let normalised = decoded(&photo.normalised);
    assert_eq!((normalised.width(), normalised.height()), (1024, 683));
    assert_eq!(decoded(&photo.full).dimensions_tuple(), (3000, 2000));
}

trait Dimensions {
    fn dimensions_tuple(&self) -> (u32, u32);
}

impl Dimensions for DynamicImage {
    fn dimensions_tuple(&self) -> (u32, u32) {
        (self.width(), self.height())
    }
}

#[test]
fn png_is_re_encoded_and_features_match_the_full_decode() {
    let photo = prepare(COFFEE, Some("image/png")).expect("prepared");
    assert_eq!(
        (photo.mime, photo.full_mime, photo.width, photo.height),
        ("image/png", "image/png", 600, 400)
    );
    assert_eq!(decoded(&photo.full).to_rgb8(), decoded(COFFEE).to_rgb8());
    let measured = measure(COFFEE).expect("measured");
    assert!((photo.brightness - measured.brightness).abs() < 0.02);
    assert!(hamming(photo.dhash, measured.dhash) <= 4);

    // The same picture as a JPEG has (nearly) the same hash: reuse detection across formats.
    let as_jpeg = encode(decoded(COFFEE), ImageFormat::Jpeg);
    assert!(hamming(prepare(&as_jpeg, None).expect("jpeg").dhash, photo.dhash) <= 6);
}

#[test]
fn a_png_with_exif_orientation_is_turned_upright() {
    let png = encode(DynamicImage::ImageRgb8(image::RgbImage::new(30, 20)), ImageFormat::Png);
    let exif = super::exif::build::tiff(&Fields {
        orientation: 8,
        taken: None,
        offset: None,
        gps: Some((([1, 2, 3], b'N'), ([4, 5, 6], b'E'))),
    });
    let tagged = png_with_chunk(&png, &png_chunk(b"eXIf", &exif));
    let photo = prepare(&tagged, None).expect("prepared");
    assert_eq!((photo.width, photo.height), (20, 30));
    assert!(photo.gps.is_some());
    assert_eq!(decoded(&photo.full).dimensions_tuple(), (20, 30));
    assert!(!contains(&photo.full, b"eXIf"));
}

#[tokio::test]
async fn the_pipeline_queues_and_stores_both_copies() {
    let pipeline = PhotoPipeline::new(1, MemoryBudget::new(256 << 20, std::time::Duration::from_secs(5)));
    let uploads = (0..4).map(|_| pipeline.prepare(ROCKET.to_vec(), Some("image/jpeg")));
    let photos = futures::future::join_all(uploads).await;
    assert!(photos.iter().all(Result::is_ok));
    assert_eq!(pipeline.prepare(Vec::new(), None).await.expect_err("empty"), PhotoError::Empty);

    let dir = tempfile::tempdir().expect("dir");
    let files = crate::files::LocalFiles::open(dir.path()).await.expect("store");
    let photo = photos.into_iter().next().expect("one").expect("prepared");
    let stored = store(&files, "0192-test", &photo).await.expect("stored");
    assert_eq!(stored.full_key, "photos/0192-test/full.jpg");
    use crate::files::FileStore as _;
    assert_eq!(files.get(&stored.normalised_key).await.expect("get").as_deref(), Some(&photo.normalised[..]));
    assert_eq!(files.get(&stored.full_key).await.expect("get").as_deref(), Some(&photo.full[..]));
}

#[test]
fn errors_map_to_their_problem_statuses() {
    use axum::response::IntoResponse;
    let status = |err: PhotoError| crate::error::ApiError::from(err).into_response().status().as_u16();
    assert_eq!(status(PhotoError::TooLarge(1)), 413);
    assert_eq!(status(PhotoError::UnsupportedType), 415);
    assert_eq!(status(PhotoError::Heic), 415);
    assert_eq!(status(PhotoError::TypeMismatch { declared: "image/png".into(), actual: "image/jpeg" }), 415);
    assert_eq!(status(PhotoError::Animated), 422);
    assert_eq!(status(PhotoError::Empty), 422);
    assert_eq!(status(PhotoError::TooManyPixels(1, 1)), 422);
    assert_eq!(PhotoError::Animated.code(), "photo_animated");
}

#[test]
fn decode_estimates_come_from_the_header_alone() {
    let png = |width, height| {
        let mut bytes = Vec::new();
        DynamicImage::new_rgb8(width, height)
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .expect("png");
        bytes
    };
    // 6324×6324 RGB: 120 MB decoded, twice over with its copies; far beyond a 96 MiB budget.
    let huge = decode_estimate(&png(6324, 6324), Some("image/png")).expect("estimate");
    assert_eq!((huge.width, huge.height), (6324, 6324));
    assert!(huge.bytes > 300 << 20, "{huge:?}");
    let small = decode_estimate(&png(640, 480), None).expect("estimate");
    assert!(small.bytes < 16 << 20, "{small:?}");
    // A baseline JPEG decodes at a DCT scale: 4000×3000 at half size.
    let mut jpeg = Vec::new();
    DynamicImage::new_rgb8(4000, 3000)
        .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
        .expect("jpeg");
    let photo = decode_estimate(&jpeg, Some("image/jpeg")).expect("estimate");
    assert!(photo.bytes > 2000 * 1500 * 3 && photo.bytes < 48 << 20, "{photo:?}");
    // Shorter than 2,048 px on its short side, it decodes at full size, and still fits.
    let mut jpeg = Vec::new();
    DynamicImage::new_rgb8(3000, 2000)
        .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
        .expect("jpeg");
    let photo = decode_estimate(&jpeg, None).expect("estimate");
    assert!(photo.bytes > 3000 * 2000 * 3 && photo.bytes < 48 << 20, "{photo:?}");
    assert_eq!(decode_estimate(&png(60_000, 1), None).err(), Some(PhotoError::TooManyPixels(60_000, 1)));
}
