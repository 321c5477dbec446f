//! The three facts the host reads from EXIF before stripping it: when the photo was taken,
//! where, and which way up it is. A missing or unreadable EXIF block is not an error: it only
//! means the photo carries none of them.

use chrono::{FixedOffset, NaiveDateTime, TimeZone};
use exif::{In, Tag, Value};

/// Photos without an offset are taken to be from Korea (UTC+9, no daylight saving).
const ASSUMED_OFFSET_SECS: i32 = 9 * 3600;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExifFacts {
    /// `DateTimeOriginal` with `OffsetTimeOriginal` (or `OffsetTime`), in unix milliseconds.
    pub captured_at_ms: Option<i64>,
    /// Latitude and longitude in degrees.
    pub gps: Option<(f64, f64)>,
    /// EXIF orientation 1–8 (1 is upright; anything unreadable counts as 1).
    pub orientation: u16,
}

impl Default for ExifFacts {
    fn default() -> Self {
        Self { captured_at_ms: None, gps: None, orientation: 1 }
    }
}

/// Facts from a raw TIFF structure (a JPEG's `Exif` APP1 after its header).
pub fn read_tiff(tiff: &[u8]) -> ExifFacts {
    exif::Reader::new().read_raw(tiff.to_vec()).map(|exif| facts(&exif)).unwrap_or_default()
}

/// Facts from any container kamadak-exif understands (JPEG APP1, PNG `eXIf`, WebP `EXIF`).
pub fn read_container(bytes: &[u8]) -> ExifFacts {
    read_jpeg(bytes).unwrap_or_default()
}

/// `None` when the container holds no readable EXIF at all (tests use this to prove absence).
pub fn read_jpeg(bytes: &[u8]) -> Option<ExifFacts> {
    let mut cursor = std::io::Cursor::new(bytes);
    exif::Reader::new().read_from_container(&mut cursor).ok().map(|exif| facts(&exif))
}

fn facts(exif: &exif::Exif) -> ExifFacts {
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|field| field.value.get_uint(0))
        .and_then(|value| u16::try_from(value).ok())
        .filter(|value| (1..=8).contains(value))
        .unwrap_or(1);
    ExifFacts { captured_at_ms: captured_at_ms(exif), gps: gps(exif), orientation }
}

fn ascii(exif: &exif::Exif, tag: Tag) -> Option<String> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(parts) => {
            let text = std::str::from_utf8(parts.first()?).ok()?;
            Some(text.trim_end_matches('\0').trim().to_owned())
        }
        _ => None,
    }
}

fn captured_at_ms(exif: &exif::Exif) -> Option<i64> {
    let local =
        NaiveDateTime::parse_from_str(&ascii(exif, Tag::DateTimeOriginal)?, "%Y:%m:%d %H:%M:%S").ok()?;
    let offset = [Tag::OffsetTimeOriginal, Tag::OffsetTime]
        .into_iter()
        .find_map(|tag| ascii(exif, tag)?.parse::<FixedOffset>().ok())
        .or_else(|| FixedOffset::east_opt(ASSUMED_OFFSET_SECS))?;
    Some(offset.from_local_datetime(&local).single()?.timestamp_millis())
}

fn gps(exif: &exif::Exif) -> Option<(f64, f64)> {
    let latitude = degrees(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S')?;
    let longitude = degrees(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W')?;
    ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude))
        .then_some((latitude, longitude))
}

/// Degrees, minutes, seconds as three rationals, negated for the south or west reference.
fn degrees(exif: &exif::Exif, tag: Tag, reference: Tag, negative: u8) -> Option<f64> {
    let Value::Rational(parts) = &exif.get_field(tag, In::PRIMARY)?.value else { return None };
    let [d, m, s] = parts.get(..3)? else { return None };
    if d.denom == 0 || m.denom == 0 || s.denom == 0 {
        return None;
    }
    let value = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
    let sign = match &exif.get_field(reference, In::PRIMARY).map(|field| &field.value) {
        Some(Value::Ascii(parts)) if parts.first().and_then(|p| p.first()) == Some(&negative) => -1.0,
        _ => 1.0,
    };
    value.is_finite().then_some(sign * value)
}

/// Builds EXIF blocks for tests: a little-endian TIFF with IFD0 (Orientation), the Exif IFD
/// (DateTimeOriginal, OffsetTimeOriginal) and the GPS IFD.
#[cfg(test)]
pub(crate) mod build {
    /// (degrees, minutes, seconds×100) and the reference letter.
    pub type Coordinate = ([u32; 3], u8);

