//! Photo pipeline benchmark (`bench/photos.sh`), release build:
//!
//! - `photo_bench compare FILE RUNS`: p50 wall time of `vipsthumbnail FILE -s 1024 -o out.jpg`
//!   (a process per run, as the tool is used) against the host pipeline (`photos::prepare` and
//!   both copies put in a local `FileStore`), and mean CPU time per run of each; also `vipsthumbnail --version`
//!   (the process start-up part of the tool's figure) and the pipeline's stages.
//! - `photo_bench concurrent FILE N`: N uploads of FILE through one `PhotoPipeline` of
//!   concurrency N at once, stored; prints the peak resident set (`VmHWM`) at the end. Run it
//!   under `/usr/bin/time -v` for the same figure from outside.

use std::process::Command;
use std::time::{Duration, Instant};
use weatherwise::files::{FileStore, LocalFiles};
use weatherwise::photos::{self, MemoryBudget, PhotoPipeline};

fn p50(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

/// CPU seconds so far of this process and of its waited-for children (`/proc/self/stat`, in
/// clock ticks of 10 ms: fine summed over many runs). On a shared machine wall time includes
/// waiting for a core; CPU time is the work each side did.
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<f64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().map(|f| f.parse().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default();
    let tick = |i: usize| fields.get(i).copied().unwrap_or(f64::NAN) / 100.0;
    // After the command name: state is field 0, utime 11, stime 12, cutime 13, cstime 14.
    (tick(11) + tick(12), tick(13) + tick(14))
}

fn run_vips(args: &[&str]) -> Duration {
    let started = Instant::now();
    let status = Command::new("vipsthumbnail")
        .args(args)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("vipsthumbnail runs");
    assert!(status.success(), "vipsthumbnail failed");
    started.elapsed()
}

async fn compare(file: &str, runs: usize) -> anyhow::Result<()> {
    let bytes = std::fs::read(file)?;
    let dir = tempfile::tempdir()?;
    let store = LocalFiles::open(dir.path().join("files")).await?;
    let out = dir.path().join("vips-out.jpg");
    let out = out.to_str().expect("utf-8 path");
    let (mut vips, mut startup, mut host, mut prepare_only) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // One warm-up of each, so neither pays for cold page cache or first-touch allocation.
    run_vips(&[file, "-s", "1024", "-o", out]);
    photos::prepare(&bytes, Some("image/jpeg"))?;
    for _ in 0..runs {
        startup.push(run_vips(&["--version"]));
    }
    let (_, children_before) = cpu_seconds();
    for _ in 0..runs {
        vips.push(run_vips(&[file, "-s", "1024", "-o", out]));
    }
    let vips_cpu = (cpu_seconds().1 - children_before) / runs as f64;
    let (own_before, _) = cpu_seconds();
    for run in 0..runs {
        let started = Instant::now();
        let photo = photos::prepare(&bytes, Some("image/jpeg"))?;
        let prepared = started.elapsed();
        photos::store(&store, &format!("bench-{run}"), &photo).await?;
        host.push(started.elapsed());
        prepare_only.push(prepared);
    }
    let host_cpu = (cpu_seconds().0 - own_before) / runs as f64;
    let photo = photos::prepare(&bytes, Some("image/jpeg"))?;
    let (vips, startup, host, prepare_only) = (p50(vips), p50(startup), p50(host), p50(prepare_only));
    println!("input: {file}, {} bytes, {}x{}", bytes.len(), photo.width, photo.height);
    println!(
        "outputs: normalised {} bytes, full (metadata stripped) {} bytes",
        photo.normalised.len(),
        photo.full.len()
    );
    println!("runs: {runs} each; p50 wall time, and mean CPU time (user + system, all threads)");
    println!("vipsthumbnail -s 1024 (process):     {:8.1} ms", ms(vips));
    println!("  of which process start (--version): {:7.1} ms", ms(startup));
    println!("host pipeline (prepare + store):      {:7.1} ms", ms(host));
    println!("  of which prepare:                   {:7.1} ms", ms(prepare_only));
    println!("ratio host / vipsthumbnail:           {:7.2} (target <= 1.5)", ms(host) / ms(vips));
    println!(
        "ratio host / (vipsthumbnail - start):  {:7.2} (the tool's work alone)",
        ms(host) / (ms(vips) - ms(startup)).max(0.001)
    );
    println!(
        "CPU per run: vipsthumbnail {:.1} ms, host pipeline {:.1} ms, ratio {:.2}",
        vips_cpu * 1e3,
        host_cpu * 1e3,
        host_cpu / vips_cpu
    );
    Ok(())
}

async fn concurrent(file: &str, uploads: usize) -> anyhow::Result<()> {
    let bytes = std::fs::read(file)?;
    let dir = tempfile::tempdir()?;
    let store = LocalFiles::open(dir.path().join("files")).await?;
    // As the server runs it: the default memory budget, every upload waiting its turn.
    let defaults = weatherwise::config::PhotosConfig::default();
    let budget = MemoryBudget::new(defaults.memory_budget_bytes, Duration::from_secs(600));
    let pipeline = PhotoPipeline::new(uploads, budget);
    let started = Instant::now();
    let tasks = (0..uploads).map(|i| {
        // Each upload owns its bytes, as a request body would.
        let (pipeline, bytes, store) = (pipeline.clone(), bytes.clone(), &store);
        async move {
            let photo = pipeline.prepare(bytes, Some("image/jpeg")).await?;
            photos::store(store, &format!("upload-{i}"), &photo).await?;
            anyhow::Ok(())
        }
    });
    for outcome in futures::future::join_all(tasks).await {
        outcome?;
    }
    println!(
        "{uploads} uploads of {file} at once: {:.1} ms wall, peak RSS (VmHWM) {:.1} MiB (target <= 300)",
        ms(started.elapsed()),
        peak_rss_mib()
    );
    store.ping().await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1..4) {
        Some([mode, file, count]) if mode == "compare" => compare(file, count.parse()?).await,
        Some([mode, file, count]) if mode == "concurrent" => concurrent(file, count.parse()?).await,
        _ => anyhow::bail!("usage: photo_bench compare FILE RUNS | photo_bench concurrent FILE N"),
    }
}
