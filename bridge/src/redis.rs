//! How the bridge reaches Redis: one fresh connection per WebSocket, to the
//! one address given by `--redis` (`host:port` or `unix:/path`), never to
//! anything a request names.
//!
//! Connections are not pooled: each browser gets its own Redis connection, so
//! per-connection state (SELECT, MULTI, SUBSCRIBE, CLIENT SETNAME) belongs to
//! that browser alone and ends when its WebSocket ends. With `--tokens` the
//! bridge logs the connection in (`AUTH user password`) and reads the reply
//! before a single browser byte goes through.
//!
//! Besides the relays, the bridge reads the server's command table
//! ([`command_table`], for `policy`) and, in token mode, checks at start
//! that Redis refuses a connection without credentials
//! ([`default_user_refuses`]).

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio::time::timeout;

use crate::policy::table::{Table, TableError};
use crate::tokens::Credentials;

/// Bounds a connect to a Redis that drops packets instead of refusing.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Bounds the wait for the reply to the bridge's own `AUTH`.
const AUTH_TIMEOUT: Duration = Duration::from_secs(5);

/// Bounds the bridge's own short calls (health checks, start-up checks).
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// Bounds reading the command table (about 100 KB).
const TABLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where Redis listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// `host:port`, resolved at each connect.
    Tcp(String),
    /// `unix:/path/to/redis.sock`
    Unix(PathBuf),
}

impl FromStr for Address {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        if let Some(path) = value.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("unix: needs a socket path, e.g. unix:/run/redis.sock".into());
            }
            return Ok(Address::Unix(path.into()));
        }
        match value.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                Ok(Address::Tcp(value.to_owned()))
            }
            _ => Err("expected host:port or unix:/path".into()),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp(addr) => f.write_str(addr),
            Address::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// A connection to Redis, over TCP or a Unix socket.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// Opens a connection to Redis (TCP with Nagle off: RESP commands are small
/// and latency matters more than packet count).
pub async fn connect(addr: &Address) -> io::Result<Box<dyn Stream>> {
    let connect = async {
        Ok::<Box<dyn Stream>, io::Error>(match addr {
            Address::Tcp(addr) => {
                let stream = TcpStream::connect(addr.as_str()).await?;
                stream.set_nodelay(true)?;
                Box::new(stream)
            }
            Address::Unix(path) => Box::new(UnixStream::connect(path).await?),
        })
    };
    timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))?
}

/// Why the bridge could not log in.
#[derive(Debug)]
pub enum AuthError {
    /// Redis answered, but not `+OK` (the reply, e.g. `WRONGPASS ...`).
    Refused(String),
    /// The connection failed or Redis did not answer in time.
    Io(io::Error),
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Refused(reply) => write!(f, "redis answered {reply}"),
            AuthError::Io(error) => error.fmt(f),
        }
    }
}

/// Sends `AUTH user password` and waits for `+OK`.
pub async fn authenticate(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    credentials: &Credentials,
) -> Result<(), AuthError> {
    let mut command = Vec::new();
    resp::encode_command(
        &mut command,
        ["AUTH", credentials.user.as_str(), credentials.password()],
    );
    let exchange = async {
        stream.write_all(&command).await?;
        read_replies(stream, 1).await
    };
    let replies = timeout(AUTH_TIMEOUT, exchange)
        .await
        .map_err(|_| AuthError::Io(io::ErrorKind::TimedOut.into()))?
        .map_err(AuthError::Io)?;
    match &replies[..] {
        [resp::Frame::Simple(ok)] if ok[..] == *b"OK" => Ok(()),
        [reply] => Err(AuthError::Refused(describe(reply))),
        _ => unreachable!("one reply was read"),
    }
}

/// Runs one command on a short-lived connection, logged in as
/// `credentials` when given, and returns its reply.
pub async fn call(
    addr: &Address,
    credentials: Option<&Credentials>,
    args: &[&str],
) -> io::Result<resp::Frame> {
    let exchange = async {
        let mut stream = connect(addr).await?;
        if let Some(credentials) = credentials {
            authenticate(&mut stream, credentials)
                .await
                .map_err(|error| io::Error::other(error.to_string()))?;
        }
        let mut command = Vec::new();
        resp::encode_command(&mut command, args);
        stream.write_all(&command).await?;
        Ok(read_replies(&mut stream, 1).await?.remove(0))
    };
    timeout(CALL_TIMEOUT, exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "redis did not answer in time"))?
}

