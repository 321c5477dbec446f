//! Photos made for the tests: as many distinct pictures as a test needs.

/// A distinct 640×480 JPEG for each `seed`: random grey blocks, so no two share a perceptual
/// hash, and bright enough for any policy.
pub fn distinct_jpeg(seed: u64) -> Vec<u8> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let blocks: Vec<u8> = (0..16 * 12).map(|_| rng.random_range(60..=250)).collect();
    let image = image::RgbImage::from_fn(640, 480, |x, y| {
        let level = blocks[(y / 40 * 16 + x / 40) as usize];
        image::Rgb([level, level.saturating_sub(20), level / 2 + 60])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Jpeg)
        .expect("encode");
    bytes
}
