//! The KMA forecast grid: a Lambert conformal conic projection with 5 km cells.
//!
//! Constants and rounding are KMA's own (the conversion published with the short-term forecast
//! API): Earth radius 6371.00877 km, standard parallels 30° and 60°, origin 38°N 126°E at grid
//! point (43, 136), and `+ 0.5` then floor. The same cell names a place for every provider, so
//! the weather cache is keyed by it.

use std::f64::consts::PI;

const EARTH_RADIUS_KM: f64 = 6371.00877;
const GRID_KM: f64 = 5.0;
const STANDARD_PARALLEL_1: f64 = 30.0;
const STANDARD_PARALLEL_2: f64 = 60.0;
const ORIGIN_LON: f64 = 126.0;
const ORIGIN_LAT: f64 = 38.0;
const ORIGIN_X: f64 = 43.0;
const ORIGIN_Y: f64 = 136.0;

/// The extent of KMA's grid (the short-term forecast is published for these cells only).
pub const MAX_NX: i32 = 149;
pub const MAX_NY: i32 = 253;

/// One 5 km cell of the KMA grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GridCell {
    pub nx: i32,
    pub ny: i32,
}

impl GridCell {
    /// Whether KMA publishes forecasts for this cell.
    pub fn in_domain(self) -> bool {
        (1..=MAX_NX).contains(&self.nx) && (1..=MAX_NY).contains(&self.ny)
    }

    /// `nx:ny`, the cell's name in cache keys and answers.
    pub fn key(self) -> String {
        format!("{}:{}", self.nx, self.ny)
    }
}

struct Projection {
    /// Earth radius in grid units.
    re: f64,
    sn: f64,
    sf: f64,
    ro: f64,
}

fn projection() -> Projection {
    let rad = PI / 180.0;
    let re = EARTH_RADIUS_KM / GRID_KM;
    let (slat1, slat2, olat) = (STANDARD_PARALLEL_1 * rad, STANDARD_PARALLEL_2 * rad, ORIGIN_LAT * rad);
    let sn = ((slat1.cos() / slat2.cos()).ln())
        / (((PI * 0.25 + slat2 * 0.5).tan()) / ((PI * 0.25 + slat1 * 0.5).tan())).ln();
    let sf = (PI * 0.25 + slat1 * 0.5).tan().powf(sn) * slat1.cos() / sn;
    let ro = re * sf / (PI * 0.25 + olat * 0.5).tan().powf(sn);
    Projection { re, sn, sf, ro }
}

/// The cell containing a point.
pub fn to_grid(lat: f64, lon: f64) -> GridCell {
    let rad = PI / 180.0;
    let p = projection();
    let ra = p.re * p.sf / (PI * 0.25 + lat * rad * 0.5).tan().powf(p.sn);
    let mut theta = lon * rad - ORIGIN_LON * rad;
    if theta > PI {
        theta -= 2.0 * PI;
    }
    if theta < -PI {
        theta += 2.0 * PI;
    }
    theta *= p.sn;
    let x = (ra * theta.sin() + ORIGIN_X + 0.5).floor();
    let y = (p.ro - ra * theta.cos() + ORIGIN_Y + 0.5).floor();
    GridCell { nx: x as i32, ny: y as i32 }
}

/// The latitude and longitude of a cell's grid point (the inverse projection), so providers
/// without KMA's grid are asked about the same place for every point of a cell.
pub fn cell_center(cell: GridCell) -> (f64, f64) {
    let rad = PI / 180.0;
    let p = projection();
    let xn = f64::from(cell.nx) - ORIGIN_X;
    let yn = p.ro - f64::from(cell.ny) + ORIGIN_Y;
    let mut ra = (xn * xn + yn * yn).sqrt();
    if p.sn < 0.0 {
        ra = -ra;
    }
    let lat = 2.0 * (p.re * p.sf / ra).powf(1.0 / p.sn).atan() - PI * 0.5;
    let theta = if xn.abs() <= 0.0 {
        0.0
    } else if yn.abs() <= 0.0 {
        if xn < 0.0 { -PI * 0.5 } else { PI * 0.5 }
    } else {
        xn.atan2(yn)
    };
    let lon = theta / p.sn + ORIGIN_LON * rad;
    (lat / rad, lon / rad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_points_land_in_kma_cells() {
        for (place, lat, lon, nx, ny) in [
            ("Seoul City Hall", 37.5665, 126.9780, 60, 127),
            ("Busan", 35.1796, 129.0756, 98, 76),
            ("Jeju", 33.4996, 126.5312, 53, 38),
            ("Daejeon", 36.3504, 127.3845, 67, 100),
            ("Incheon", 37.4563, 126.7052, 55, 124),
            ("Gangneung", 37.7519, 128.8761, 92, 132),
        ] {
            assert_eq!(to_grid(lat, lon), GridCell { nx, ny }, "{place}");
        }
    }

    #[test]
    fn a_cell_center_maps_back_to_its_cell() {
        for cell in [GridCell { nx: 60, ny: 127 }, GridCell { nx: 98, ny: 76 }, GridCell { nx: 53, ny: 38 }] {
            let (lat, lon) = cell_center(cell);
            assert_eq!(to_grid(lat, lon), cell);
        }
        let (lat, lon) = cell_center(GridCell { nx: 60, ny: 127 });
        assert!((lat - 37.57).abs() < 0.05 && (lon - 126.98).abs() < 0.05, "{lat},{lon}");
    }

    #[test]
    fn the_domain_is_korea() {
        assert!(to_grid(37.5665, 126.9780).in_domain());
        assert!(!to_grid(35.6762, 139.6503).in_domain(), "Tokyo");
        assert!(!to_grid(0.0, 0.0).in_domain());
    }
}
