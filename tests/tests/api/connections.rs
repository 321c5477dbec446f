//! Connections are bounded in time and number: clients that trickle their headers are
//! disconnected after the header-read timeout, connections that say nothing (never, or no more
//! after an answer) after the idle timeout, while everyone else is served; past the connection
//! cap new connections wait for a free slot instead of exhausting the server's file
//! descriptors. Storage plays no part, so one mode suffices.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;
use weatherwise_tests::{Mode, TestApp};

const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(2);
const IDLE_TIMEOUT: Duration = Duration::from_secs(3);
/// Timers fire a little after their deadline, and the server's clock starts a little after ours.
const SLACK: Duration = Duration::from_millis(500);
/// Past this, a connection was not closed by the timeout under test.
const CLOSED_BY: Duration = Duration::from_secs(10);
/// Far beyond any timeout under test: a connection still open then was never closed.
const GIVE_UP: Duration = Duration::from_secs(20);
const TRICKLERS: usize = 300;
const SILENT: usize = 100;

/// Opens a connection (and, if `after_a_request`, has one request answered on it first), then
/// sends a request's headers one line every 500 ms, forever. Returns how long the server kept
/// the connection open from the first trickled line, or `None` if it had not closed it by
/// [`GIVE_UP`].
async fn trickle_headers(
    address: SocketAddr,
    after_a_request: bool,
    connected: tokio::sync::mpsc::Sender<()>,
) -> Option<Duration> {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    let mut buffer = [0u8; 512];
    if after_a_request {
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: weatherwise\r\n\r\n").await.expect("request");
        let read = stream.read(&mut buffer).await.expect("answer");
        assert!(buffer[..read].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buffer[..read]));
    }
    let started = Instant::now();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: weatherwise\r\n").await.expect("first line");
    let _ = connected.send(()).await;
    while started.elapsed() < GIVE_UP {
        tokio::select! {
            read = stream.read(&mut buffer) => match read {
                // The server may say 408 before it closes; the close is what counts.
                Ok(n) if n > 0 => continue,
                _ => return Some(started.elapsed()),
            },
            () = tokio::time::sleep(Duration::from_millis(500)) => {
                if stream.write_all(b"X-Trickle: still here\r\n").await.is_err() {
                    return Some(started.elapsed());
                }
            }
        }
    }
    None
}

/// How long `stream` stays open without sending anything, or `None` past [`GIVE_UP`].
async fn open_for(mut stream: TcpStream, since: Instant) -> Option<Duration> {
    let mut buffer = [0u8; 512];
    loop {
        match tokio::time::timeout_at(since + GIVE_UP, stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(n)) if n > 0 => continue,
            Ok(_) => return Some(since.elapsed()),
        }
    }
}

/// A client that keeps no connection between requests, so each request is a new connection.
fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(0).timeout(GIVE_UP).build().expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_silent_connections_are_closed_while_others_are_served() {
    let app = TestApp::spawn_with(Mode::Embedded, |config| {
        config.http.header_read_timeout_secs = HEADER_READ_TIMEOUT.as_secs();
        config.http.idle_timeout_secs = IDLE_TIMEOUT.as_secs();
    })
    .await;

    let (connected_tx, mut connected_rx) = tokio::sync::mpsc::channel(TRICKLERS);
    let mut tricklers = JoinSet::new();
    for n in 0..TRICKLERS {
        // Some trickle the second request of a kept-alive connection: each request has its own
        // header deadline.
        tricklers.spawn(trickle_headers(app.address, n % 10 == 0, connected_tx.clone()));
    }
    let mut silent = JoinSet::new();
    for _ in 0..SILENT {
        let stream = TcpStream::connect(app.address).await.expect("connect");
        silent.spawn(open_for(stream, Instant::now()));
    }
    // A connection that made one request and then keeps quiet.
    let mut kept_alive = TcpStream::connect(app.address).await.expect("connect");
    kept_alive.write_all(b"GET /healthz HTTP/1.1\r\nHost: weatherwise\r\n\r\n").await.expect("request");
    let mut answer = [0u8; 1024];
    let read = kept_alive.read(&mut answer).await.expect("answer");
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer[..read]));
    let kept_alive = tokio::spawn(open_for(kept_alive, Instant::now()));
    for _ in 0..TRICKLERS {
        connected_rx.recv().await.expect("every trickler connects");
    }

    // Everyone else is served meanwhile, each on a connection of its own.
    let client = fresh_client();
    for _ in 0..20 {
        let health = client.get(app.url("/healthz")).send().await.expect("a normal request is answered");
        assert_eq!(health.status(), 200);
    }

    // Trickled headers are cut off by the header timeout, though bytes keep coming ...
    while let Some(open) = tricklers.join_next().await {
        let open = open.expect("trickler").expect("a trickling connection is closed");
        assert!(open + SLACK >= HEADER_READ_TIMEOUT, "closed after {open:?}, before the header timeout");
        assert!(open <= CLOSED_BY, "closed only after {open:?}");
    }
    // ... and connections where nothing happens by the idle timeout.
    while let Some(open) = silent.join_next().await {
        let open = open.expect("silent").expect("a silent connection is closed");
        assert!(open + SLACK >= IDLE_TIMEOUT, "closed after {open:?}, before the idle timeout");
        assert!(open <= CLOSED_BY, "closed only after {open:?}");
    }
    let open = kept_alive.await.expect("kept alive").expect("an unused kept-alive connection is closed");
    assert!(open + SLACK >= IDLE_TIMEOUT, "closed after {open:?}, before the idle timeout");
    assert!(open <= CLOSED_BY, "closed only after {open:?}");

    let health = fresh_client().get(app.url("/healthz")).send().await.expect("request");
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_wait_for_a_free_slot() {
    const CAP: usize = 20;
    let app = TestApp::spawn_with(Mode::Embedded, |config| {
        config.http.max_connections = CAP;
        config.http.idle_timeout_secs = IDLE_TIMEOUT.as_secs();
    })
    .await;
    // Every slot taken by a connection that says nothing.
    let held_since = Instant::now();
    let mut held = Vec::new();
    for _ in 0..CAP {
        held.push(TcpStream::connect(app.address).await.expect("connect"));
    }

    // The next connection is taken only once the idle timeout has freed a slot, and is then
    // served normally.
    let health = fresh_client().get(app.url("/healthz")).send().await.expect("answered once a slot is free");
    let waited = held_since.elapsed();
    assert_eq!(health.status(), 200);
    assert!(waited + SLACK >= IDLE_TIMEOUT, "answered after {waited:?}, while every slot was taken");
    for stream in held {
        assert!(open_for(stream, held_since).await.is_some(), "a held connection is closed in time");
    }
}
