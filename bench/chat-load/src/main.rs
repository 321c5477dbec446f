//! Open-loop load on STOMP-over-WebSocket chat rooms, for WeatherWise's `/ws` or RabbitMQ's
//! Web-STOMP under identical load.
//!
//! Per room: `--subscribers` connections subscribed to it and one sender connection sending
//! `--rate` messages a second on a fixed schedule, whatever the server's pace. Each body carries
//! the time the message was due, so a latency includes any queueing behind a slow server; a
//! sender that could not keep to its schedule shows as `send_lag`. After `--warmup-seconds`
//! unmeasured, `--seconds` are measured; then the subscribers have up to 3 s to receive the rest.
//! Prints one JSON line.
//!
//! `--idle N` instead opens N connected, subscribed connections, prints `{"ready":true,…}` and
//! holds them until killed, so a script can read the server's memory before and after.

mod stomp;

use clap::{Parser, ValueEnum};
use futures::{StreamExt, stream};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use stomp::{Conn, Reader, Result};
use tokio::sync::watch;
use tokio::time::Instant;
use weatherwise_stomp::{Command, Frame};

/// How long subscribers may still receive once sending has stopped.
const DRAIN: Duration = Duration::from_secs(3);
/// Connections opened at once while setting up.
const OPEN_AT_ONCE: usize = 32;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
pub enum Target {
    Weatherwise,
    Rabbitmq,
}

#[derive(Parser, Debug)]
#[command(about = "Open-loop load on STOMP-over-WebSocket chat rooms")]
pub struct Args {
    #[arg(long, value_enum)]
    target: Target,
    /// e.g. ws://127.0.0.1:8080/ws or ws://127.0.0.1:15674/ws; several (comma-separated) spread
    /// the connections over instances of one deployment.
    #[arg(long, value_delimiter = ',', required = true)]
    url: Vec<String>,
    #[arg(long, default_value_t = 10)]
    rooms: usize,
    /// Subscriber connections per room.
    #[arg(long, default_value_t = 20)]
    subscribers: usize,
    /// Messages a second per room.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long, default_value_t = 2)]
    warmup_seconds: u64,
    /// WeatherWise: the access token every connection presents.
    #[arg(long)]
    token: Option<String>,
    /// WeatherWise: the room ids, at least `--rooms` of them.
    #[arg(long, value_delimiter = ',')]
    room_ids: Vec<String>,
    /// The name the results carry; the target's by default.
    #[arg(long)]
    label: Option<String>,
    /// Open this many idle subscribed connections and hold them.
    #[arg(long)]
    idle: Option<usize>,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Weatherwise => "weatherwise",
            Target::Rabbitmq => "rabbitmq",
        }
    }
}