/// Returns whether Redis answers `PING` with `+PONG` on a short-lived
/// connection, logged in as `credentials` when given.
pub async fn ping(addr: &Address, credentials: Option<&Credentials>) -> bool {
    match call(addr, credentials, &["PING"]).await {
        Ok(resp::Frame::Simple(pong)) if pong[..] == *b"PONG" => true,
        Ok(reply) => {
            tracing::debug!(reply = describe(&reply), "redis ping failed");
            false
        }
        Err(error) => {
            tracing::debug!(%error, "redis ping failed");
            false
        }
    }
}

/// Why the command table could not be read.
#[derive(Debug)]
pub enum TableReadError {
    /// Redis answered with an error (`NOPERM ...` for a user without
    /// `COMMAND INFO`).
    Refused(String),
    /// The reply is not a command table.
    Invalid(TableError),
    Io(io::Error),
}

impl fmt::Display for TableReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableReadError::Refused(reply) => write!(f, "redis answered {reply}"),
            TableReadError::Invalid(error) => error.fmt(f),
            TableReadError::Io(error) => error.fmt(f),
        }
    }
}

/// Sends `COMMAND INFO` on a connection of the bridge's own (nothing may
/// follow on it: replies are read in large chunks) and reads the table.
pub async fn command_table(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
) -> Result<Table, TableReadError> {
    let exchange = async {
        stream
            .write_all(b"*2\r\n$7\r\nCOMMAND\r\n$4\r\nINFO\r\n")
            .await?;
        let mut decoder = resp::Decoder::new();
        loop {
            match decoder.decode() {
                Ok(Some(frame)) => return Ok(frame),
                Ok(None) => {
                    if stream.read_buf(decoder.buffer_mut()).await? == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
                Err(error) => return Err(io::Error::new(io::ErrorKind::InvalidData, error)),
            }
        }
    };
    let reply = timeout(TABLE_TIMEOUT, exchange)
        .await
        .map_err(|_| TableReadError::Io(io::ErrorKind::TimedOut.into()))?
        .map_err(TableReadError::Io)?;
    if reply.is_error() {
        return Err(TableReadError::Refused(describe(&reply)));
    }
    Table::from_reply(&reply).map_err(TableReadError::Invalid)
}

/// Whether Redis refuses a fresh connection that sends no credentials
/// (`PING` answered `-NOAUTH`: the default user is off or has a password);
/// otherwise the reply it gave.
pub async fn default_user_refuses(addr: &Address) -> io::Result<Result<(), String>> {
    let check = async {
        let mut stream = connect(addr).await?;
        stream.write_all(b"*1\r\n$4\r\nPING\r\n").await?;
        read_replies(&mut stream, 1).await
    };
    let replies = timeout(AUTH_TIMEOUT, check)
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
    Ok(match &replies[..] {
        [resp::Frame::Error(text)] if text.starts_with(b"NOAUTH") => Ok(()),
        [reply] => Err(describe(reply)),
        _ => unreachable!("one reply was read"),
    })
}

/// Reads exactly `count` replies, and not a byte more than they take: the
/// bytes after them belong to the relay. Replies to the bridge's own short
/// commands arrive a few bytes at a time, so reading byte-wise costs little.
async fn read_replies(
    stream: &mut (impl AsyncRead + Unpin),
    count: usize,
) -> io::Result<Vec<resp::Frame>> {
    let mut decoder = resp::Decoder::new();
    let mut replies = Vec::with_capacity(count);
    let mut byte = [0u8; 1];
    while replies.len() < count {
        match decoder.decode() {
            Ok(Some(frame)) => replies.push(frame),
            Ok(None) => {
                if stream.read(&mut byte).await? == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                decoder.feed(&byte);
            }
            Err(error) => return Err(io::Error::new(io::ErrorKind::InvalidData, error)),
        }
    }
    Ok(replies)
}

/// A reply for logs: status and error text as is (Redis puts no secrets in
/// them), anything else by kind only.
pub fn describe(reply: &resp::Frame) -> String {
    match reply {
        resp::Frame::Simple(text) | resp::Frame::Error(text) | resp::Frame::BulkError(text) => {
            String::from_utf8_lossy(text).into_owned()
        }
        _ => "a reply that is not a status".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses() {
        assert_eq!(
            "127.0.0.1:6379".parse(),
            Ok(Address::Tcp("127.0.0.1:6379".into()))
        );
        assert_eq!("[::1]:6379".parse(), Ok(Address::Tcp("[::1]:6379".into())));
        assert_eq!(
            "unix:/run/redis.sock".parse(),
            Ok(Address::Unix("/run/redis.sock".into()))
        );
        for bad in ["redis", "redis:", ":6379", "unix:", "host:99999"] {
            assert!(bad.parse::<Address>().is_err(), "{bad}");
        }
    }
}
