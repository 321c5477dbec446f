//! The client's address for rate limiting: the socket peer, or the first `X-Forwarded-For`
//! hop when the deployment says a trusted proxy sits in front.

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// Whether a trusted proxy in front of the deployment sets `X-Forwarded-For`.
#[derive(Debug, Clone, Copy)]
pub struct TrustForwardedFor(pub bool);

impl<S> FromRequestParts<S> for ClientIp
where
    TrustForwardedFor: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if TrustForwardedFor::from_ref(state).0 {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(',').next())
                .and_then(|first| first.trim().parse::<IpAddr>().ok());
            if let Some(ip) = forwarded {
                return Ok(Self(ip));
            }
        }
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
        Ok(Self(peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}
