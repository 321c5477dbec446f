//! Great-circle geometry for the nearby listing: the exact distance, and the bounding box that
//! an index can answer.
//!
//! The database prefilters on an index by latitude band and longitude range (a superset of the
//! circle); the exact haversine distance then decides, here in Rust, so both engines give the
//! same answer to the last metre whatever trigonometry their SQL has.

/// Mean Earth radius (IUGG), in metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Latitude bands are `BANDS_PER_DEGREE`-th of a degree (about 1.1 km) tall. The stored
/// `lat_band` column is [`lat_band`] of the post's latitude; see the community migration.
pub const BANDS_PER_DEGREE: f64 = 100.0;

/// Widening of the bounding box, in degrees (about 11 cm), so that rounding in the box never
/// excludes a point the exact distance would include.
const BOX_MARGIN_DEG: f64 = 1e-6;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

impl Point {
    /// A point with finite coordinates in range, or which coordinate is wrong and why.
    pub fn new(lat: f64, lon: f64) -> Result<Self, (&'static str, &'static str)> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(("lat", "must be a number from -90 to 90"));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(("lon", "must be a number from -180 to 180"));
        }
        Ok(Self { lat, lon })
    }

    /// Rounded to a grid of about a kilometre (two decimals of a degree), for authors who do
    /// not want their exact position stored.
    pub fn coarse(self) -> Self {
        let round = |value: f64| (value * 100.0).round() / 100.0;
        Self { lat: round(self.lat), lon: round(self.lon) }
    }
}

/// Haversine distance in metres.
pub fn distance_m(a: Point, b: Point) -> f64 {
    let (lat_a, lat_b) = (a.lat.to_radians(), b.lat.to_radians());
    let half_dlat = (lat_b - lat_a) / 2.0;
    let half_dlon = (b.lon - a.lon).to_radians() / 2.0;
    let h = half_dlat.sin().powi(2) + lat_a.cos() * lat_b.cos() * half_dlon.sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// The latitude band a latitude falls in (the indexed `lat_band` column).
pub fn lat_band(lat: f64) -> i64 {
    // Multiplication by a constant and `floor` are monotonic, so a latitude inside a range
    // always has a band inside the range's bands.
    (lat * BANDS_PER_DEGREE).floor() as i64
}

/// A latitude/longitude box containing every point within a radius of a centre.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundingBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lon: f64,
    pub max_lon: f64,
}

impl BoundingBox {
    /// The smallest box around the spherical cap (J. P. Matuschek's construction). Near a pole
    /// or across the antimeridian it takes every longitude: rare, and still correct.
    pub fn around(center: Point, radius_m: f64) -> Self {
        let angular = radius_m / EARTH_RADIUS_M;
        let dlat = angular.to_degrees() + BOX_MARGIN_DEG;
        let min_lat = (center.lat - dlat).max(-90.0);
        let max_lat = (center.lat + dlat).min(90.0);
        let full = Self { min_lat, max_lat, min_lon: -180.0, max_lon: 180.0 };
        if min_lat <= -90.0 || max_lat >= 90.0 {
            return full;
        }
        let ratio = angular.sin() / center.lat.to_radians().cos();
        if ratio >= 1.0 {
            return full;
        }
        let dlon = ratio.asin().to_degrees() + BOX_MARGIN_DEG;
        let (min_lon, max_lon) = (center.lon - dlon, center.lon + dlon);
        if min_lon < -180.0 || max_lon > 180.0 {
            return full;
        }
        Self { min_lat, max_lat, min_lon, max_lon }
    }

    /// Every latitude band the box touches, south to north.
    pub fn bands(&self) -> std::ops::RangeInclusive<i64> {
        lat_band(self.min_lat)..=lat_band(self.max_lat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEOUL: Point = Point { lat: 37.5665, lon: 126.9780 };
    const BUSAN: Point = Point { lat: 35.1796, lon: 129.0756 };

    #[test]
    fn distances_match_known_values() {
        assert_eq!(distance_m(SEOUL, SEOUL), 0.0);
        let seoul_busan = distance_m(SEOUL, BUSAN);
        assert!((seoul_busan - 325_000.0).abs() < 2_000.0, "{seoul_busan}");
        // One degree of latitude is R·π/180.
        let degree = distance_m(Point { lat: 10.0, lon: 0.0 }, Point { lat: 11.0, lon: 0.0 });
        assert!((degree - EARTH_RADIUS_M.to_radians()).abs() < 1e-6);
    }

    #[test]
    fn the_box_holds_the_circle() {
        for center in [SEOUL, BUSAN, Point { lat: 60.0, lon: 10.0 }, Point { lat: -33.9, lon: 151.2 }] {
            let radius = 10_000.0;
            let area = BoundingBox::around(center, radius);
            for step in 0..360 {
                let bearing = f64::from(step).to_radians();
                let edge = destination(center, bearing, radius);
                assert!(edge.lat >= area.min_lat && edge.lat <= area.max_lat, "{edge:?} {area:?}");
                assert!(edge.lon >= area.min_lon && edge.lon <= area.max_lon, "{edge:?} {area:?}");
                assert!(area.bands().contains(&lat_band(edge.lat)));
            }
        }
    }

    #[test]
    fn poles_and_antimeridian_take_every_longitude() {
        let near_pole = BoundingBox::around(Point { lat: 89.99, lon: 0.0 }, 5_000.0);
        assert_eq!((near_pole.min_lon, near_pole.max_lon), (-180.0, 180.0));
        let dateline = BoundingBox::around(Point { lat: 0.0, lon: 179.99 }, 5_000.0);
        assert_eq!((dateline.min_lon, dateline.max_lon), (-180.0, 180.0));
    }

    #[test]
    fn coordinates_are_checked() {
        assert!(Point::new(37.0, 127.0).is_ok());
        assert_eq!(Point::new(f64::NAN, 0.0).map_err(|e| e.0), Err("lat"));
        assert_eq!(Point::new(0.0, f64::INFINITY).map_err(|e| e.0), Err("lon"));
        assert_eq!(Point::new(90.5, 0.0).map_err(|e| e.0), Err("lat"));
        assert_eq!(Point::new(0.0, -180.5).map_err(|e| e.0), Err("lon"));
        assert_eq!(Point { lat: 37.56654, lon: 126.97801 }.coarse(), Point { lat: 37.57, lon: 126.98 });
    }

    fn destination(from: Point, bearing: f64, distance: f64) -> Point {
        let angular = distance / EARTH_RADIUS_M;
        let lat = from.lat.to_radians();
        let lat2 = (lat.sin() * angular.cos() + lat.cos() * angular.sin() * bearing.cos()).asin();
        let lon2 = from.lon.to_radians()
            + (bearing.sin() * angular.sin() * lat.cos()).atan2(angular.cos() - lat.sin() * lat2.sin());
        Point { lat: lat2.to_degrees(), lon: lon2.to_degrees() }
    }
}
