//! Who may open a WebSocket: the checks on the handshake's headers, in the
//! order the server applies them.
//!
//! 0. Who sends it (400, 403): the TCP peer, or the client a trusted proxy
//!    names, and whether that client came over TLS (see `proxy`).
//!    Forwarding headers from anyone else are refused.
//! 1. `Host` (403), against DNS rebinding: a page on `evil.example` whose
//!    name is made to resolve to the bridge's address sends
//!    `Host: evil.example`, which the bridge does not serve. With
//!    `--allow-host` only the listed values pass (exact, case-insensitive,
//!    as browsers send them: `name:port`, or `name` for port 80/443).
//!    Without it, `localhost:<port>` and any IP literal with the listen port
//!    pass (`127.0.0.1:<port>`, `[::1]:<port>`, the listen address itself): a
//!    rebinding attack needs a DNS name, so an IP literal cannot be one.
//!    The same check guards the static files; the health probes skip it, so
//!    that they need not know the public name.
//! 2. `Origin` (403), against cross-site pages: allowed when listed in
//!    `--allow-origin` (exact), or the bridge's own: `<scheme>://<Host>`,
//!    with the scheme the page was actually served with (`https` when the
//!    bridge serves TLS or a trusted proxy says the client used TLS, `http`
//!    otherwise). An absent `Origin` (a client that is not a browser, such as
//!    Node or Deno) is allowed only with `--tokens`, where the token decides;
//!    without tokens nothing would tell such a client from any other.
//! 3. The token (401), with `--tokens`. The browser WebSocket API cannot set
//!    headers, so the token travels as a subprotocol value,
//!    `redis-wasm.token.<base64url of the token, unpadded>`, offered next to
//!    the plain `redis-wasm`; the bridge answers `Sec-WebSocket-Protocol:
//!    redis-wasm`, and so never echoes the token. A token in the query
//!    string is ignored on purpose: URLs end up in logs and histories.
//!    Tokens travel only over TLS or on loopback: a handshake from a client
//!    off loopback over plain `ws://` (no TLS at the bridge, and no trusted
//!    proxy saying the client used TLS) is refused (403) before its token is
//!    looked at.
//!
//! A [`Refusal`] is shown to the client and logged, so it never holds a token.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use base64::Engine;

use crate::proxy::{self, Client, TrustedProxies};
use crate::tokens::{Credentials, Tokens};

/// The subprotocol the bridge speaks (RESP in binary frames).
pub const PROTOCOL: &str = "redis-wasm";

/// Prefix of the subprotocol value that carries a token.
pub const TOKEN_PROTOCOL_PREFIX: &str = "redis-wasm.token.";

/// The allow-lists and token table the handshake is checked against.
#[derive(Debug)]
pub struct Access {
    hosts: Hosts,
    origins: Vec<String>,
    tokens: Option<Arc<Tokens>>,
    /// Whether the bridge itself serves TLS.
    tls: bool,
    proxies: TrustedProxies,
}

#[derive(Debug)]
enum Hosts {
    /// `--allow-host` values, lower-cased.
    Listed(Vec<String>),
    /// `localhost` or an IP literal, with this port.
    Local { port: u16 },
}

/// Why a handshake was refused.
#[derive(Debug)]
pub enum Refusal {
    /// Forwarding headers that the bridge does not take.
    Forwarding(proxy::Refused),
    /// The `Host` header names a host the bridge does not serve (or is absent).
    Host(String),
    /// The `Origin` header names a page that is neither allowed nor our own;
    /// the scheme the bridge served, when the origin has the other one.
    Origin(String, Option<&'static str>),
    /// No `Origin` header, and no token to go by.
    NoOrigin,
    /// No valid token was presented.
    Token(&'static str),
    /// A token would travel in clear text to or from off loopback.
    PlainText,
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::Forwarding(proxy::Refused::Untrusted(_)) => StatusCode::FORBIDDEN,
            Refusal::Forwarding(_) => StatusCode::BAD_REQUEST,
            Refusal::Host(_) | Refusal::Origin(..) | Refusal::NoOrigin | Refusal::PlainText => {
                StatusCode::FORBIDDEN
            }
            Refusal::Token(_) => StatusCode::UNAUTHORIZED,
        }
    }