impl Args {
    fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(self.target.name())
    }

    fn destination(&self, room: usize) -> String {
        match self.target {
            Target::Weatherwise => format!("/topic/rooms/{}", self.room_ids[room]),
            Target::Rabbitmq => format!("/topic/bench-room-{room}"),
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Arc::new(Args::parse());
    if args.target == Target::Weatherwise && (args.token.is_none() || args.room_ids.len() < args.rooms) {
        eprintln!("--target weatherwise needs --token and at least --rooms --room-ids");
        std::process::exit(2);
    }
    let outcome = match args.idle {
        Some(count) => idle(args, count).await,
        None => load(args).await,
    };
    if let Err(err) = outcome {
        eprintln!("chat-load: {err}");
        std::process::exit(1);
    }
}

async fn idle(args: Arc<Args>, count: usize) -> Result<()> {
    let held = open_subscribers(&args, count).await?;
    println!("{}", json!({ "target": args.label(), "idle": held.len(), "ready": true }));
    // Until the process is killed.
    std::future::pending::<()>().await;
    drop(held);
    Ok(())
}

/// `count` connections, each subscribed to room `i % rooms`, subscriptions confirmed.
async fn open_subscribers(args: &Arc<Args>, count: usize) -> Result<Vec<(usize, Conn)>> {
    stream::iter(0..count)
        .map(|i| {
            let args = args.clone();
            async move {
                let room = i % args.rooms;
                // The k-th subscriber of a room on instance k % n.
                let mut conn = Conn::open(&args, i / args.rooms).await?;
                conn.subscribe(&args.destination(room)).await?;
                Ok((room, conn))
            }
        })
        .buffer_unordered(OPEN_AT_ONCE)
        .collect::<Vec<Result<_>>>()
        .await
        .into_iter()
        .collect()
}

/// What a message body says: which run, room and message, whether it is measured, when it was due.
struct Stamp {
    room: usize,
    seq: u64,
    measured: bool,
    due_us: u64,
}

fn stamp_text(run: u64, stamp: &Stamp) -> String {
    let phase = if stamp.measured { 'm' } else { 'w' };
    format!("{run} {} {} {phase} {}", stamp.room, stamp.seq, stamp.due_us)
}

/// The stamp of a message of this run; `None` for anything else (such as history from earlier runs).
fn parse_stamp(run: u64, text: &str) -> Option<Stamp> {
    let mut words = text.split(' ');
    if words.next()?.parse::<u64>().ok()? != run {
        return None;
    }
    let room = words.next()?.parse().ok()?;
    let seq = words.next()?.parse().ok()?;
    let measured = words.next()? == "m";
    let due_us = words.next()?.parse().ok()?;
    Some(Stamp { room, seq, measured, due_us })
}

/// The text a MESSAGE frame carries: WeatherWise wraps it in JSON, RabbitMQ passes it through.
fn message_text(target: Target, frame: &Frame) -> Option<String> {
    match target {
        Target::Weatherwise => {
            let body: Value = serde_json::from_slice(&frame.body).ok()?;
            Some(body.get("text")?.as_str()?.to_owned())
        }
        Target::Rabbitmq => String::from_utf8(frame.body.to_vec()).ok(),
    }
}

/// Microseconds on a clock every task of this process shares.
fn now_us(origin: Instant) -> u64 {
    origin.elapsed().as_micros() as u64
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

fn ms(us: u64) -> f64 {
    (us as f64 / 10.0).round() / 100.0
}

struct SenderReport {
    sent: u64,
    /// How far behind its schedule each measured message left.
    lag: Histogram<u64>,
    error: Option<String>,
}

struct SubscriberReport {
    latency: Histogram<u64>,
    delivered: u64,
    duplicates: u64,
    error: Option<String>,
}

async fn load(args: Arc<Args>) -> Result<()> {
    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64;
    let origin = Instant::now();
    let subscribers = open_subscribers(&args, args.rooms * args.subscribers).await?;
    let mut senders = Vec::with_capacity(args.rooms);
    for room in 0..args.rooms {
        // Room r's sender on instance r % n: with two instances half of each room's
        // deliveries cross from one instance to the other.
        senders.push(Conn::open(&args, room).await?);
    }

    let delivered = Arc::new(AtomicU64::new(0));
    let (stop, stopped) = watch::channel(false);
    let mut receiving = Vec::new();
    for (room, conn) in subscribers {
        let (args, delivered, stopped) = (args.clone(), delivered.clone(), stopped.clone());
        let (_, reader) = conn.split();
        receiving.push(tokio::spawn(receive(args, run, origin, room, reader, delivered, stopped)));
    }

    let start = Instant::now() + Duration::from_millis(200);
    let mut sending = Vec::new();
    for (room, conn) in senders.into_iter().enumerate() {
        // Rooms start a fraction of an interval apart, so their sends do not all fall together.
        let offset = Duration::from_secs_f64(room as f64 / args.rooms as f64 / args.rate);
        sending.push(tokio::spawn(send(args.clone(), run, origin, room, conn, start + offset)));
    }
    let mut sent = 0;
    let mut lag = histogram();
    let mut errors = Vec::new();
    for task in sending {
        let report = task.await?;
        sent += report.sent;
        lag.add(&report.lag)?;
        errors.extend(report.error);
    }

    let expected = sent * args.subscribers as u64;
    let drain_until = Instant::now() + DRAIN;
    while delivered.load(Ordering::Relaxed) < expected && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send_replace(true);

    let mut latency = histogram();
    let (mut delivered, mut duplicates) = (0, 0);
    for task in receiving {
        let report = task.await?;
        latency.add(&report.latency)?;
        delivered += report.delivered;
        duplicates += report.duplicates;
        errors.extend(report.error);
    }
    for err in errors.iter().take(5) {
        eprintln!("chat-load: connection error: {err}");
    }
    let quantile =
        |q: f64| if latency.is_empty() { Value::Null } else { json!(ms(latency.value_at_quantile(q))) };
    println!(
        "{}",
        json!({
            "target": args.label(),
            "rooms": args.rooms,
            "subscribers": args.subscribers,
            "rate": args.rate,
            "seconds": args.seconds,
            "sent": sent,
            "expected": expected,
            "delivered": delivered,
            "lost": expected.saturating_sub(delivered),
            "duplicates": duplicates,
            "delivered_per_sec": (delivered as f64 / args.seconds as f64).round(),
            "p50_ms": quantile(0.5),
            "p99_ms": quantile(0.99),
            "max_ms": if latency.is_empty() { Value::Null } else { json!(ms(latency.max())) },
            "send_lag_p99_ms": ms(lag.value_at_quantile(0.99)),
            "send_lag_max_ms": ms(lag.max()),
            "connection_errors": errors.len(),
        })
    );
    Ok(())
}

/// Sends on schedule: message `k` is due `k / rate` seconds after `start`, and is stamped with
/// that time rather than the time it actually left, so a sender held up by the server counts.
async fn send(
    args: Arc<Args>,
    run: u64,
    origin: Instant,
    room: usize,
    conn: Conn,
    start: Instant,
) -> SenderReport {
    let (mut writer, mut reader) = conn.split();
    // The server only writes to a sender to refuse something; say what.
    let refusal = tokio::spawn(async move {
        loop {
            match reader.next_frame().await {
                Ok(frame) if frame.command == Command::Error => return Some(stomp::error_text(&frame)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    });
    let destination = args.destination(room);
    let warmup = (args.warmup_seconds as f64 * args.rate).round() as u64;
    let total = warmup + (args.seconds as f64 * args.rate).round() as u64;
    let mut report = SenderReport { sent: 0, lag: histogram(), error: None };
    for seq in 0..total {
        let due = start + Duration::from_secs_f64(seq as f64 / args.rate);
        tokio::time::sleep_until(due).await;
        let measured = seq >= warmup;
        let stamp = Stamp { room, seq, measured, due_us: due.duration_since(origin).as_micros() as u64 };
        let frame = Frame::new(Command::Send)
            .with_header("destination", destination.as_str())
            .with_header("content-type", "text/plain")
            .with_body(stamp_text(run, &stamp).into_bytes());
        if let Err(err) = writer.send(&frame).await {
            report.error = Some(format!("sender of room {room}: {err}"));
            break;
        }
        if measured {
            report.sent += 1;
            report.lag.saturating_record(due.elapsed().as_micros() as u64);
        }
    }
    refusal.abort();
    if let Ok(Some(refused)) = refusal.await {
        report.error = Some(format!("sender of room {room}: {refused}"));
    }
    report
}

async fn receive(
    args: Arc<Args>,
    run: u64,
    origin: Instant,
    room: usize,
    mut reader: Reader,
    delivered: Arc<AtomicU64>,
    mut stopped: watch::Receiver<bool>,
) -> SubscriberReport {
    let mut report = SubscriberReport { latency: histogram(), delivered: 0, duplicates: 0, error: None };
    let mut seen: Vec<bool> = Vec::new();
    loop {
        let frame = tokio::select! {
            frame = reader.next_frame() => frame,
            _ = stopped.wait_for(|stop| *stop) => break,
        };
        let frame = match frame {
            Ok(frame) if frame.command == Command::Message => frame,
            Ok(frame) if frame.command == Command::Error => {
                report.error = Some(format!("subscriber of room {room}: {}", stomp::error_text(&frame)));
                break;
            }
            Ok(_) => continue,
            Err(err) => {
                report.error = Some(format!("subscriber of room {room}: {err}"));
                break;
            }
        };
        let received_us = now_us(origin);
        let Some(stamp) = message_text(args.target, &frame).and_then(|text| parse_stamp(run, &text)) else {
            continue;
        };
        if stamp.room != room || !stamp.measured {
            continue;
        }
        let seq = stamp.seq as usize;
        if seen.len() <= seq {
            seen.resize(seq + 1, false);
        }
        if seen[seq] {
            report.duplicates += 1;
            continue;
        }
        seen[seq] = true;
        report.delivered += 1;
        delivered.fetch_add(1, Ordering::Relaxed);
        report.latency.saturating_record(received_us.saturating_sub(stamp.due_us));
    }
    report
}
