//! The middleware every request passes once, as one service: control characters refused in the
//! path and query, the latency histogram by route, the problem document of an error, and
//! `Connection: close` when the body was left unread.
//! Written as one `tower` service rather than three `from_fn` layers, which would each clone
//! and box the inner stack on every request.

use super::metrics::{UNMATCHED, record_request};
use super::{control_chars, problem, unread_body};
use axum::extract::{MatchedPath, Request};
use axum::response::{IntoResponse, Response};
use futures::future::{BoxFuture, Either};
use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};

#[derive(Debug, Clone, Copy, Default)]
pub struct EdgeLayer;

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Edge { inner }
    }
}

#[derive(Debug, Clone)]
pub struct Edge<S> {
    inner: S,
}

impl<S> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let route = request.extensions().get::<MatchedPath>().cloned();
        let method = request.method().clone();
        let origin = problem::Origin::of(&request);
        let (request, body_read) = unread_body::track(request);
        let answer = match control_chars::refused_in_uri(request.uri()) {
            Some(refusal) => Either::Left(std::future::ready(Ok(refusal.into_response()))),
            None => Either::Right(self.inner.call(request)),
        };
        Box::pin(async move {
            let mut response = problem::render(origin, answer.await?).await;
            unread_body::close_if_unread(&body_read, &mut response);
            let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
            record_request(route, &method, response.status().as_u16(), started.elapsed());
            Ok(response)
        })
    }
}
