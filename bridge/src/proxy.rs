//! Who a request comes from, behind reverse proxies.
//!
//! Without `--trusted-proxy` the client is the TCP peer. A request that
//! carries forwarding headers (`Forwarded`, `X-Forwarded-For`,
//! `X-Forwarded-Proto`, `X-Forwarded-Host`, `X-Real-IP`) from a peer that is
//! not a trusted proxy is refused: either the bridge is behind a proxy
//! nobody declared, and may be reachable from anywhere, or a client is trying
//! to pass for someone else.
//!
//! From a trusted proxy (`--trusted-proxy CIDR`, repeatable) the client is
//! the rightmost hop of `Forwarded` (RFC 7239) or `X-Forwarded-For` that is
//! not itself a trusted proxy: hops further left were written by whoever
//! sent the request to that hop, and may be anything. Whether the client
//! reached the proxy over TLS is that hop's `proto` in `Forwarded`, or the
//! entry of `X-Forwarded-Proto` at the same place from the right (a single
//! value, as nginx's `proxy_set_header X-Forwarded-Proto $scheme` sets it,
//! serves a single proxy). A trusted proxy must set these headers itself,
//! not pass on a client's. When both headers are present they must name the
//! same client, and both must say TLS for the bridge to take it as TLS.
//! Anything that cannot be read, or a client hop that is `unknown` or
//! obfuscated, is refused: the bridge cannot tell whom to count it against.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use axum::http::{HeaderMap, HeaderName};

/// Headers that say a proxy forwarded the request.
const FORWARDING: [&str; 5] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-real-ip",
];

/// An address block, `10.0.0.0/8` or `fd00::/8`; a bare address is one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let (addr, prefix) = value.split_once('/').unwrap_or((value, ""));
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("{value:?}: expected an address or address/prefix"))?;
        let network = network.to_canonical();
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            "" => bits,
            prefix => prefix
                .parse()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| format!("{value:?}: the prefix is 0 to {bits}"))?,
        };
        let cidr = Cidr { network, prefix };
        if cidr.mask(network) != network {
            return Err(format!("{value:?}: address bits set past the prefix"));
        }
        Ok(cidr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.network.is_ipv4() && self.mask(ip) == self.network
    }

    fn mask(&self, ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V4(ip) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(ip) & mask))
            }
            IpAddr::V6(ip) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(ip) & mask))
            }
        }
    }
}

/// Where a request comes from, as far as the bridge can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// The client's address: the TCP peer, or the hop a trusted proxy named.
    pub addr: IpAddr,
    /// Whether a trusted proxy forwarded the request.
    pub proxied: bool,
    /// Whether that proxy says the client reached it over TLS.
    pub forwarded_tls: bool,
}

/// Why the forwarding headers of a request were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Forwarding headers from a peer that is not a trusted proxy.
    Untrusted(&'static str),
    /// A header that does not read, or names no usable client hop.
    Malformed(&'static str),
    /// `Forwarded` and `X-Forwarded-For` name different clients.
    Conflict,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Untrusted(header) => write!(
                f,
                "{header} header from a peer that is not a --trusted-proxy"
            ),
            Refused::Malformed(why) => write!(f, "forwarding headers: {why}"),
            Refused::Conflict => f.write_str("Forwarded and X-Forwarded-For disagree"),
        }
    }
}

