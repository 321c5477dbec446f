//! Prometheus metrics: one recorder per process, an HTTP latency histogram by route, method
//! and status.

use axum::http::Method;
use metrics::Histogram;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};
use std::time::Duration;

pub const HTTP_DURATION: &str = "http_request_duration_seconds";

/// The route label of a request no route matched: scanners cannot blow up the series count.
pub const UNMATCHED: &str = "unmatched";

const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The process-wide recorder, installed on first use (the `metrics` facade is global).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), LATENCY_BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; metrics then go there.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Route → (method, status) → the histogram registered for them.
type HistogramsByRoute = HashMap<String, HashMap<(&'static str, u16), Histogram>>;

/// Records one request's duration. The histogram of each (route, method, status) is looked up
/// in the registry once and kept, so a request costs a read lock and a map lookup rather
/// than three label strings and a registry search.
pub fn record_request(route: &str, method: &Method, status: u16, took: Duration) {
    static HISTOGRAMS: OnceLock<RwLock<HistogramsByRoute>> = OnceLock::new();
    let histograms = HISTOGRAMS.get_or_init(RwLock::default);
    let method = method_label(method);
    let known = histograms
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(route)
        .and_then(|by_status| by_status.get(&(method, status)).cloned());
    let histogram = known.unwrap_or_else(|| {
        let histogram = metrics::histogram!(
            HTTP_DURATION,
            "method" => method,
            "route" => route.to_owned(),
            "status" => status.to_string()
        );
        histograms
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(route.to_owned())
            .or_default()
            .insert((method, status), histogram.clone());
        histogram
    });
    histogram.record(took.as_secs_f64());
}

/// Methods outside the standard set share one label, like unmatched routes.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}
