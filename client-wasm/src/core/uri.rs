//! `Connection.fromUri`: what a `ws://` URI says beyond where to connect,
//! and the token encoding of the WebSocket handshake.

/// A URI taken apart: the WebSocket URL to open (credentials and database
/// removed) and what was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionUri {
    pub url: String,
    pub password: Option<String>,
    pub db: Option<u32>,
}

/// Reads `ws[s]://[user:password@]host[:port][/path][/DB][?password=...]`.
/// A last path segment that is a number is the database; a password in the
/// user info or the query is removed from the URL the socket opens.
pub fn parse_uri(uri: &str) -> Result<ConnectionUri, String> {
    let (scheme, rest) = uri
        .split_once("://")
        .filter(|(scheme, _)| matches!(*scheme, "ws" | "wss"))
        .ok_or_else(|| format!("not a ws:// or wss:// URI: {}", redact(uri)))?;
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((userinfo, host)) => (Some(userinfo), host),
        None => (None, authority),
    };
    if host.is_empty() {
        return Err(format!("no host in {}", redact(uri)));
    }
    let mut password = userinfo
        .map(|info| percent_decode(info.split_once(':').map_or(info, |(_, password)| password)));
    let mut kept_query = Vec::new();
    for pair in query
        .into_iter()
        .flat_map(|query| query.split('&'))
        .filter(|pair| !pair.is_empty())
    {
        match pair.split_once('=') {
            Some(("password", value)) => password = Some(percent_decode(value)),
            _ => kept_query.push(pair),
        }
    }
    let mut segments: Vec<&str> = path.split('/').collect();
    let db = match segments.last() {
        Some(last) if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) => {
            let db = last
                .parse()
                .map_err(|_| format!("database number too large in {}", redact(uri)))?;
            segments.pop();
            Some(db)
        }
        _ => None,
    };
    let mut path = segments.join("/");
    if path.is_empty() {
        path.push('/');
    }
    let mut url = format!("{scheme}://{host}{path}");
    if !kept_query.is_empty() {
        url.push('?');
        url.push_str(&kept_query.join("&"));
    }
    Ok(ConnectionUri { url, password, db })
}

/// The URI with any password blanked, for error messages.
fn redact(uri: &str) -> String {
    let without_query = uri.split('?').next().unwrap_or_default();
    match without_query
        .split_once("://")
        .and_then(|(s, rest)| rest.split_once('@').map(|(_, host)| (s, host)))
    {
        Some((scheme, host)) => format!("{scheme}://***@{host}"),
        None => without_query.to_owned(),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|&b| hex(b)),
            bytes.get(i + 2).and_then(|&b| hex(b)),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `Sec-WebSocket-Protocol` value that carries a bridge token:
/// `redis-wasm.token.` and the token's base64url, without padding.
pub fn token_protocol(token: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::from("redis-wasm.token.");
    for chunk in token.as_bytes().chunks(3) {
        let bits = chunk
            .iter()
            .enumerate()
            .fold(0u32, |bits, (i, &b)| bits | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(bits >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str, password: Option<&str>, db: Option<u32>) -> ConnectionUri {
        ConnectionUri {
            url: url.into(),
            password: password.map(Into::into),
            db,
        }
    }

    #[test]
    fn a_numeric_last_segment_is_the_database() {
        assert_eq!(
            parse_uri("ws://127.0.0.1:7379/2"),
            Ok(parsed("ws://127.0.0.1:7379/", None, Some(2)))
        );
        assert_eq!(
            parse_uri("wss://h/bridge/ws/15"),
            Ok(parsed("wss://h/bridge/ws", None, Some(15)))
        );
        assert_eq!(
            parse_uri("ws://h:1/bridge"),
            Ok(parsed("ws://h:1/bridge", None, None))
        );
        assert_eq!(parse_uri("ws://h:1"), Ok(parsed("ws://h:1/", None, None)));
    }

    #[test]
    fn passwords_are_read_and_removed_from_the_url() {
        assert_eq!(
            parse_uri("ws://:s3cret@h:1/0"),
            Ok(parsed("ws://h:1/", Some("s3cret"), Some(0)))
        );
        assert_eq!(
            parse_uri("ws://user:p%40ss@h/"),
            Ok(parsed("ws://h/", Some("p@ss"), None))
        );
        assert_eq!(
            parse_uri("ws://h/3?password=a%20b&x=1"),
            Ok(parsed("ws://h/?x=1", Some("a b"), Some(3)))
        );
    }

    #[test]
    fn other_schemes_and_missing_hosts_are_refused_without_echoing_secrets() {
        assert!(parse_uri("redis://h:6379").is_err());
        let err = parse_uri("ws://:pw@/").unwrap_err();
        assert!(!err.contains("pw"), "{err}");
    }

    #[test]
    fn tokens_are_base64url_without_padding() {
        assert_eq!(token_protocol(""), "redis-wasm.token.");
        assert_eq!(token_protocol("f"), "redis-wasm.token.Zg");
        assert_eq!(token_protocol("fo"), "redis-wasm.token.Zm8");
        assert_eq!(token_protocol("foo"), "redis-wasm.token.Zm9v");
        assert_eq!(token_protocol("\u{ff}\u{fe}?"), "redis-wasm.token.w7_Dvj8");
    }
}