/// The `--trusted-proxy` blocks.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    pub fn new(blocks: Vec<Cidr>) -> Self {
        TrustedProxies(blocks)
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(ip))
    }

    /// Who sent a request that came from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> Result<Client, Refused> {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            if let Some(header) = FORWARDING.iter().find(|name| headers.contains_key(**name)) {
                return Err(Refused::Untrusted(header));
            }
            return Ok(Client {
                addr: peer,
                proxied: false,
                forwarded_tls: false,
            });
        }
        let forwarded = joined(headers, "forwarded")?
            .map(|value| self.forwarded_hop(&value))
            .transpose()?;
        let xff = joined(headers, "x-forwarded-for")?
            .map(|value| self.x_forwarded_hop(&value, headers))
            .transpose()?;
        let (addr, forwarded_tls) = match (forwarded, xff) {
            (Some((one, one_tls)), Some((other, other_tls))) if one == other => {
                (one, one_tls && other_tls)
            }
            (Some(_), Some(_)) => return Err(Refused::Conflict),
            (Some(hop), None) | (None, Some(hop)) => hop,
            // A trusted proxy that names nobody: the proxy itself is the client.
            (None, None) => (peer, false),
        };
        Ok(Client {
            addr,
            proxied: true,
            forwarded_tls,
        })
    }

    /// The client hop of a `Forwarded` value, and whether it used TLS.
    fn forwarded_hop(&self, value: &str) -> Result<(IpAddr, bool), Refused> {
        let mut hops = Vec::new();
        for element in value.split(',') {
            let (mut node, mut tls) = (None, false);
            for pair in element.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                let (key, value) = pair
                    .split_once('=')
                    .ok_or(Refused::Malformed("a Forwarded pair without ="))?;
                let value = unquote(value)?;
                match key.to_ascii_lowercase().as_str() {
                    "for" => node = Some(value),
                    "proto" => tls = value.eq_ignore_ascii_case("https"),
                    _ => {}
                }
            }
            let node = node.ok_or(Refused::Malformed("a Forwarded element without for="))?;
            hops.push((node, tls));
        }
        let nodes: Vec<&str> = hops.iter().map(|(node, _)| *node).collect();
        let (addr, at) = self.client_hop(&nodes)?;
        Ok((addr, hops[at].1))
    }

    /// The client hop of an `X-Forwarded-For` value, and whether
    /// `X-Forwarded-Proto` says it used TLS.
    fn x_forwarded_hop(&self, value: &str, headers: &HeaderMap) -> Result<(IpAddr, bool), Refused> {
        let nodes: Vec<&str> = value.split(',').map(str::trim).collect();
        let (addr, at) = self.client_hop(&nodes)?;
        let from_right = nodes.len() - 1 - at;
        let protos = joined(headers, "x-forwarded-proto")?.unwrap_or_default();
        let protos: Vec<&str> = protos.split(',').map(str::trim).collect();
        let tls = protos
            .len()
            .checked_sub(1 + from_right)
            .is_some_and(|at| protos[at].eq_ignore_ascii_case("https"));
        Ok((addr, tls))
    }

    /// The address and place of the rightmost hop that is not a trusted
    /// proxy (the leftmost if all are).
    fn client_hop(&self, nodes: &[&str]) -> Result<(IpAddr, usize), Refused> {
        for (at, node) in nodes.iter().enumerate().rev() {
            let addr = node_address(node)?;
            if at == 0 || !self.trusts(addr) {
                return Ok((addr, at));
            }
        }
        Err(Refused::Malformed("no hop"))
    }
}

