//! The HTTP transport under async-openai: each answer is read here, never past
//! `vision.max_response_bytes`, before async-openai parses it. async-openai itself would read
//! any answer whole, so an endpoint (or whatever answers in its place) could make the host hold
//! gigabytes.

use crate::outbound::{ReadError, read_capped};
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An answer past the limit: an unreadable answer, never a verdict.
#[derive(Debug, thiserror::Error)]
#[error("the vision answer is larger than {0} bytes")]
pub struct AnswerTooLarge(pub usize);

#[derive(Clone)]
pub struct CappedTransport {
    http: reqwest_openai::Client,
    max_bytes: usize,
}

impl CappedTransport {
    pub fn new(max_bytes: usize) -> Self {
        Self { http: reqwest_openai::Client::new(), max_bytes }
    }
}

impl tower::Service<HttpRequestFactory> for CappedTransport {
    type Response = reqwest_openai::Response;
    type Error = OpenAIError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Self::Future {
        let (http, max_bytes) = (self.http.clone(), self.max_bytes);
        Box::pin(async move {
            let request = factory.build().await?;
            let response = http.execute(request).await.map_err(OpenAIError::Reqwest)?;
            let (status, version, headers) =
                (response.status(), response.version(), response.headers().clone());
            let body = match read_capped(response, max_bytes, "vision").await {
                Ok(body) => body,
                Err(ReadError::TooLarge(limit)) => {
                    return Err(OpenAIError::Boxed(Box::new(AnswerTooLarge(limit))));
                }
                Err(ReadError::Transport(message)) => {
                    return Err(OpenAIError::Boxed(Box::new(std::io::Error::other(message))));
                }
            };
            // async-openai reads the answer from a response again: one over the bytes read.
            let mut whole = axum::http::Response::new(bytes::Bytes::from(body));
            *whole.status_mut() = status;
            *whole.version_mut() = version;
            *whole.headers_mut() = headers;
            Ok(reqwest_openai::Response::from(whole))
        })
    }
}
