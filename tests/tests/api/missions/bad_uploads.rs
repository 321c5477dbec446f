//! Bad uploads: each gets its own 4xx problem, the mission keeps its attempts, and the
//! server's memory stays bounded whatever the file claims to be.

use super::support::{COFFEE, any_mission, deployment, get, submit};
use weatherwise_tests::fake_vision::{Behaviour, FakeVision};
use weatherwise_tests::{Mode, assert_problem, both_modes};

both_modes!(missions_refuse_bad_photos_with_clear_problems);

/// A PNG header declaring `width`×`height`, followed by a truncated stream: tiny on disk.
pub(super) fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&ihdr);
    png.extend_from_slice(&chunk);
    png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    // An IDAT of zlib-compressed zeros would inflate to width×height×3 bytes.
    let zeros = vec![0u8; 1 << 16];
    let mut encoder = flate2_free_deflate(&zeros);
    png.extend_from_slice(&(encoder.len() as u32).to_be_bytes());
    let mut idat = b"IDAT".to_vec();
    idat.append(&mut encoder);
    png.extend_from_slice(&idat);
    png.extend_from_slice(&crc32(&idat).to_be_bytes());
    png
}

/// Stored (uncompressed) zlib blocks: enough for a valid stream without a deflate crate.
fn flate2_free_deflate(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn encoded(image: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut bytes), format).expect("encode");
    bytes
}

/// An animated GIF of two frames.
fn animated_gif() -> Vec<u8> {
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame, RgbaImage};
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        for shade in [40u8, 200] {
            let frame = Frame::from_parts(
                RgbaImage::from_pixel(64, 64, image::Rgba([shade, shade, shade, 255])),
                0,
                0,
                Delay::from_numer_denom_ms(100, 1),
            );
            encoder.encode_frame(frame).expect("frame");
        }
    }
    bytes
}

async fn missions_refuse_bad_photos_with_clear_problems(mode: Mode) {
    let vision = FakeVision::start(Behaviour::grade(true, 0.95)).await;
    // A process of its own, so its peak memory is the server's alone.
    let app = deployment(mode, Some(&vision)).await.start_process().await;
    let user = app.new_user().await;
    let mission = any_mission(&app, &user.access).await;
    let before = app.peak_memory_mib();

    let mut jpeg = encoded(image::DynamicImage::new_rgb8(800, 600), image::ImageFormat::Jpeg);
    jpeg.truncate(jpeg.len() / 2);
    let wide = encoded(image::DynamicImage::new_rgb8(50_000, 1), image::ImageFormat::Png);
    let cases: Vec<(&str, Vec<u8>, &str, u16, &str)> = vec![
        ("empty file", Vec::new(), "image/jpeg", 422, "photo_empty"),
        ("truncated JPEG", jpeg, "image/jpeg", 422, "photo_corrupt"),
        ("PNG declared as JPEG", COFFEE.to_vec(), "image/jpeg", 415, "photo_type_mismatch"),
        (
            "text file",
            b"just some words, not a picture".to_vec(),
            "text/plain",
            415,
            "photo_unsupported_type",
        ),
        ("11 MiB", vec![0xAB; 11 << 20], "image/jpeg", 413, "photo_too_large"),
        ("decompression bomb", png_declaring(60_000, 60_000), "image/png", 422, "photo_too_many_pixels"),
        ("50,000×1", wide, "image/png", 422, "photo_too_many_pixels"),
        ("animated GIF", animated_gif(), "image/gif", 422, "photo_animated"),
    ];
    for (what, bytes, mime, status, code) in cases {
        let response = submit(&app, &user.access, &mission, bytes, mime).await;
        let problem = assert_problem(response, status, code).await;
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()), "{what}: {problem}");
    }
    // Nothing was lost: the mission still has every attempt, and the model was never asked.
    let detail = get(&app, &user.access, &format!("/missions/{mission}")).await;
    assert_eq!(detail["state"], "assigned");
    assert_eq!(detail["attempts"], 0);
    assert_eq!(detail["verifications"].as_array().map(Vec::len), Some(0));
    assert!(vision.requests().is_empty());

    let after = app.peak_memory_mib();
    eprintln!("peak RSS of the server: {before} MiB before the bad uploads, {after} MiB after");
    assert!(
        after.saturating_sub(before) < 100,
        "bad uploads raised the server's peak memory from {before} to {after} MiB"
    );

    // A missing part, another part, and an upload to someone else's mission.
    let form = reqwest::multipart::Form::new().text("note", "no photo here");
    let response = app
        .http
        .post(app.api(&format!("/missions/{mission}/verifications")))
        .bearer_auth(&user.access)
        .multipart(form)
        .send()
        .await
        .expect("request");
    assert_problem(response, 422, "validation_failed").await;
    let stranger = app.new_user().await;
    let response = submit(&app, &stranger.access, &mission, COFFEE.to_vec(), "image/png").await;
    assert_problem(response, 404, "not_found").await;
}