/// Every value of a header, joined with commas as HTTP allows; `None` if absent.
fn joined(headers: &HeaderMap, name: &'static str) -> Result<Option<String>, Refused> {
    let name = HeaderName::from_static(name);
    let mut values = headers.get_all(&name).iter().peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    let values = values
        .map(|value| value.to_str().map_err(|_| Refused::Malformed("not text")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(values.join(",")))
}

/// A `Forwarded` value without its quotes, if it has them.
fn unquote(value: &str) -> Result<&str, Refused> {
    let value = value.trim();
    match value.strip_prefix('"') {
        Some(rest) => rest
            .strip_suffix('"')
            .filter(|inner| !inner.contains(['"', '\\']))
            .ok_or(Refused::Malformed("a quoted Forwarded value")),
        None => Ok(value),
    }
}

/// The address of a hop: `192.0.2.1`, `192.0.2.1:443`, `[2001:db8::1]`,
/// `[2001:db8::1]:443` or `2001:db8::1`; `unknown` and obfuscated names
/// (`_hidden`) tell nothing, and are refused.
fn node_address(node: &str) -> Result<IpAddr, Refused> {
    let bad = Refused::Malformed("a hop that is not an IP address");
    if let Ok(addr) = node.parse::<IpAddr>() {
        return Ok(addr.to_canonical());
    }
    if let Ok(addr) = node.parse::<SocketAddr>() {
        return Ok(addr.ip().to_canonical());
    }
    let inner = node
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .filter(|(_, port)| port.is_empty() || port.starts_with(':'))
        .ok_or(bad.clone())?
        .0;
    inner
        .parse::<Ipv6Addr>()
        .map(|addr| IpAddr::V6(addr).to_canonical())
        .map_err(|_| bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(blocks: &[&str]) -> TrustedProxies {
        TrustedProxies::new(blocks.iter().map(|b| b.parse().unwrap()).collect())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn cidrs() {
        let block: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains(ip("10.1.2.3")));
        assert!(block.contains(ip("::ffff:10.1.2.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        let one: Cidr = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")) && !all.contains(ip("::1")));
        for bad in ["10.1.0.1/16", "10.0.0.0/33", "::/129", "nope", "10.0.0.0/x"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn untrusted_peers_are_themselves_and_may_not_forward() {
        let trusted = proxies(&["127.0.0.2"]);
        let client = trusted.client(ip("127.0.0.3"), &HeaderMap::new()).unwrap();
        assert_eq!((client.addr, client.proxied), (ip("127.0.0.3"), false));
        for name in FORWARDING {
            let refused = trusted.client(ip("127.0.0.3"), &headers(&[(name, "192.0.2.1")]));
            assert_eq!(refused, Err(Refused::Untrusted(name)));
        }
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let trusted = proxies(&["127.0.0.2", "10.0.0.0/8"]);
        let client = |pairs| trusted.client(ip("127.0.0.2"), &headers(pairs));
        // A client that sent its own X-Forwarded-For gets nowhere with it.
        let got = client(&[("x-forwarded-for", "6.6.6.6, 192.0.2.1, 10.0.0.7")]).unwrap();
        assert_eq!(
            (got.addr, got.proxied, got.forwarded_tls),
            (ip("192.0.2.1"), true, false)
        );
        let got = client(&[
            (
                "forwarded",
                "for=6.6.6.6;proto=https, for=\"[2001:db8::1]:4711\";proto=https",
            ),
            ("forwarded", "for=10.0.0.7;proto=http"),
        ])
        .unwrap();
        assert_eq!((got.addr, got.forwarded_tls), (ip("2001:db8::1"), true));
        // All trusted: the leftmost.
        assert_eq!(
            client(&[("x-forwarded-for", "10.0.0.1,10.0.0.2")])
                .unwrap()
                .addr,
            ip("10.0.0.1")
        );
        // No header: the proxy itself.
        assert_eq!(client(&[]).unwrap().addr, ip("127.0.0.2"));
    }

    #[test]
    fn x_forwarded_proto_lines_up_from_the_right() {
        let trusted = proxies(&["127.0.0.2", "10.0.0.0/8"]);
        let tls = |xff: &str, proto: &str| {
            let pairs = [("x-forwarded-for", xff), ("x-forwarded-proto", proto)];
            trusted
                .client(ip("127.0.0.2"), &headers(&pairs))
                .unwrap()
                .forwarded_tls
        };
        assert!(tls("192.0.2.1", "https"));
        assert!(tls("6.6.6.6, 192.0.2.1", "HTTPS"));
        assert!(!tls("192.0.2.1", "http"));
        assert!(tls("192.0.2.1, 10.0.0.7", "https, http"));
        assert!(!tls("192.0.2.1, 10.0.0.7", "http, https"));
        // The proxy replaced the list: it speaks for its own hop only.
        assert!(!tls("192.0.2.1, 10.0.0.7", "https"));
    }

    #[test]
    fn what_cannot_be_read_is_refused() {
        let trusted = proxies(&["127.0.0.2"]);
        for pairs in [
            &[("x-forwarded-for", "unknown")][..],
            &[("x-forwarded-for", "192.0.2.1, _hidden")],
            &[("forwarded", "for=unknown")],
            &[("forwarded", "proto=https")],
            &[("forwarded", "for")],
            &[("forwarded", "for=\"192.0.2.1")],
            &[("x-forwarded-for", "")],
        ] {
            let refused = trusted.client(ip("127.0.0.2"), &headers(pairs));
            assert!(
                matches!(refused, Err(Refused::Malformed(_))),
                "{pairs:?}: {refused:?}"
            );
        }
        let both = [
            ("forwarded", "for=192.0.2.1"),
            ("x-forwarded-for", "192.0.2.2"),
        ];
        assert_eq!(
            trusted.client(ip("127.0.0.2"), &headers(&both)),
            Err(Refused::Conflict)
        );
        let agree = [
            ("forwarded", "for=192.0.2.1"),
            ("x-forwarded-for", "192.0.2.1"),
        ];
        assert!(trusted.client(ip("127.0.0.2"), &headers(&agree)).is_ok());
    }
}
