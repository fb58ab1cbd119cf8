//! The client address of a request: the TCP peer, or, only when the peer is a configured
//! trusted reverse proxy, the address that proxy put into its header (`X-Forwarded-For`).
//! A client that talks to the server directly can write any header it likes, so the header
//! is believed only from the proxies named in the configuration.

use std::net::IpAddr;

use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;

/// Which peers are trusted reverse proxies, and the header they set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAddresses {
    header: Option<HeaderName>,
    proxies: Vec<IpNet>,
}

/// A trusted proxy entry that is neither an address nor a CIDR range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or range like 10.0.0.0/8")]
pub struct BadProxy(pub String);

impl ClientAddresses {
    /// Believes `header` from peers in `proxies` (addresses like `127.0.0.1` or ranges like
    /// `10.0.0.0/8`, `fd00::/8`); no header: always the peer.
    ///
    /// # Errors
    /// An entry of `proxies` is not an address or range.
    pub fn new(header: Option<HeaderName>, proxies: &[String]) -> Result<Self, BadProxy> {
        let proxies = proxies
            .iter()
            .map(|p| {
                let p = p.trim();
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| BadProxy(p.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(ClientAddresses { header, proxies })
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.proxies.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: from the header when `peer` is a trusted proxy (the right-most
    /// entry that is not itself a trusted proxy: entries further left were written by the
    /// client), else `peer`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let Some(name) = &self.header else {
            return peer;
        };
        if !self.trusted(peer) {
            return peer;
        }
        let mut hops: Vec<IpAddr> = Vec::new();
        for value in headers.get_all(name) {
            let Ok(value) = value.to_str() else {
                return peer;
            };
            for part in value.split(',') {
                match parse_hop(part) {
                    Some(ip) => hops.push(ip),
                    None => return peer,
                }
            }
        }
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            client = hop;
            if !self.trusted(hop) {
                break;
            }
        }
        canonical(client)
    }
}

/// One entry of `X-Forwarded-For`: an address, possibly `[v6]:port` or `v4:port`.
fn parse_hop(part: &str) -> Option<IpAddr> {
    let part = part.trim();
    if let Ok(ip) = part.parse() {
        return Some(ip);
    }
    if let Ok(socket) = part.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    part.strip_prefix('[')
        .and_then(|p| p.strip_suffix(']'))
        .and_then(|p| p.parse().ok())
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let c = ClientAddresses::new(
            Some(HeaderName::from_static("x-forwarded-for")),
            &["10.0.0.0/8".into(), "192.0.2.9".into()],
        )
        .unwrap();
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "198.51.100.4".parse().unwrap();
        let h = headers("203.0.113.1, 203.0.113.7");
        assert_eq!(
            c.client(proxy, &h),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            c.client(stranger, &h),
            stranger,
            "not a proxy: header ignored"
        );
        // The client's own entries left of a trusted hop are skipped past only up to the
        // first untrusted one.
        let h = headers("6.6.6.6, 203.0.113.7, 192.0.2.9");
        assert_eq!(
            c.client(proxy, &h),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(c.client(proxy, &headers("garbage")), proxy);
        assert_eq!(
            c.client(proxy, &headers("[2001:db8::1]:4711")),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn without_a_header_the_peer_is_the_client_and_bad_ranges_are_refused() {
        let c = ClientAddresses::new(None, &["127.0.0.1".into()]).unwrap();
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(c.client(peer, &headers("203.0.113.1")), peer);
        assert_eq!(
            ClientAddresses::new(None, &["intranet".into()]),
            Err(BadProxy("intranet".into()))
        );
    }
}