    /// The metrics label.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Forwarding(proxy::Refused::Untrusted(_)) => "forwarded_untrusted",
            Refusal::Forwarding(_) => "forwarded_malformed",
            Refusal::Host(_) => "host",
            Refusal::Origin(..) => "origin",
            Refusal::NoOrigin => "origin_missing",
            Refusal::Token(_) => "token",
            Refusal::PlainText => "token_plain_text",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Forwarding(refused) => refused.fmt(f),
            Refusal::Host(host) => write!(f, "host not served: {host:?}"),
            Refusal::Origin(origin, None) => write!(f, "origin not allowed: {origin:?}"),
            Refusal::Origin(origin, Some(served)) => write!(
                f,
                "origin not allowed: {origin:?} (this request came over {served}; behind a \
                 TLS proxy, give --trusted-proxy and have the proxy set X-Forwarded-Proto)"
            ),
            Refusal::NoOrigin => f.write_str(
                "no Origin header: without --tokens only browser pages of an allowed origin may connect",
            ),
            Refusal::Token(why) => f.write_str(why),
            Refusal::PlainText => f.write_str(
                "tokens travel only over TLS or on loopback: connect with wss://",
            ),
        }
    }
}

impl Access {
    /// `allow_hosts` empty means the local default for `port` (see the module
    /// doc); `tokens` `None` means no token is asked for.
    pub fn new(
        allow_hosts: &[String],
        allow_origins: Vec<String>,
        port: u16,
        tls: bool,
        tokens: Option<Arc<Tokens>>,
    ) -> Self {
        let hosts = if allow_hosts.is_empty() {
            Hosts::Local { port }
        } else {
            Hosts::Listed(allow_hosts.iter().map(|h| h.to_ascii_lowercase()).collect())
        };
        Access {
            hosts,
            origins: allow_origins,
            tokens,
            tls,
            proxies: TrustedProxies::default(),
        }
    }

    /// Takes client addresses and TLS from what these proxies forward.
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.proxies
    }

    pub fn tokens(&self) -> Option<&Arc<Tokens>> {
        self.tokens.as_ref()
    }

    /// Check 0: who sent a request that came from `peer`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> Result<Client, Refusal> {
        self.proxies
            .client(peer, headers)
            .map_err(Refusal::Forwarding)
    }

    /// Check 1: the `Host` header.
    pub fn check_host(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let host = headers
            .get(header::HOST)
            .map(|host| String::from_utf8_lossy(host.as_bytes()).to_ascii_lowercase())
            .unwrap_or_default();
        let served = match &self.hosts {
            Hosts::Listed(hosts) => hosts.contains(&host),
            Hosts::Local { port } => split_host(&host).is_some_and(|(name, host_port)| {
                let default_port = if self.tls { 443 } else { 80 };
                host_port.unwrap_or(default_port) == *port
                    && (name == "localhost" || name.parse::<IpAddr>().is_ok())
            }),
        };
        if served {
            Ok(())
        } else {
            Err(Refusal::Host(host))
        }
    }

    /// Check 2: the `Origin` header, once `Host` passed.
    pub fn check_origin(&self, headers: &HeaderMap, client: &Client) -> Result<(), Refusal> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return match self.tokens {
                Some(_) => Ok(()),
                None => Err(Refusal::NoOrigin),
            };
        };
        let origin = String::from_utf8_lossy(origin.as_bytes());
        if self.origins.iter().any(|allowed| *allowed == origin) {
            return Ok(());
        }
        let served = if self.tls || client.forwarded_tls {
            "https"
        } else {
            "http"
        };
        let own_host = |scheme: &str| {
            let host = headers.get(header::HOST).map(HeaderValue::as_bytes);
            origin
                .strip_prefix(scheme)
                .and_then(|rest| rest.strip_prefix("://"))
                .zip(host)
                .is_some_and(|(rest, host)| rest.as_bytes().eq_ignore_ascii_case(host))
        };
        if own_host(served) {
            return Ok(());
        }
        let other = if served == "https" { "http" } else { "https" };
        let hint = own_host(other).then_some(served);
        Err(Refusal::Origin(origin.into_owned(), hint))
    }

    /// Check 3: the token among the offered subprotocols. Returns the user
    /// to log in as, or `None` when the bridge does not use tokens.
    pub fn check_token<'a>(
        &self,
        mut protocols: impl Iterator<Item = &'a HeaderValue>,
        client: &Client,
    ) -> Result<Option<Credentials>, Refusal> {
        let Some(tokens) = &self.tokens else {
            return Ok(None);
        };
        if !(self.tls || client.forwarded_tls || client.addr.is_loopback()) {
            return Err(Refusal::PlainText);
        }
        let encoded = protocols
            .find_map(|value| {
                value
                    .as_bytes()
                    .strip_prefix(TOKEN_PROTOCOL_PREFIX.as_bytes())
            })
            .ok_or(Refusal::Token("missing token"))?;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| Refusal::Token("malformed token"))?;
        tokens
            .find(&token)
            .map(Some)
            .ok_or(Refusal::Token("unknown token"))
    }
}

