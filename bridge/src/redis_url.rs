//! `--redis`: where Redis listens, whether over TLS, as which ACL user the
//! bridge logs in itself, and which database its connections use.
//!
//! Accepted: `redis://[user[:password]@]host[:port][/db]`, `rediss://...`
//! (the same over TLS), `unix:/path/redis.sock[?db=N]`, and the bare
//! `host:port` of earlier versions (as `redis://host:port`). User and
//! password are percent-decoded; without a user, the password is the
//! `default` user's. Anything else is refused at start: a URL the bridge
//! half understands would send browsers to the wrong place or in clear.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::tokens::Credentials;

/// The port of `redis://` and `rediss://` URLs without one.
const DEFAULT_PORT: u16 = 6379;

/// Where Redis listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A host name or IP address (IPv6 without brackets), resolved at each
    /// connect, and a port.
    Tcp { host: String, port: u16 },
    /// A Unix socket.
    Unix(PathBuf),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Endpoint::Tcp { host, port } => write!(f, "{host}:{port}"),
            Endpoint::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// A parsed `--redis` value.
#[derive(Debug, Clone)]
pub struct RedisUrl {
    pub endpoint: Endpoint,
    /// `rediss://`: TLS towards Redis.
    pub tls: bool,
    /// The bridge's own ACL user, from the URL.
    pub login: Option<Credentials>,
    /// The database every connection SELECTs, if not 0.
    pub db: Option<u32>,
}

impl FromStr for RedisUrl {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        if let Some(rest) = value.strip_prefix("unix:") {
            return unix(rest);
        }
        let (tls, rest) = match value.split_once("://") {
            Some(("redis", rest)) => (false, rest),
            Some(("rediss", rest)) => (true, rest),
            Some((scheme, _)) => {
                return Err(format!(
                    "unknown scheme {scheme}://: expected redis://, rediss:// or unix:/path"
                ))
            }
            // The bare `host:port` of earlier versions: a port, and nothing more.
            None if !value.contains(['@', '/']) && value.rsplit_once(':').is_some() => {
                (false, value)
            }
            None => {
                return Err(
                    "expected redis://host:port, rediss://..., host:port or unix:/path".into(),
                )
            }
        };
        tcp(rest, tls)
    }
}

/// `[user[:password]@]host[:port][/db]`; an IPv6 host in brackets.
fn tcp(rest: &str, tls: bool) -> Result<RedisUrl, String> {
    let (authority, db) = match rest.split_once('/') {
        Some((authority, "")) => (authority, None),
        Some((authority, db)) => (authority, Some(parse_db(db)?)),
        None => (rest, None),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, authority),
    };
    let (host, port) = match hostport.strip_prefix('[') {
        Some(bracketed) => bracketed
            .split_once(']')
            .ok_or_else(|| format!("bad host {hostport:?}: an unclosed ["))?,
        None => hostport.split_at(hostport.find(':').unwrap_or(hostport.len())),
    };
    let port = match port {
        "" => DEFAULT_PORT,
        port => port
            .strip_prefix(':')
            .and_then(|port| port.parse().ok())
            .ok_or_else(|| format!("bad port in {hostport:?}"))?,
    };
    if host.is_empty() || host.contains(['/', '?', '#', '@', '[', ']']) {
        return Err(format!("bad host {host:?}"));
    }
    Ok(RedisUrl {
        endpoint: Endpoint::Tcp {
            host: host.to_owned(),
            port,
        },
        tls,
        login: userinfo.map(login).transpose()?,
        db,
    })
}

/// `/path[?db=N]`.
fn unix(rest: &str) -> Result<RedisUrl, String> {
    let (path, db) = match rest.split_once('?') {
        Some((path, query)) => {
            let db = query
                .strip_prefix("db=")
                .ok_or_else(|| format!("unknown option {query:?}: unix: takes only ?db=N"))?;
            (path, Some(parse_db(db)?))
        }
        None => (rest, None),
    };
    if path.is_empty() {
        return Err("unix: needs a socket path, e.g. unix:/run/redis.sock".into());
    }
    Ok(RedisUrl {
        endpoint: Endpoint::Unix(path.into()),
        tls: false,
        login: None,
        db,
    })
}

fn parse_db(db: &str) -> Result<u32, String> {
    db.parse()
        .map_err(|_| format!("bad database {db:?}: expected a number, as in redis://host:6379/2"))
}

/// `user:password`, `:password` (the default user) or `user` (no password).
fn login(userinfo: &str) -> Result<Credentials, String> {
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let user = percent_decode(user)?;
    let password = percent_decode(password)?;
    let user = if user.is_empty() {
        "default".into()
    } else {
        user
    };
    Ok(Credentials::new(user, password))
}

/// Decodes `%XX` escapes (a password with `@` or `:` in it).
fn percent_decode(text: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = tail.get(..2).and_then(|hex| std::str::from_utf8(hex).ok());
            let decoded = hex.and_then(|hex| u8::from_str_radix(hex, 16).ok());
            bytes.push(decoded.ok_or("a bad %-escape in the user or password")?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).map_err(|_| "the user or password is not UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp_endpoint(host: &str, port: u16) -> Endpoint {
        Endpoint::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn parses_every_form() {
        let url: RedisUrl = "rediss://bridge:p%40ss%3Aword@redis.example.com:6380/2"
            .parse()
            .unwrap();
        assert_eq!(url.endpoint, tcp_endpoint("redis.example.com", 6380));
        assert!(url.tls);
        let login = url.login.unwrap();
        assert_eq!(
            (login.user.as_str(), login.password()),
            ("bridge", "p@ss:word")
        );
        assert_eq!(url.db, Some(2));

        let url: RedisUrl = "redis://:secret@[::1]".parse().unwrap();
        assert_eq!(url.endpoint, tcp_endpoint("::1", DEFAULT_PORT));
        assert_eq!(url.endpoint.to_string(), "[::1]:6379");
        assert!(!url.tls);
        assert_eq!(url.login.unwrap().user, "default");

        for (bare, host, port) in [
            ("127.0.0.1:6379", "127.0.0.1", 6379),
            ("[::1]:7000", "::1", 7000),
        ] {
            let url: RedisUrl = bare.parse().unwrap();
            assert_eq!(url.endpoint, tcp_endpoint(host, port), "{bare}");
            assert!(!url.tls && url.login.is_none() && url.db.is_none());
        }

        let url: RedisUrl = "unix:/run/redis.sock?db=3".parse().unwrap();
        assert_eq!(url.endpoint, Endpoint::Unix("/run/redis.sock".into()));
        assert_eq!(url.db, Some(3));
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        for bad in [
            "redis",
            "redis:",
            ":6379",
            "unix:",
            "host:99999",
            "http://host:6379",
            "redis://",
            "redis://host:port",
            "redis://host/db",
            "redis://host/1/2",
            "unix:/run/redis.sock?user=x",
            "redis://u:%zz@host",
        ] {
            assert!(bad.parse::<RedisUrl>().is_err(), "{bad}");
        }
    }
}
