//! The accept loop. Every connection is bounded: a request's headers must be complete within
//! `header_read_timeout_secs` of their first byte, the connection is closed after
//! `idle_timeout_secs` with nothing happening (see [`super::watchdog`]), and at most
//! `max_connections` are served at once. Past the cap the loop stops accepting, so
//! new connections wait in the kernel's listen backlog (and beyond it are refused by the
//! kernel) instead of taking file descriptors the server needs for its own work.
//!
//! The server speaks HTTP/1.1 only: cleartext HTTP/2 (prior knowledge) multiplexes requests
//! whose frames these limits do not see. Proxies in front reach us over HTTP/1.1.
//!
//! Graceful shutdown: when `shutdown` resolves the listener closes, connections without a
//! request in progress close, and requests in progress are answered before theirs close.

use super::watchdog::{Requests, Timeouts, Watchdog};
use crate::config::HttpConfig;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How long the loop waits after an accept error that is not about one connection (out of
/// file descriptors, say) before accepting again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub timeouts: Timeouts,
    pub max_connections: usize,
}

impl From<&HttpConfig> for ConnectionLimits {
    fn from(config: &HttpConfig) -> Self {
        Self {
            timeouts: Timeouts {
                header_read: Duration::from_secs(config.header_read_timeout_secs.max(1)),
                idle: Duration::from_secs(config.idle_timeout_secs.max(1)),
            },
            max_connections: config.max_connections.max(1),
        }
    }
}

/// A listener on `address` whose kernel queue holds `backlog` connections not yet accepted
/// (tokio's own bind queues 128, which a burst of clients overflows).
pub fn bind(address: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    // A restarted server binds its port again at once, despite connections in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(backlog)
}

/// Serves `router` on `listener` until `shutdown` resolves, then waits for the open
/// connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    // Hyper is given no timer, so its own header timeout stays off: it would also cut
    // kept-alive connections waiting for their next request, which get the idle timeout from
    // the watchdog instead.
    let builder = http1::Builder::new();
    // Connections are watched for shutdown here rather than by hyper-util's `GracefulShutdown`,
    // which cannot watch a connection that may upgrade (a WebSocket): an upgraded connection
    // leaves this loop's care once handed to its handler.
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &slots) => accepted,
        };
        let Some((stream, peer, slot)) = accepted else { continue };
        let requests = Requests::default();
        let io = TokioIo::new(Watchdog::new(stream, limits.timeouts, requests.clone()));
        let service = TowerToHyperService::new(
            router
                .clone()
                .map_request({
                    let requests = requests.clone();
                    move |request: Request<Incoming>| {
                        let mut request = request.map(Body::new);
                        request.extensions_mut().insert(ConnectInfo(peer));
                        // A request that upgrades the connection (a WebSocket) keeps it counted
                        // as in progress for as long as the socket lives.
                        request.extensions_mut().insert(requests.clone());
                        request
                    }
                })
                .map_future(move |response| {
                    let guard = requests.begin();
                    async move {
                        let response = response.await;
                        drop(guard);
                        response
                    }
                }),
        );
        let connection = builder.serve_connection(io, service).with_upgrades();
        let stopping = stopping.clone();
        metrics::gauge!("http_connections_open").increment(1.0);
        connections.spawn(async move {
            tokio::pin!(connection);
            let served = tokio::select! {
                served = connection.as_mut() => served,
                () = stopping.cancelled() => {
                    // Answers the request in progress, if any, then closes.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = served {
                // Timeouts and clients that hang up end here; nothing to act on.
                tracing::debug!(%peer, error = %err, "connection closed with an error");
            }
            metrics::gauge!("http_connections_open").decrement(1.0);
            drop(slot);
        });
    }
    drop(listener);
    stopping.cancel();
    connections.close();
    connections.wait().await;
}

/// Takes a free slot, then the next connection. `None` after an accept error.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> Option<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    // The semaphore is never closed.
    let slot = slots.clone().acquire_owned().await.ok()?;
    match listener.accept().await {
        Ok((stream, peer)) => Some((stream, peer, slot)),
        Err(err) if is_connection_error(&err) => None,
        Err(err) => {
            tracing::error!(error = %err, "accepting a connection failed");
            tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            None
        }
    }
}

/// Errors about the one connection being accepted (it was gone before we took it).
fn is_connection_error(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
