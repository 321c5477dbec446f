//! One bounded GET for every weather provider: a deadline (the client's timeout) and a size
//! cap, so a slow or endless answer costs at most those.

use crate::outbound::{ReadError, read_capped};
use url::Url;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Transport(String),
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
}

/// An HTTP client with the providers' deadline; redirects are not followed (a weather API
/// that redirects is misconfigured, and following would leave the configured host).
pub fn client(timeout: std::time::Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("weatherwise/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// The status and at most `max_bytes` of body.
pub async fn get(http: &reqwest::Client, url: Url, max_bytes: usize) -> Result<(u16, Vec<u8>), FetchError> {
    let response = http.get(url).send().await.map_err(|err| {
        let kind = if err.is_timeout() { "timed out" } else { "failed" };
        FetchError::Transport(format!("request {kind}: {}", err.without_url()))
    })?;
    let status = response.status().as_u16();
    let body = read_capped(response, max_bytes, "weather").await.map_err(|err| match err {
        ReadError::TooLarge(limit) => FetchError::TooLarge(limit),
        ReadError::Transport(message) => FetchError::Transport(message),
    })?;
    Ok((status, body))
}
