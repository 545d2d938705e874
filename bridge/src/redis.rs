//! How the bridge reaches Redis: one fresh connection per WebSocket, to the
//! one target given by `--redis` (see `redis_url`), never to anything a
//! request names.
//!
//! Connections are not pooled: each browser gets its own Redis connection, so
//! per-connection state (SELECT, MULTI, SUBSCRIBE, CLIENT SETNAME) belongs to
//! that browser alone and ends when its WebSocket ends. Each is opened
//! ([`open`]) with TLS when the URL is `rediss://`, logged in (`AUTH user
//! password`: the token's user with `--tokens`, else the URL's user if it
//! names one) and moved to the URL's database, each reply read before a
//! single browser byte goes through.
//!
//! Besides the relays, the bridge reads the server's command table
//! ([`command_table`], for `policy`), asks a cluster for its topology
//! ([`ask`], for `cluster`) and, in token mode, checks at start
//! that Redis refuses a connection without credentials
//! ([`default_user_refuses`]).

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio::time::timeout;

use crate::policy::table::{Table, TableError};
use crate::redis_tls::RedisTls;
use crate::redis_url::{Endpoint, RedisUrl};
use crate::tokens::{Credentials, Tokens};

/// Default bound of a connect (TLS handshake included) to a Redis that
/// drops packets instead of refusing.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Default bound of the bridge's own commands (AUTH, SELECT, health and
/// start-up checks); relayed commands are the client's to time.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// Bounds reading the command table (about 100 KB), at least.
const TABLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where Redis is and how the bridge opens a connection to it.
#[derive(Debug, Clone)]
pub struct Target {
    endpoint: Endpoint,
    tls: Option<Arc<RedisTls>>,
    login: Option<Credentials>,
    db: Option<u32>,
    connect_timeout: Duration,
    command_timeout: Duration,
}

impl Target {
    /// The URL's endpoint, login and database, with the default timeouts.
    /// A `rediss://` URL needs [`Target::with_tls`] before it connects.
    pub fn new(url: RedisUrl) -> Target {
        Target {
            endpoint: url.endpoint,
            tls: None,
            login: url.login,
            db: url.db,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
        }
    }

    pub fn with_tls(mut self, tls: Arc<RedisTls>) -> Target {
        self.tls = Some(tls);
        self
    }

    pub fn with_timeouts(mut self, connect: Duration, command: Duration) -> Target {
        self.connect_timeout = connect;
        self.command_timeout = command;
        self
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The same login, TLS and timeouts towards another endpoint: a
    /// cluster node's address, as the topology gives it.
    pub fn with_endpoint(&self, endpoint: Endpoint) -> Target {
        Target {
            endpoint,
            ..self.clone()
        }
    }

    /// The bound of the bridge's own commands.
    pub fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// The bound of a connect, TLS handshake included.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// TLS towards Redis, for reloads.
    pub fn tls(&self) -> Option<&Arc<RedisTls>> {
        self.tls.as_ref()
    }

    /// The database every connection SELECTs, if not 0.
    pub fn db(&self) -> Option<u32> {
        self.db
    }

    /// Whether the URL names a user the bridge logs in as.
    pub fn has_login(&self) -> bool {
        self.login.is_some()
    }
}

impl fmt::Display for Target {
    /// The URL without its password, for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Endpoint::Unix(_) = self.endpoint {
            return self.endpoint.fmt(f);
        }
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        write!(f, "{scheme}://")?;
        if let Some(login) = &self.login {
            write!(f, "{}@", login.user)?;
        }
        write!(f, "{}", self.endpoint)?;
        match self.db {
            Some(db) => write!(f, "/{db}"),
            None => Ok(()),
        }
    }
}

/// A connection to Redis, over TCP, TLS or a Unix socket.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// Opens a connection to Redis, with TLS for `rediss://`, and nothing sent
/// on it yet (TCP with Nagle off: RESP commands are small and latency
/// matters more than packet count).
pub async fn connect(target: &Target) -> io::Result<Box<dyn Stream>> {
    let connect = async {
        Ok::<Box<dyn Stream>, io::Error>(match &target.endpoint {
            Endpoint::Tcp { host, port } => {
                let stream = TcpStream::connect((host.as_str(), *port)).await?;
                stream.set_nodelay(true)?;
                match &target.tls {
                    Some(tls) => Box::new(tls.handshake(stream, host).await?),
                    None => Box::new(stream),
                }
            }
            Endpoint::Unix(path) => Box::new(UnixStream::connect(path).await?),
        })
    };
    timeout(target.connect_timeout, connect)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))?
}

