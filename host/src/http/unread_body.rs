//! An answer given before the request's body was read to its end says `Connection: close`.
//!
//! The server does not read a body the handler left (an upload refused from its path or its
//! headers, a body over the limit), so it drops the connection after answering. A client that
//! is not told would send its next request down that connection and meet a broken pipe.

use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub async fn close_if_unread(request: Request, next: Next) -> Response {
    let has_body = request.headers().contains_key(TRANSFER_ENCODING)
        || request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|length| length != "0");
    if !has_body {
        return next.run(request).await;
    }
    let finished = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let end = finished.clone();
    let tracked = body.into_data_stream().chain(futures::stream::poll_fn(move |_| {
        end.store(true, Ordering::Release);
        std::task::Poll::Ready(None)
    }));
    let mut response = next.run(Request::from_parts(parts, Body::from_stream(tracked))).await;
    if !finished.load(Ordering::Acquire) {
        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
