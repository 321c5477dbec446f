//! The JPEG container, walked segment by segment without decoding: the frame's dimensions
//! (so a bomb is refused before a byte of pixels is allocated), the EXIF block, and a lossless
//! copy that keeps only what decoding needs.
//!
//! The full-size copy is this lossless strip rather than a re-encode: re-encoding 12
//! megapixels costs several times the whole rest of the pipeline and loses quality, while the
//! strip is a copy of the compressed bytes. What it keeps: the tables, the frame, the scans,
//! a JFIF header without its thumbnail, the ICC profile (colour, not personal) and Adobe's
//! colour-transform marker. What it drops: every other APPn (EXIF with GPS, XMP, MPF with its
//! embedded copies, maker notes, Photoshop IPTC), comments, and anything after the end marker.
//! Orientation cannot be baked into the compressed bytes without re-encoding (a lossless rotate
//! needs whole MCUs), so a rotated photo keeps a minimal EXIF block holding Orientation alone.

use super::error::PhotoError;
use std::ops::Range;

/// More segments than any real JPEG has (progressive files have a few dozen).
const MAX_SEGMENTS: usize = 4096;

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const APP14: u8 = 0xEE;
const COM: u8 = 0xFE;

#[derive(Debug, Clone)]
pub struct Layout {
    pub width: u32,
    pub height: u32,
    /// Progressive frames are decoded from coefficients kept for the whole image.
    pub progressive: bool,
    /// What those coefficients take: two bytes each, 64 per block of every component.
    pub coefficient_bytes: u64,
    /// Colour components of the frame: 1 (grey), 3 (YCbCr or RGB) or 4 (CMYK).
    pub components: u8,
    /// The TIFF structure inside the first `Exif` APP1, if any.
    pub exif: Option<Range<usize>>,
    /// Every segment in order: its marker and its bytes (marker included; a scan's range runs
    /// to the end of its entropy-coded data).
    segments: Vec<(u8, Range<usize>)>,
}

fn corrupt(what: &str) -> PhotoError {
    PhotoError::Corrupt(format!("JPEG structure: {what}"))
}

pub fn layout(bytes: &[u8]) -> Result<Layout, PhotoError> {
    if !bytes.starts_with(&[0xFF, SOI]) {
        return Err(corrupt("no start marker"));
    }
    let mut segments = Vec::new();
    let mut frame = None;
    let mut exif = None;
    let mut at = 2;
    loop {
        if segments.len() >= MAX_SEGMENTS {
            return Err(corrupt("too many segments"));
        }
        // Markers may be preceded by any number of 0xFF fill bytes.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if bytes.get(at) != Some(&0xFF) {
            return Err(corrupt("truncated or missing a marker"));
        }
        let marker = *bytes.get(at + 1).ok_or_else(|| corrupt("truncated"))?;
        match marker {
            EOI => {
                segments.push((EOI, at..at + 2));
                break;
            }
            SOI => return Err(corrupt("a second start marker")),
            0x01 | 0xD0..=0xD7 => {
                segments.push((marker, at..at + 2));
                at += 2;
                continue;
            }
            _ => {}
        }
        let length = bytes
            .get(at + 2..at + 4)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| corrupt("truncated segment"))?;
        let end = at + 2 + length;
        if length < 2 || end > bytes.len() {
            return Err(corrupt("truncated segment"));
        }
        let payload = &bytes[at + 4..end];
        match marker {
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF if frame.is_none() => {
                if payload.len() < 6 {
                    return Err(corrupt("short frame header"));
                }
                let height = u32::from(u16::from_be_bytes([payload[1], payload[2]]));
                let width = u32::from(u16::from_be_bytes([payload[3], payload[4]]));
                let progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                let components = payload[5];
                frame =
                    Some((width, height, progressive, coefficient_bytes(payload, width, height), components));
            }
            APP1 if exif.is_none() && payload.starts_with(b"Exif\0\0") => exif = Some(at + 10..end),
            _ => {}
        }
        if marker == SOS {
            let data_end = entropy_end(bytes, end).ok_or_else(|| corrupt("truncated scan data"))?;
            segments.push((SOS, at..data_end));
            at = data_end;
        } else {
            segments.push((marker, at..end));
            at = end;
        }
    }
    let (width, height, progressive, coefficient_bytes, components) =
        frame.ok_or_else(|| corrupt("no frame header"))?;
    Ok(Layout { width, height, progressive, coefficient_bytes, components, exif, segments })
}

/// The coefficients of a frame: each component's blocks at its sampling (4:2:0 holds 1.5
/// samples a pixel, 4:4:4 three), 64 coefficients of two bytes a block. Without readable
/// components, the most any frame of these dimensions may hold.
fn coefficient_bytes(frame: &[u8], width: u32, height: u32) -> u64 {
    let most = u64::from(width) * u64::from(height) * 4 * 2;
    let count = usize::from(frame.get(5).copied().unwrap_or(0));
    let Some(components) = frame.get(6..6 + 3 * count).filter(|_| count > 0) else {
        return most;
    };
    let sampling: Vec<(u32, u32)> = components
        .chunks_exact(3)
        .map(|c| (u32::from(c[1] >> 4).max(1), u32::from(c[1] & 0x0F).max(1)))
        .collect();
    let (h_max, v_max) = sampling.iter().fold((1, 1), |(h, v), &(hi, vi)| (h.max(hi), v.max(vi)));
    let blocks = |side: u32, factor: u32, max: u32| u64::from((side * factor).div_ceil(max).div_ceil(8));
    let total: u64 =
        sampling.iter().map(|&(h, v)| blocks(width, h, h_max) * blocks(height, v, v_max) * 64 * 2).sum();
    total.min(most)
}

