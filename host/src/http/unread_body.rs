//! An answer given before the request's body was read to its end says `Connection: close`.
//!
//! The server does not read a body the handler left (an upload refused from its path or its
//! headers, a body over the limit), so it drops the connection after answering. A client that
//! is not told would send its next request down that connection and meet a broken pipe.

use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use axum::response::Response;
use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the request's body has been read to its end.
pub struct BodyRead(Option<Arc<AtomicBool>>);

/// Wraps a request that has a body so the end of its reading is seen.
pub fn track(request: Request) -> (Request, BodyRead) {
    let has_body = request.headers().contains_key(TRANSFER_ENCODING)
        || request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|length| length != "0");
    if !has_body {
        return (request, BodyRead(None));
    }
    let finished = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let end = finished.clone();
    let tracked = body.into_data_stream().chain(futures::stream::poll_fn(move |_| {
        end.store(true, Ordering::Release);
        std::task::Poll::Ready(None)
    }));
    (Request::from_parts(parts, Body::from_stream(tracked)), BodyRead(Some(finished)))
}

/// Adds `Connection: close` to the answer of a request whose body was left unread.
pub fn close_if_unread(read: &BodyRead, response: &mut Response) {
    if read.0.as_ref().is_some_and(|finished| !finished.load(Ordering::Acquire)) {
        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
}
