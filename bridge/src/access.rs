//! Who may open a WebSocket: the checks on the handshake's headers, in the
//! order the server applies them.
//!
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
//! 2. `Origin` (403), against cross-site pages: allowed when absent (not a
//!    browser), listed in `--allow-origin` (exact), or the bridge's own,
//!    `http://<Host>` or `https://<Host>` (a page it served itself, directly
//!    or through a TLS-terminating proxy).
//! 3. The token (401), with `--tokens`. The browser WebSocket API cannot set
//!    headers, so the token travels as a subprotocol value,
//!    `redis-wasm.token.<base64url of the token, unpadded>`, offered next to
//!    the plain `redis-wasm`; the bridge answers `Sec-WebSocket-Protocol:
//!    redis-wasm`, and so never echoes the token. A token in the query
//!    string is ignored on purpose: URLs end up in logs and histories.
//!
//! A [`Refusal`] is shown to the client and logged, so it never holds a token.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use base64::Engine;

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
    /// The port a `Host` without one means: 443 over TLS, 80 otherwise.
    default_port: u16,
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
    /// The `Host` header names a host the bridge does not serve (or is absent).
    Host(String),
    /// The `Origin` header names a page that is neither allowed nor our own.
    Origin(String),
    /// No valid token was presented.
    Token(&'static str),
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::Host(_) | Refusal::Origin(_) => StatusCode::FORBIDDEN,
            Refusal::Token(_) => StatusCode::UNAUTHORIZED,
        }
    }

    /// The metrics label.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Host(_) => "host",
            Refusal::Origin(_) => "origin",
            Refusal::Token(_) => "token",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Host(host) => write!(f, "host not served: {host:?}"),
            Refusal::Origin(origin) => write!(f, "origin not allowed: {origin:?}"),
            Refusal::Token(why) => f.write_str(why),
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
            default_port: if tls { 443 } else { 80 },
        }
    }

    pub fn tokens(&self) -> Option<&Arc<Tokens>> {
        self.tokens.as_ref()
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
                host_port.unwrap_or(self.default_port) == *port
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
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = String::from_utf8_lossy(origin.as_bytes());
        let own = headers.get(header::HOST).is_some_and(|host| {
            let host = host.as_bytes();
            ["http://", "https://"].iter().any(|scheme| {
                origin
                    .strip_prefix(scheme)
                    .is_some_and(|rest| rest.as_bytes().eq_ignore_ascii_case(host))
            })
        });
        if own || self.origins.iter().any(|allowed| *allowed == origin) {
            Ok(())
        } else {
            Err(Refusal::Origin(origin.into_owned()))
        }
    }

    /// Check 3: the token among the offered subprotocols. Returns the user
    /// to log in as, or `None` when the bridge does not use tokens.
    pub fn check_token<'a>(
        &self,
        mut protocols: impl Iterator<Item = &'a HeaderValue>,
    ) -> Result<Option<Credentials>, Refusal> {
        let Some(tokens) = &self.tokens else {
            return Ok(None);
        };
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

    #[test]
    fn own_and_listed_origins() {
        let access = Access::new(&[], vec!["http://app.example".into()], 7379, false, None);
        let check = |origin: &str| {
            access
                .check_origin(&headers(&[
                    (header::HOST, "127.0.0.1:7379"),
                    (header::ORIGIN, origin),
                ]))
                .is_ok()
        };
        assert!(check("http://127.0.0.1:7379"));
        assert!(check("https://127.0.0.1:7379"));
        assert!(check("http://app.example"));
        assert!(!check("http://app.example/"));
        assert!(!check("http://127.0.0.1:7380"));
        assert!(!check("null"));
    }
}
