//! The client's address for rate limiting: the socket peer, or, when the deployment says
//! trusted proxies sit in front, the rightmost `X-Forwarded-For` hop that is not one of them.
//!
//! Each proxy appends the address it received the request from, so only the entries added by
//! our own proxies can be believed; everything left of the first untrusted hop was written by
//! the client, who could put any address there.

use crate::config::HttpConfig;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// Whose `X-Forwarded-For` entries are believed: nobody's (the default), or the listed proxies'.
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    ranges: Option<Arc<[IpNet]>>,
}

impl TrustedProxies {
    /// The configured proxies when `trust_forwarded_for` is on; nobody otherwise.
    pub fn from_config(http: &HttpConfig) -> Result<Self, String> {
        if !http.trust_forwarded_for {
            return Ok(Self::none());
        }
        Ok(Self::of(Self::parse(&http.trusted_proxies)?))
    }

    /// Addresses and CIDR ranges, as configured.
    fn parse(entries: &[String]) -> Result<Vec<IpNet>, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{entry}` is neither an address nor a CIDR range"))
            })
            .collect()
    }

    /// `X-Forwarded-For` is ignored: the socket peer is the client.
    fn none() -> Self {
        Self { ranges: None }
    }

    fn of(ranges: Vec<IpNet>) -> Self {
        Self { ranges: Some(ranges.into()) }
    }

    fn contains(ranges: &[IpNet], ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ranges.iter().any(|range| range.contains(&ip))
    }

    /// The client behind `peer`: the rightmost forwarded hop not in the trusted ranges. A
    /// peer that is not a trusted proxy is the client itself, whatever it wrote; when every
    /// hop is trusted, the leftmost is the best we know; an unreadable hop ends the walk at the
    /// trusted proxy that passed it on.
    fn client(&self, peer: IpAddr, forwarded: &[&str]) -> IpAddr {
        let Some(ranges) = &self.ranges else { return peer };
        if !Self::contains(ranges, peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded.iter().rev().flat_map(|header| header.rsplit(',')) {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else { return client };
            client = ip;
            if !Self::contains(ranges, ip) {
                break;
            }
        }
        client
    }
}

impl<S> FromRequestParts<S> for ClientIp
where
    TrustedProxies: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        let forwarded: Vec<&str> =
            parts.headers.get_all("x-forwarded-for").iter().filter_map(|value| value.to_str().ok()).collect();
        Ok(Self(TrustedProxies::from_ref(state).client(peer, &forwarded)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(entries: &[&str]) -> TrustedProxies {
        let entries: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        TrustedProxies::of(TrustedProxies::parse(&entries).expect("ranges"))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "127.0.0.1"]);
        let peer = ip("10.1.1.1");
        assert_eq!(trusted.client(peer, &["6.6.6.6, 203.0.113.7"]), ip("203.0.113.7"));
        assert_eq!(trusted.client(peer, &["6.6.6.6", "203.0.113.7, 10.2.2.2"]), ip("203.0.113.7"));
        assert_eq!(trusted.client(peer, &["10.3.3.3, 10.2.2.2"]), ip("10.3.3.3"));
        assert_eq!(trusted.client(peer, &[]), peer);
        assert_eq!(trusted.client(peer, &["203.0.113.7, garbage, 10.2.2.2"]), ip("10.2.2.2"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = proxies(&["10.0.0.0/8"]);
        assert_eq!(trusted.client(ip("198.51.100.9"), &["10.0.0.1"]), ip("198.51.100.9"));
        assert_eq!(TrustedProxies::none().client(ip("10.0.0.1"), &["203.0.113.7"]), ip("10.0.0.1"));
    }

    #[test]
    fn mapped_addresses_match_their_ipv4_range() {
        let trusted = proxies(&["127.0.0.0/8"]);
        assert_eq!(trusted.client(ip("::ffff:127.0.0.1"), &["203.0.113.7"]), ip("203.0.113.7"));
    }

    #[test]
    fn bad_entries_are_refused() {
        assert!(TrustedProxies::parse(&["10.0.0.0/33".to_owned()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.internal".to_owned()]).is_err());
    }
}
