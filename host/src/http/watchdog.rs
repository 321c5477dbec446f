//! The time limits of one connection, kept by wrapping its socket: a [`Watchdog`] fails the
//! socket with `TimedOut` (and hyper closes the connection) when
//!
//! - a request's headers are still incomplete `header_read_timeout` after its first byte
//!   arrived (a client trickling its headers), or
//! - no request is in progress and no byte has moved either way for `idle_timeout` (a kept-alive
//!   connection nobody uses, one that never sends anything, an answer the client stopped
//!   reading).
//!
//! A request in progress may keep the socket quiet (a handler waiting on the database); the
//! request timeout bounds that instead. Hyper tells us where requests begin and end only
//! through the service it calls, so the service counts them in [`Requests`].

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The requests of one connection: how many began (their headers were complete) and how many
/// are being handled.
#[derive(Debug, Clone, Default)]
pub struct Requests(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    begun: AtomicUsize,
    in_progress: AtomicUsize,
}

impl Requests {
    /// Counts a request as in progress until the returned guard drops (answered or abandoned).
    pub fn begin(&self) -> RequestGuard {
        self.0.begun.fetch_add(1, Ordering::Relaxed);
        self.0.in_progress.fetch_add(1, Ordering::Relaxed);
        RequestGuard(self.0.clone())
    }

    fn begun(&self) -> usize {
        self.0.begun.load(Ordering::Relaxed)
    }

    fn any_in_progress(&self) -> bool {
        self.0.in_progress.load(Ordering::Relaxed) > 0
    }
}

pub struct RequestGuard(Arc<Counts>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.in_progress.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub header_read: Duration,
    pub idle: Duration,
}

/// A socket that fails once a request's headers take too long or the connection sits idle.
pub struct Watchdog<IO> {
    io: IO,
    timeouts: Timeouts,
    requests: Requests,
    last_moved: Instant,
    /// When the first byte of a request still being read arrived, with the number of requests
    /// begun then: once that number grows, its headers are complete.
    headers_since: Option<(Instant, usize)>,
    // Moved earlier when a request's headers start; otherwise re-armed only when it fires,
    // rather than on every read and write.
    alarm: Pin<Box<Sleep>>,
}

impl<IO> Watchdog<IO> {
    pub fn new(io: IO, timeouts: Timeouts, requests: Requests) -> Self {
        let now = Instant::now();
        let alarm = Box::pin(tokio::time::sleep_until(now + timeouts.idle));
        Self { io, timeouts, requests, last_moved: now, headers_since: None, alarm }
    }

    /// When the headers still being read started arriving, if any are.
    fn headers_pending_since(&mut self) -> Option<Instant> {
        if self.headers_since.is_some_and(|(_, begun)| self.requests.begun() > begun) {
            self.headers_since = None;
        }
        self.headers_since.map(|(since, _)| since)
    }

    fn received(&mut self) {
        let now = Instant::now();
        self.last_moved = now;
        if self.headers_pending_since().is_none() && !self.requests.any_in_progress() {
            self.headers_since = Some((now, self.requests.begun()));
            let headers_due = now + self.timeouts.header_read;
            if headers_due < self.alarm.deadline() {
                self.alarm.as_mut().reset(headers_due);
            }
        }
    }

    fn sent(&mut self) {
        self.last_moved = Instant::now();
    }

    /// Called when the socket has nothing for now: `Ready(Err)` once a limit has passed.
    fn poll_limits<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        while self.alarm.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            if self.requests.any_in_progress() {
                self.last_moved = now;
            }
            let idle_due = self.last_moved + self.timeouts.idle;
            let headers_due = self.headers_pending_since().map(|since| since + self.timeouts.header_read);
            if headers_due.is_some_and(|due| due <= now) {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "request headers too slow")));
            }
            if idle_due <= now {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "connection idle")));
            }
            self.alarm.as_mut().reset(headers_due.map_or(idle_due, |due| due.min(idle_due)));
        }
        Poll::Pending
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watchdog<IO> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    this.received();
                }
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_limits(cx),
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watchdog<IO> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, data) {
            Poll::Ready(result) => {
                if matches!(result, Ok(written) if written > 0) {
                    this.sent();
                }
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_limits(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write_vectored(cx, data) {
            Poll::Ready(result) => {
                if matches!(result, Ok(written) if written > 0) {
                    this.sent();
                }
                Poll::Ready(result)
            }
            Poll::Pending => this.poll_limits(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_flush(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => this.poll_limits(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

    const TIMEOUTS: Timeouts =
        Timeouts { header_read: Duration::from_millis(200), idle: Duration::from_millis(300) };

    /// Reads until the watchdog fails the socket; the error and how long that took.
    async fn read_until_failed(watched: &mut Watchdog<DuplexStream>) -> (io::Error, Duration) {
        let started = Instant::now();
        let mut buffer = [0u8; 64];
        loop {
            if let Err(err) = watched.read(&mut buffer).await {
                return (err, started.elapsed());
            }
        }
    }

    #[tokio::test]
    async fn a_request_in_progress_keeps_a_quiet_connection_open() {
        let (socket, _client) = tokio::io::duplex(64);
        let requests = Requests::default();
        let mut watched = Watchdog::new(socket, TIMEOUTS, requests.clone());
        let handling = requests.begin();
        let mut byte = [0u8; 1];
        let quiet = tokio::time::timeout(TIMEOUTS.idle * 3, watched.read(&mut byte)).await;
        assert!(quiet.is_err(), "closed while a request was in progress");
        drop(handling);
        let (err, after) = read_until_failed(&mut watched).await;
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(after <= TIMEOUTS.idle * 4, "idle only after {after:?}");
    }

    #[tokio::test]
    async fn each_request_has_its_own_header_deadline() {
        let (socket, mut client) = tokio::io::duplex(1024);
        let requests = Requests::default();
        let mut watched = Watchdog::new(socket, TIMEOUTS, requests.clone());
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.expect("first request");
        let mut buffer = [0u8; 64];
        let _ = watched.read(&mut buffer).await.expect("first request read");
        // Its headers were complete, and it was answered.
        drop(requests.begin());
        // The next one trickles: bytes keep moving, so only its header deadline can end it.
        let trickle = async {
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if client.write_all(b"X-Trickle: 1\r\n").await.is_err() {
                    return;
                }
            }
        };
        let outcome = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::select! {
                failed = read_until_failed(&mut watched) => Some(failed),
                () = trickle => None,
            }
        })
        .await;
        let (err, after) = outcome.expect("the trickled headers are cut off").expect("the socket failed");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(after <= TIMEOUTS.header_read * 5, "cut off only after {after:?}");
    }
}