/// Whether `host` (`name[:port]`, as in a `Host` header or an origin) names
/// this machine: `localhost`, a name under `.localhost`, or a loopback IP.
pub fn is_local_host(host: &str) -> bool {
    split_host(&host.to_ascii_lowercase()).is_some_and(|(name, _)| {
        name == "localhost"
            || name.ends_with(".localhost")
            || name
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.to_canonical().is_loopback())
    })
}

/// Whether an origin (`scheme://host[:port]`) is a page on this machine.
pub fn is_local_origin(origin: &str) -> bool {
    origin
        .split_once("://")
        .is_some_and(|(_, host)| is_local_host(host))
}

/// Splits `name[:port]` or `[v6]:port`; `None` if the port is not a number
/// or a bracketed name is not an IPv6 address.
fn split_host(host: &str) -> Option<(&str, Option<u16>)> {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (name, rest) = rest.split_once(']')?;
        name.parse::<Ipv6Addr>().ok()?;
        let port = if rest.is_empty() {
            None
        } else {
            Some(rest.strip_prefix(':')?)
        };
        (name, port)
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    let port = match port {
        Some(port) => Some(port.parse().ok()?),
        None => None,
    };
    Some((name, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    fn host_ok(access: &Access, host: &str) -> bool {
        access.check_host(&headers(&[(header::HOST, host)])).is_ok()
    }

    #[test]
    fn local_hosts_by_default() {
        let access = Access::new(&[], Vec::new(), 7379, false, None);
        for host in [
            "127.0.0.1:7379",
            "localhost:7379",
            "LOCALHOST:7379",
            "[::1]:7379",
            "10.1.2.3:7379",
        ] {
            assert!(host_ok(&access, host), "{host}");
        }
        for host in [
            "evil.example:7379",
            "127.0.0.1:80",
            "127.0.0.1",
            "[::1]",
            "[zz]:7379",
            "[::1]x",
            "",
            "localhost:x",
        ] {
            assert!(!host_ok(&access, host), "{host}");
        }
        assert!(access.check_host(&HeaderMap::new()).is_err());

        let on_443 = Access::new(&[], Vec::new(), 443, true, None);
        assert!(host_ok(&on_443, "127.0.0.1"));
        assert!(host_ok(&on_443, "[::1]"));
    }

    #[test]
    fn listed_hosts_only() {
        let access = Access::new(&["Bridge.example".into()], Vec::new(), 7379, true, None);
        assert!(host_ok(&access, "bridge.example"));
        assert!(!host_ok(&access, "bridge.example:7379"));
        assert!(!host_ok(&access, "127.0.0.1:7379"));
    }

    fn client(forwarded_tls: bool) -> Client {
        Client {
            addr: [127, 0, 0, 1].into(),
            proxied: forwarded_tls,
            forwarded_tls,
        }
    }

    #[test]
    fn own_origin_with_the_scheme_served_and_listed_origins() {
        let check = |access: &Access, origin: &str, forwarded_tls: bool| {
            let headers = headers(&[(header::HOST, "127.0.0.1:7379"), (header::ORIGIN, origin)]);
            access.check_origin(&headers, &client(forwarded_tls))
        };
        let plain = Access::new(&[], vec!["http://app.example".into()], 7379, false, None);
        assert!(check(&plain, "http://127.0.0.1:7379", false).is_ok());
        assert!(check(&plain, "HTTP://127.0.0.1:7379", false).is_err());
        let refused = check(&plain, "https://127.0.0.1:7379", false).unwrap_err();
        assert!(refused.to_string().contains("--trusted-proxy"), "{refused}");
        assert!(check(&plain, "https://127.0.0.1:7379", true).is_ok());
        assert!(check(&plain, "http://127.0.0.1:7379", true).is_err());
        assert!(check(&plain, "http://app.example", false).is_ok());
        for other in ["http://app.example/", "http://127.0.0.1:7380", "null"] {
            assert!(check(&plain, other, false).is_err(), "{other}");
        }
        let tls = Access::new(&[], Vec::new(), 7379, true, None);
        assert!(check(&tls, "https://127.0.0.1:7379", false).is_ok());
        assert!(check(&tls, "http://127.0.0.1:7379", false).is_err());
    }

    #[test]
    fn local_hosts_and_origins() {
        for local in [
            "localhost",
            "LOCALHOST:8080",
            "app.localhost:80",
            "127.0.0.1",
            "127.9.9.9:1",
            "[::1]:7379",
        ] {
            assert!(is_local_host(local), "{local}");
        }
        for other in [
            "example.com",
            "localhost.example",
            "10.0.0.1:80",
            "[2001:db8::1]",
            "0.0.0.0:1",
        ] {
            assert!(!is_local_host(other), "{other}");
        }
        assert!(is_local_origin("http://127.0.0.1:8080"));
        assert!(is_local_origin("https://localhost"));
        assert!(!is_local_origin("https://app.example"));
    }
}