/// Why a connection could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// Redis is unreachable (or the TLS handshake failed).
    Connect(io::Error),
    /// The login or the SELECT failed.
    Login(AuthError),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Connect(error) => error.fmt(f),
            OpenError::Login(error) => error.fmt(f),
        }
    }
}

/// Opens a connection ready for commands: logged in as `credentials` (a
/// token's user), else as the URL's user if any, and on the URL's database.
pub async fn open(
    target: &Target,
    credentials: Option<&Credentials>,
) -> Result<Box<dyn Stream>, OpenError> {
    let mut stream = connect(target).await.map_err(OpenError::Connect)?;
    if let Some(credentials) = credentials.or(target.login.as_ref()) {
        let auth = ["AUTH", credentials.user.as_str(), credentials.password()];
        expect_ok(&mut stream, target, &auth)
            .await
            .map_err(OpenError::Login)?;
    }
    if let Some(db) = target.db {
        let db = db.to_string();
        expect_ok(&mut stream, target, &["SELECT", &db])
            .await
            .map_err(OpenError::Login)?;
    }
    Ok(stream)
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

/// Sends one of the bridge's own commands and waits for `+OK`.
async fn expect_ok(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    target: &Target,
    args: &[&str],
) -> Result<(), AuthError> {
    let mut command = Vec::new();
    resp::encode_command(&mut command, args);
    let exchange = async {
        stream.write_all(&command).await?;
        read_replies(stream, 1).await
    };
    let replies = timeout(target.command_timeout, exchange)
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
/// `credentials` (else the URL's user), and returns its reply.
pub async fn call(
    target: &Target,
    credentials: Option<&Credentials>,
    args: &[&str],
) -> io::Result<resp::Frame> {
    let exchange = async {
        let mut stream = open(target, credentials)
            .await
            .map_err(|error| io::Error::other(error.to_string()))?;
        let mut command = Vec::new();
        resp::encode_command(&mut command, args);
        stream.write_all(&command).await?;
        Ok(read_replies(&mut stream, 1).await?.remove(0))
    };
    timeout(target.command_timeout + target.connect_timeout, exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "redis did not answer in time"))?
}

/// Returns whether Redis answers `PING` with `+PONG` on a short-lived
/// connection, logged in as `credentials` when given.
pub async fn ping(target: &Target, credentials: Option<&Credentials>) -> bool {
    match call(target, credentials, &["PING"]).await {
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
    target: &Target,
) -> Result<Table, TableReadError> {
    let limit = TABLE_TIMEOUT.max(target.command_timeout);
    let reply = ask(stream, limit, &["COMMAND", "INFO"])
        .await
        .map_err(TableReadError::Io)?;
    if reply.is_error() {
        return Err(TableReadError::Refused(describe(&reply)));
    }
    Table::from_reply(&reply).map_err(TableReadError::Invalid)
}

/// Sends one command on a connection of the bridge's own that nothing else
/// uses, and reads its reply in large chunks, all within `limit`.
pub async fn ask(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    limit: Duration,
    args: &[&str],
) -> io::Result<resp::Frame> {
    let exchange = async {
        let mut command = Vec::new();
        resp::encode_command(&mut command, args);
        stream.write_all(&command).await?;
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
    timeout(limit, exchange)
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))?
}

/// The logins the bridge tries for its own connections, in order: the
/// `--redis` URL's user (or none) unless only tokens may log in, then each
/// token's user. `None` logs in as the URL's user, or not at all.
pub fn own_logins(target: &Target, tokens: Option<&Tokens>) -> Vec<Option<Credentials>> {
    let mut users: Vec<Option<Credentials>> = Vec::new();
    if tokens.is_none() || target.has_login() {
        users.push(None);
    }
    if let Some(tokens) = tokens {
        users.extend(tokens.all().into_iter().map(Some));
    }
    users
}

/// Whether Redis refuses a fresh connection that sends no credentials
/// (`PING` answered `-NOAUTH`: the default user is off or has a password);
/// otherwise the reply it gave.
pub async fn default_user_refuses(target: &Target) -> io::Result<Result<(), String>> {
    let check = async {
        let mut stream = connect(target).await?;
        stream.write_all(b"*1\r\n$4\r\nPING\r\n").await?;
        read_replies(&mut stream, 1).await
    };
    let replies = timeout(target.connect_timeout + target.command_timeout, check)
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