    pub struct Fields<'a> {
        pub orientation: u16,
        pub taken: Option<&'a str>,
        pub offset: Option<&'a str>,
        /// Latitude then longitude.
        pub gps: Option<(Coordinate, Coordinate)>,
    }

    enum Entry {
        Short(u16, u16),
        Long(u16, u32),
        Ascii(u16, Vec<u8>),
        Rationals(u16, Vec<(u32, u32)>),
    }

    /// Writes one IFD at `base` (offset of the IFD in the TIFF), its out-of-line data after it.
    fn ifd(entries: &[Entry], base: u32) -> Vec<u8> {
        let table_len = 2 + 12 * entries.len() as u32 + 4;
        let mut table = (entries.len() as u16).to_le_bytes().to_vec();
        let mut data = Vec::new();
        for entry in entries {
            let (tag, kind, count, inline): (u16, u16, u32, Option<[u8; 4]>) = match entry {
                Entry::Short(tag, v) => {
                    let b = v.to_le_bytes();
                    (*tag, 3, 1, Some([b[0], b[1], 0, 0]))
                }
                Entry::Long(tag, v) => (*tag, 4, 1, Some(v.to_le_bytes())),
                // Values of four bytes or fewer sit in the entry itself.
                Entry::Ascii(tag, text) if text.len() <= 4 => {
                    let mut inline = [0; 4];
                    inline[..text.len()].copy_from_slice(text);
                    (*tag, 2, text.len() as u32, Some(inline))
                }
                Entry::Ascii(tag, text) => (*tag, 2, text.len() as u32, None),
                Entry::Rationals(tag, values) => (*tag, 5, values.len() as u32, None),
            };
            table.extend_from_slice(&tag.to_le_bytes());
            table.extend_from_slice(&kind.to_le_bytes());
            table.extend_from_slice(&count.to_le_bytes());
            match inline {
                Some(value) => table.extend_from_slice(&value),
                None => {
                    let offset = base + table_len + data.len() as u32;
                    table.extend_from_slice(&offset.to_le_bytes());
                    match entry {
                        Entry::Ascii(_, text) => data.extend_from_slice(text),
                        Entry::Rationals(_, values) => {
                            for (n, d) in values {
                                data.extend_from_slice(&n.to_le_bytes());
                                data.extend_from_slice(&d.to_le_bytes());
                            }
                        }
                        _ => {}
                    }
                    if data.len() % 2 == 1 {
                        data.push(0);
                    }
                }
            }
        }
        table.extend_from_slice(&0u32.to_le_bytes());
        table.extend_from_slice(&data);
        table
    }

    fn ascii(text: &str) -> Vec<u8> {
        let mut bytes = text.as_bytes().to_vec();
        bytes.push(0);
        bytes
    }

    /// The TIFF structure (what follows `Exif\0\0`).
    pub fn tiff(fields: &Fields) -> Vec<u8> {
        let mut exif_entries = Vec::new();
        if let Some(taken) = fields.taken {
            exif_entries.push(Entry::Ascii(0x9003, ascii(taken)));
        }
        if let Some(offset) = fields.offset {
            exif_entries.push(Entry::Ascii(0x9011, ascii(offset)));
        }
        let gps_entries = fields
            .gps
            .map(|((lat, lat_ref), (lon, lon_ref))| {
                let dms = |v: [u32; 3]| vec![(v[0], 1), (v[1], 1), (v[2], 100)];
                vec![
                    Entry::Ascii(0x0001, vec![lat_ref, 0]),
                    Entry::Rationals(0x0002, dms(lat)),
                    Entry::Ascii(0x0003, vec![lon_ref, 0]),
                    Entry::Rationals(0x0004, dms(lon)),
                ]
            })
            .unwrap_or_default();
        // IFD0 first with fixed-size entries, so its length is known before the others.
        let ifd0_len = 2 + 12 * 3 + 4;
        let exif_at = 8 + ifd0_len;
        let exif_ifd = ifd(&exif_entries, exif_at);
        let gps_at = exif_at + exif_ifd.len() as u32;
        let gps_ifd = ifd(&gps_entries, gps_at);
        let ifd0 = ifd(
            &[
                Entry::Short(0x0112, fields.orientation),
                Entry::Long(0x8769, exif_at),
                Entry::Long(0x8825, gps_at),
            ],
            8,
        );
        assert_eq!(ifd0.len() as u32, ifd0_len);
        let mut tiff = b"II\x2a\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&ifd0);
        tiff.extend_from_slice(&exif_ifd);
        tiff.extend_from_slice(&gps_ifd);
        tiff
    }

    /// `jpeg` with an `Exif` APP1 holding `fields` right after its start marker.
    pub fn into_jpeg(jpeg: &[u8], fields: &Fields) -> Vec<u8> {
        let mut payload = b"Exif\0\0".to_vec();
        payload.extend_from_slice(&tiff(fields));
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&jpeg[2..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::build::{Fields, tiff};
    use super::*;

    #[test]
    fn reads_time_place_and_orientation() {
        let facts = read_tiff(&tiff(&Fields {
            orientation: 6,
            taken: Some("2025:07:01 14:30:00"),
            offset: Some("+02:00"),
            gps: Some((([37, 33, 5_940], b'N'), ([126, 58, 4_680], b'E'))),
        }));
        assert_eq!(facts.orientation, 6);
        // 2025-07-01T12:30:00Z
        assert_eq!(facts.captured_at_ms, Some(1_751_373_000_000));
        let (lat, lon) = facts.gps.expect("gps");
        assert!((lat - (37.0 + 33.0 / 60.0 + 59.4 / 3600.0)).abs() < 1e-9);
        assert!((lon - (126.0 + 58.0 / 60.0 + 46.8 / 3600.0)).abs() < 1e-9);
    }

    #[test]
    fn without_an_offset_the_time_is_korean_and_south_west_are_negative() {
        let facts = read_tiff(&tiff(&Fields {
            orientation: 1,
            taken: Some("2025:07:01 21:30:00"),
            offset: None,
            gps: Some((([33, 0, 0], b'S'), ([70, 30, 0], b'W'))),
        }));
        assert_eq!(facts.captured_at_ms, Some(1_751_373_000_000));
        assert_eq!(facts.gps, Some((-33.0, -70.5)));
    }

    #[test]
    fn garbage_reads_as_nothing() {
        assert_eq!(read_tiff(b"not a tiff at all"), ExifFacts::default());
        let facts =
            read_tiff(&tiff(&Fields { orientation: 42, taken: Some("yesterday"), offset: None, gps: None }));
        assert_eq!(facts, ExifFacts::default());
    }
}
