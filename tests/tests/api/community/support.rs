//! Geometry of the nearby tests, written independently of the server's, and walking a listing.

use serde_json::Value;
use weatherwise_tests::{Session, TestApp};

/// The reference distance the listing must agree with: haversine on a sphere of the mean
/// Earth radius, written out independently of the server's.
pub fn reference_distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * a.sqrt().asin()
}

/// The point `distance_m` from (lat, lon) along `bearing` (radians), on the same sphere.
pub fn destination(lat: f64, lon: f64, bearing: f64, distance_m: f64) -> (f64, f64) {
    const R: f64 = 6_371_008.8;
    let angular = distance_m / R;
    let p1 = lat.to_radians();
    let p2 = (p1.sin() * angular.cos() + p1.cos() * angular.sin() * bearing.cos()).asin();
    let l2 = lon.to_radians()
        + (bearing.sin() * angular.sin() * p1.cos()).atan2(angular.cos() - p1.sin() * p2.sin());
    (p2.to_degrees(), l2.to_degrees())
}

/// Every page of a listing, following `next_cursor`; returns the posts in order.
pub async fn walk(server: &TestApp, caller: &Session, first: &str) -> Vec<Value> {
    let mut posts = Vec::new();
    let mut path = first.to_owned();
    for _ in 0..10_000 {
        let page = server.get_json(caller, &path).await;
        posts.extend(page["posts"].as_array().expect("posts").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("{first}&cursor={cursor}"),
            None => return posts,
        }
    }
    panic!("the listing never ended");
}