/// Where the entropy-coded data starting at `from` ends: the first 0xFF that is not a stuffed
/// zero, a restart marker or a fill byte.
fn entropy_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let next = at + memchr_ff(&bytes[at..])?;
        match *bytes.get(next + 1)? {
            0x00 | 0xD0..=0xD7 => at = next + 2,
            0xFF => at = next + 1,
            _ => return Some(next),
        }
    }
}

fn memchr_ff(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == 0xFF)
}

/// The photo with nothing but what decoding needs, plus Orientation when it is not upright.
pub fn strip(bytes: &[u8], layout: &Layout, orientation: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, SOI]);
    let mut wrote_orientation = orientation == 1;
    for (marker, range) in &layout.segments {
        let segment = &bytes[range.clone()];
        let payload = segment.get(4..).unwrap_or_default();
        let keep = match *marker {
            APP0 => payload.starts_with(b"JFIF\0") && payload.len() >= 14,
            APP2 => payload.starts_with(b"ICC_PROFILE\0"),
            APP14 => payload.starts_with(b"Adobe"),
            0xE1 | 0xE3..=0xED | 0xEF | COM => false,
            _ => true,
        };
        if !keep {
            continue;
        }
        if *marker == APP0 {
            // The 14 bytes of the JFIF header proper, thumbnail size set to zero.
            out.extend_from_slice(&[0xFF, APP0, 0, 16]);
            out.extend_from_slice(&payload[..12]);
            out.extend_from_slice(&[0, 0]);
            continue;
        }
        if !wrote_orientation {
            out.extend_from_slice(&orientation_app1(orientation));
            wrote_orientation = true;
        }
        out.extend_from_slice(segment);
    }
    out
}

/// An APP1 segment whose EXIF holds one field, Orientation, and nothing else.
pub fn orientation_app1(orientation: u16) -> Vec<u8> {
    let mut segment = vec![0xFF, APP1, 0, 34];
    segment.extend_from_slice(b"Exif\0\0");
    // Big-endian TIFF header, IFD0 at offset 8 with one entry.
    segment.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
    segment.extend_from_slice(&1u16.to_be_bytes());
    segment.extend_from_slice(&0x0112u16.to_be_bytes());
    segment.extend_from_slice(&3u16.to_be_bytes());
    segment.extend_from_slice(&1u32.to_be_bytes());
    segment.extend_from_slice(&orientation.to_be_bytes());
    segment.extend_from_slice(&[0, 0]);
    segment.extend_from_slice(&0u32.to_be_bytes());
    segment
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 90]));
        let mut bytes = Vec::new();
        image::DynamicImage::ImageRgb8(image)
            .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Jpeg)
            .expect("encode");
        bytes
    }

    fn with_segments(jpeg: &[u8], extra: &[Vec<u8>], trailer: &[u8]) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        for segment in extra {
            out.extend_from_slice(segment);
        }
        out.extend_from_slice(&jpeg[2..]);
        out.extend_from_slice(trailer);
        out
    }

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn reads_the_frame_and_finds_exif() {
        let plain = jpeg(33, 17);
        let tagged = with_segments(&plain, &[segment(APP1, b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0")], b"");
        let layout = layout(&tagged).expect("layout");
        assert_eq!((layout.width, layout.height), (33, 17));
        assert_eq!(&tagged[layout.exif.expect("exif")], b"MM\0\x2a\0\0\0\x08\0\0");
    }

    #[test]
    fn strip_drops_metadata_and_trailers_and_still_decodes() {
        let plain = jpeg(40, 30);
        let dirty = with_segments(
            &plain,
            &[
                segment(APP1, b"Exif\0\0secret-gps"),
                segment(APP1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>secret</x:xmpmeta>"),
                segment(0xED, b"Photoshop 3.0\0secret"),
                segment(COM, b"secret comment"),
                segment(APP2, b"MPF\0secret"),
            ],
            b"secret trailer",
        );
        let layout = layout(&dirty).expect("layout");
        let clean = strip(&dirty, &layout, 1);
        assert!(!clean.windows(6).any(|w| w == b"secret"), "no metadata survives");
        assert!(clean.ends_with(&[0xFF, EOI]));
        let decoded = image::load_from_memory(&clean).expect("the strip decodes");
        assert_eq!((decoded.width(), decoded.height()), (40, 30));
        assert_eq!(decoded.to_rgb8(), image::load_from_memory(&plain).expect("decodes").to_rgb8());
    }

    #[test]
    fn strip_keeps_only_orientation_when_rotated() {
        let plain = jpeg(20, 10);
        let layout = layout(&plain).expect("layout");
        let rotated = strip(&plain, &layout, 6);
        let exif = super::super::exif::read_jpeg(&rotated).expect("exif");
        assert_eq!(exif.orientation, 6);
        assert_eq!((exif.captured_at_ms, exif.gps), (None, None));
    }

    #[test]
    fn truncation_and_garbage_are_corrupt() {
        let plain = jpeg(20, 10);
        for cut in [3, 10, plain.len() / 2, plain.len() - 1] {
            assert!(matches!(layout(&plain[..cut]), Err(PhotoError::Corrupt(_))), "cut at {cut}");
        }
        assert!(matches!(layout(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF]), Err(PhotoError::Corrupt(_))));
    }
}
