//! What a photo really is, read from its first bytes and its container structure, never from
//! its name or declared type; and the container-level refusals (HEIC, animation) that come
//! before any pixel is decoded.

use super::error::PhotoError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoType {
    Jpeg,
    Png,
    WebP,
}

impl PhotoType {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }

    pub fn image_format(self) -> image::ImageFormat {
        match self {
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Png => image::ImageFormat::Png,
            Self::WebP => image::ImageFormat::WebP,
        }
    }
}

/// The type of the bytes; GIF (the one multi-frame format people still send) and HEIC are
/// named in their refusals so the uploader knows what to change.
pub fn sniff(bytes: &[u8]) -> Result<PhotoType, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(PhotoType::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        if png_is_animated(bytes) { Err(PhotoError::Animated) } else { Ok(PhotoType::Png) }
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        if webp_is_animated(bytes) { Err(PhotoError::Animated) } else { Ok(PhotoType::WebP) }
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        if gif_frames(bytes) > 1 { Err(PhotoError::Animated) } else { Err(PhotoError::UnsupportedType) }
    } else if is_heif(bytes) {
        Err(PhotoError::Heic)
    } else {
        Err(PhotoError::UnsupportedType)
    }
}

/// The declared type (a multipart part's `Content-Type`, parameters ignored) must name the
/// sniffed one; no declaration, or `application/octet-stream`, defers to the bytes.
pub fn check_declared(declared: Option<&str>, actual: PhotoType) -> Result<(), PhotoError> {
    let Some(declared) = declared else { return Ok(()) };
    let essence = declared.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let agrees = match essence.as_str() {
        "" | "application/octet-stream" => true,
        "image/jpeg" | "image/jpg" | "image/pjpeg" => actual == PhotoType::Jpeg,
        "image/png" => actual == PhotoType::Png,
        "image/webp" => actual == PhotoType::WebP,
        _ => false,
    };
    if agrees {
        Ok(())
    } else {
        Err(PhotoError::TypeMismatch { declared: essence.chars().take(64).collect(), actual: actual.mime() })
    }
}

/// APNG announces itself with an `acTL` chunk before the first `IDAT`.
fn png_is_animated(bytes: &[u8]) -> bool {
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let length = u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        let kind = &bytes[at + 4..at + 8];
        match kind {
            b"acTL" => return true,
            b"IDAT" | b"IEND" => return false,
            _ => {}
        }
        at = at.saturating_add(12).saturating_add(length);
    }
    false
}

/// An animated WebP is an extended (`VP8X`) file with the animation flag, or any `ANIM`/`ANMF`
/// chunk.
fn webp_is_animated(bytes: &[u8]) -> bool {
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let kind = &bytes[at..at + 4];
        let length =
            u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]) as usize;
        match kind {
            b"VP8X" if bytes.get(at + 8).is_some_and(|flags| flags & 0x02 != 0) => return true,
            b"ANIM" | b"ANMF" => return true,
            _ => {}
        }
        // Chunks are padded to an even length.
        at = at.saturating_add(8).saturating_add(length).saturating_add(length & 1);
    }
    false
}

/// Counts image descriptors by walking the GIF block structure (no decoding); stops at two.
fn gif_frames(bytes: &[u8]) -> usize {
    let mut at = 13;
    if let Some(&flags) = bytes.get(10)
        && flags & 0x80 != 0
    {
        at += 3 << ((flags & 0x07) + 1);
    }
    let mut frames = 0;
    let skip_sub_blocks = |mut at: usize| -> Option<usize> {
        loop {
            let size = *bytes.get(at)? as usize;
            at += 1 + size;
            if size == 0 {
                return Some(at);
            }
        }
    };
    while frames < 2 {
        match bytes.get(at) {
            Some(0x21) => match skip_sub_blocks(at + 2) {
                Some(next) => at = next,
                None => break,
            },
            Some(0x2C) => {
                frames += 1;
                let Some(&flags) = bytes.get(at + 9) else { break };
                at += 10;
                if flags & 0x80 != 0 {
                    at += 3 << ((flags & 0x07) + 1);
                }
                match skip_sub_blocks(at + 1) {
                    Some(next) => at = next,
                    None => break,
                }
            }
            _ => break,
        }
    }
    frames
}

/// ISO base media files whose brand is one of the HEIF family (HEIC, HEIF, AVIF).
fn is_heif(bytes: &[u8]) -> bool {
    bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && matches!(
            &bytes[8..12],
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" | b"avif" | b"avis"
        )
}
