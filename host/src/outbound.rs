//! Answers of the services we call (the vision model, Kakao, the weather providers), read
//! whole but never past a limit: chunk by chunk, stopping at the first byte beyond it, so an
//! oversized or endless answer costs at most the limit in memory and the caller's deadline in
//! time. A declared `Content-Length` beyond the limit is refused before any byte is read.

use bytes::Bytes;
use std::future::Future;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    Transport(String),
}

/// A response whose body arrives in chunks (both reqwest versions in the build: the host's
/// and the one the vision client runs on).
pub trait ChunkedBody: Send {
    fn declared_length(&self) -> Option<u64>;
    fn next_chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, ReadError>> + Send;
}

/// The whole body, or [`ReadError::TooLarge`] as soon as it passes `limit` bytes. `service`
/// labels the `outbound_answers_too_large_total` counter.
pub async fn read_capped(
    mut body: impl ChunkedBody,
    limit: usize,
    service: &'static str,
) -> Result<Vec<u8>, ReadError> {
    let too_large = || {
        metrics::counter!("outbound_answers_too_large_total", "service" => service).increment(1);
        tracing::warn!(service, limit, "an answer was larger than its limit; stopped reading it");
        ReadError::TooLarge(limit)
    };
    if body.declared_length().is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    let mut read = Vec::new();
    while let Some(chunk) = body.next_chunk().await? {
        if read.len() + chunk.len() > limit {
            return Err(too_large());
        }
        read.extend_from_slice(&chunk);
    }
    Ok(read)
}

/// The two reqwest versions in the tree (ours, and the one async-openai is built on) read
/// their bodies the same way.
macro_rules! chunked_reqwest_body {
    ($($response:ty),*) => {
        $(impl ChunkedBody for $response {
            fn declared_length(&self) -> Option<u64> {
                self.content_length()
            }

            async fn next_chunk(&mut self) -> Result<Option<Bytes>, ReadError> {
                self.chunk().await.map_err(|err| {
                    let kind = if err.is_timeout() { "timed out" } else { "failed" };
                    ReadError::Transport(format!("reading the answer {kind}: {}", err.without_url()))
                })
            }
        })*
    };
}

chunked_reqwest_body!(reqwest::Response, reqwest_openai::Response);

#[cfg(test)]
mod tests {
    use super::*;

    /// A body of `chunks` chunks of `size` bytes, made as it is read.
    struct Endless {
        size: usize,
        chunks: usize,
        declared: Option<u64>,
        read: usize,
    }

    impl ChunkedBody for Endless {
        fn declared_length(&self) -> Option<u64> {
            self.declared
        }

        async fn next_chunk(&mut self) -> Result<Option<Bytes>, ReadError> {
            if self.read == self.chunks {
                return Ok(None);
            }
            self.read += 1;
            Ok(Some(Bytes::from(vec![b' '; self.size])))
        }
    }

    #[tokio::test]
    async fn stops_at_the_first_chunk_past_the_limit() {
        let body = Endless { size: 1024, chunks: 1 << 20, declared: None, read: 0 };
        assert_eq!(read_capped(body, 10_000, "test").await, Err(ReadError::TooLarge(10_000)));
        let small = Endless { size: 1000, chunks: 10, declared: None, read: 0 };
        assert_eq!(read_capped(small, 10_000, "test").await.map(|b| b.len()), Ok(10_000));
    }

    #[tokio::test]
    async fn a_declared_length_past_the_limit_is_refused_unread() {
        let body = Endless { size: 1, chunks: 1, declared: Some(1 << 30), read: 0 };
        assert_eq!(read_capped(body, 10_000, "test").await, Err(ReadError::TooLarge(10_000)));
    }
}
