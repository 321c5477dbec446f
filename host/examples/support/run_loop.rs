//! The measuring loop the benchmark examples share: the ceilings a benchmark compares the
//! server with are the same work run this way, straight on its backend.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs `work` from `tasks` tasks for `seconds` (each call numbered, apart per task); prints
/// `label`, the rate in `unit`s a second and the latency percentiles on one line.
pub async fn run_loop<F, Fut>(
    label: &str,
    unit: &str,
    seconds: usize,
    tasks: usize,
    work: F,
) -> anyhow::Result<()>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let work = Arc::new(work);
    let deadline = Instant::now() + Duration::from_secs(seconds as u64);
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let work = work.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = task as u64 * 1_000_000_007;
                while Instant::now() < deadline {
                    let started = Instant::now();
                    work(n).await?;
                    latencies.push(started.elapsed());
                    n += 1;
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.await??);
    }
    all.sort();
    let at = |q: f64| all.get(((all.len() as f64 - 1.0) * q) as usize).copied().unwrap_or_default();
    println!(
        "{label:<40} {:>12.2} {unit}   p50 {:.2}ms   p99 {:.2}ms",
        all.len() as f64 / seconds as f64,
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3
    );
    Ok(())
}
