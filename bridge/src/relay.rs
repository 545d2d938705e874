//! The relay: one WebSocket, one Redis connection, two copy loops.
//!
//! Browser → Redis, each binary message goes through the connection's
//! [`CommandFilter`] (see `policy`), and what it lets through is written to
//! Redis. Redis → browser, bytes are copied as they are, each read becoming
//! one binary message: RESP framing is the browser's business, so a reply
//! may span messages and a message may hold many replies.
//!
//! Each loop awaits its write before reading more, which bounds the
//! bridge's memory: a browser that stops reading stalls the Redis reads, and
//! a Redis that stops reading stalls the browser. The browser is also read
//! only while Redis owes it little (see `backpressure`), which bounds what
//! Redis holds for it. The loops run side by side, so a browser that sends
//! a pipeline before reading its replies is fine, as long as it reads while
//! it writes (browsers, `ws` and the redis-wasm client do): one that writes
//! a long pipeline before reading a byte stalls once the bridge stops
//! reading it, and is closed when a send to it has been stuck for
//! `--idle-timeout`.
//!
//! Liveness: the bridge pings the browser every half `--idle-timeout`, and
//! closes the WebSocket (1001 "idle timeout") once nothing at all, pong
//! included, has come from the browser for a whole `--idle-timeout` while
//! the bridge was reading it, or (1001 "not reading") once a send to it has
//! not completed for that long.
//!
//! Sessions end: after `--max-session` (1001 "session expired", so that a
//! client reconnects and is checked again), and when a SIGHUP reload drops
//! or changes the token the WebSocket opened with (1008 "token revoked":
//! the session is no longer allowed, and reconnecting with that token will
//! be refused).
//!
//! When either side ends, the relay ends and tells the browser why with a
//! close code, listed in [`End`].

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket};
use bytes::{Bytes, BytesMut};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::watch;
use tokio::time::{interval_at, timeout, Instant, Interval, MissedTickBehavior};

use crate::backpressure::Backpressure;
use crate::limits::Slot;
use crate::metrics::{Metrics, ReplyTimer};
use crate::policy::{CommandFilter, Output, Violation};
use crate::redis::{self, OpenError};
use crate::replies::ReplyCounter;
use crate::server::Config;
use crate::tokens::{Credentials, Tokens};

/// Size of the Redis read buffer; each read becomes one binary message.
const READ_BUFFER: usize = 64 * 1024;

/// How long to wait for the browser to answer our close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Longest close reason the WebSocket protocol allows, in bytes.
const MAX_CLOSE_REASON: usize = 123;

/// Why a relay ended, and so which close frame (if any) the browser gets.
#[derive(Debug)]
enum End {
    /// The browser sent a close frame or went away: nothing left to tell it.
    Browser,
    /// The browser sent a text frame (1003): RESP travels in binary frames.
    TextFrame,
    /// The browser sent a message over `--max-message-size` (1009).
    TooBig,
    /// Nothing came from the browser for `--idle-timeout` (1001).
    Idle,
    /// A send to the browser did not complete for `--idle-timeout` (1001).
    NotReading,
    /// The browser sent something that is not a command (1008, 1009, 1002).
    Policy(Violation),
    /// Redis could not be reached when the WebSocket opened (1011).
    RedisUnavailable,
    /// Redis refused the bridge's `AUTH` (1011).
    RedisAuthFailed,
    /// Redis closed the connection or failed (1011).
    RedisClosed,
    /// The bridge is shutting down (1001).
    Shutdown,
    /// The WebSocket has been open for `--max-session` (1001).
    SessionExpired,
    /// A reload of the tokens file dropped or changed its token (1008).
    TokenRevoked,
}

impl End {
    fn close_frame(&self) -> Option<CloseFrame> {
        let (code, reason): (u16, Cow<str>) = match self {
            End::Browser => return None,
            End::TextFrame => (close_code::UNSUPPORTED, "binary frames only".into()),
            End::TooBig => (close_code::SIZE, "message too big".into()),
            End::Idle => (close_code::AWAY, "idle timeout".into()),
            End::NotReading => (close_code::AWAY, "not reading".into()),
            End::Policy(violation) => (violation.close_code(), violation.to_string().into()),
            End::RedisUnavailable => (close_code::ERROR, "redis unavailable".into()),
            End::RedisAuthFailed => (close_code::ERROR, "redis authentication failed".into()),
            End::RedisClosed => (close_code::ERROR, "redis connection closed".into()),
            End::Shutdown => (close_code::AWAY, "server shutting down".into()),
            End::SessionExpired => (close_code::AWAY, "session expired".into()),
            End::TokenRevoked => (close_code::POLICY, "token revoked".into()),
        };
        Some(CloseFrame {
            code,
            reason: truncate(&reason, MAX_CLOSE_REASON).into(),
        })
    }

    /// The metrics label of the close reason.
    fn label(&self) -> &'static str {
        match self {
            End::Browser => "browser",
            End::TextFrame => "text_frame",
            End::TooBig => "too_big",
            End::Idle => "idle",
            End::NotReading => "not_reading",
            End::Policy(_) => "policy",
            End::RedisUnavailable => "redis_unavailable",
            End::RedisAuthFailed => "redis_auth",
            End::RedisClosed => "redis_closed",
            End::Shutdown => "shutdown",
            End::SessionExpired => "session_expired",
            End::TokenRevoked => "token_revoked",
        }
    }

    fn is_error(&self) -> bool {
        matches!(
            self,
            End::RedisUnavailable | End::RedisAuthFailed | End::RedisClosed
        )
    }
}

/// Everything one relay needs besides its socket.
pub struct Session {
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// The TCP peer: the browser, or a trusted proxy.
    pub peer: SocketAddr,
    /// The browser's address (what a trusted proxy said, behind one).
    pub client: IpAddr,
    /// The Redis user to log in as, with `--tokens`.
    pub credentials: Option<Credentials>,
    /// Changes when the bridge shuts down.
    pub shutdown: watch::Receiver<()>,
    /// This connection's place in the connection limits, held to the end.
    pub slot: Slot,
}

/// Relays `socket` to Redis until either side ends or the bridge shuts down.
pub async fn run(socket: WebSocket, session: Session) {
    let Session {
        config,
        metrics,
        peer,
        client,
        credentials,
        mut shutdown,
        slot,
    } = session;
    metrics.connections_opened.inc();
    metrics.connections_current.inc();
    let (mut to_browser, mut from_browser) = socket.split();

    let relay = connect_and_relay(
        &config,
        &metrics,
        peer,
        credentials.as_ref(),
        &mut from_browser,
        &mut to_browser,
    );
    let tokens = config.access.tokens().map(Arc::as_ref);
    let end = tokio::select! {
        end = relay => end,
        _ = shutdown.changed() => End::Shutdown,
        () = expiry(config.limits.max_session) => End::SessionExpired,
        () = revocation(tokens, credentials.as_ref()) => End::TokenRevoked,
    };
    // Dropping the Redis stream (done) closed the Redis connection, which
    // ended the Redis client and everything it held (subscriptions, MULTI).

    metrics.closed(end.label());
    if end.is_error() {
        metrics.error(end.label());
    }
    if let Some(frame) = end.close_frame() {
        close(&mut to_browser, &mut from_browser, frame).await;
    }
    metrics.connections_current.dec();
    drop(slot);
    let user = credentials
        .as_ref()
        .map(|credentials| credentials.user.as_str());
    tracing::info!(%peer, %client, user, ?end, "relay closed");
}

async fn connect_and_relay(
    config: &Config,
    metrics: &Metrics,
    peer: SocketAddr,
    credentials: Option<&Credentials>,
    from_browser: &mut SplitStream<WebSocket>,
    to_browser: &mut SplitSink<WebSocket, Message>,
) -> End {
    let opening = Instant::now();
    let stream = match redis::open(&config.redis, credentials).await {
        Ok(stream) => {
            metrics
                .redis_connect
                .observe(opening.elapsed().as_secs_f64());
            stream
        }
        Err(OpenError::Connect(error)) => {
            tracing::warn!(%peer, %error, "redis unavailable");
            config.policy.redis_unreachable();
            return End::RedisUnavailable;
        }
        Err(OpenError::Login(error)) => {
            let user = credentials.map(|credentials| credentials.user.as_str());
            tracing::warn!(%peer, user, %error, "redis login failed");
            return End::RedisAuthFailed;
        }
    };
    let Some(policy) = config.policy.policy().await else {
        tracing::warn!(%peer, "no command table to judge commands with");
        return End::RedisUnavailable;
    };
    tracing::info!(%peer, user = credentials.map(|c| c.user.as_str()), "relay opened");

    let (mut from_redis, mut to_redis) = tokio::io::split(stream);
    let prefix = credentials.and_then(|credentials| credentials.prefix.clone());
    let filter = CommandFilter::new(policy, prefix);
    let idle = Some(config.limits.idle_timeout).filter(|idle| !idle.is_zero());
    let between = Between::default();
    tokio::select! {
        end = browser_to_redis(from_browser, &mut to_redis, filter, idle, metrics, peer, &between) => end,
        end = redis_to_browser(&mut from_redis, to_browser, idle, metrics, &between) => end,
    }
}

/// What a relay's two directions share.
#[derive(Default)]
struct Between {
    backpressure: Backpressure,
    reply_timer: ReplyTimer,
}

/// Resolves after `max_session`, or never if it is zero.
async fn expiry(max_session: Duration) {
    if max_session.is_zero() {
        std::future::pending().await
    }
    tokio::time::sleep(max_session).await
}

/// Resolves once a reload of `tokens` no longer holds `credentials`, or
/// never without tokens.
async fn revocation(tokens: Option<&Tokens>, credentials: Option<&Credentials>) {
    let (Some(tokens), Some(credentials)) = (tokens, credentials) else {
        return std::future::pending().await;
    };
    let mut reloads = tokens.reloads();
    while tokens.holds(credentials) {
        if reloads.changed().await.is_err() {
            std::future::pending().await
        }
    }
}

/// Filters each binary message from the browser and writes the result to
/// Redis; between commands, waits while Redis owes the browser too much.
async fn browser_to_redis(
    from_browser: &mut SplitStream<WebSocket>,
    to_redis: &mut (impl AsyncWrite + Unpin),
    mut filter: CommandFilter,
    idle: Option<Duration>,
    metrics: &Metrics,
    peer: SocketAddr,
    between: &Between,
) -> End {
    let mut out = Output::default();
    loop {
        // The rest of a command already started must go: Redis answers
        // nothing before it has the whole command.
        if !filter.in_command() {
            between.backpressure.admit().await;
        }
        let next = match idle {
            Some(idle) => match timeout(idle, from_browser.next()).await {
                Ok(next) => next,
                Err(_) => return End::Idle,
            },
            None => from_browser.next().await,
        };
        let data = match next {
            None => return End::Browser,
            Some(Ok(Message::Binary(data))) => data,
            Some(Ok(Message::Text(_))) => return End::TextFrame,
            // Pings are answered by the WebSocket layer itself; pongs and
            // pings only needed to count as life.
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            // Keep reading: the next read sends our close reply and ends the stream.
            Some(Ok(Message::Close(_))) => continue,
            Some(Err(error)) => return read_error(error),
        };
        metrics.bytes_from_browser.inc_by(data.len() as u64);
        metrics.messages_from_browser.inc();
        // Allowed commands go on as ranges of `data`, refused ones as
        // stand-ins; a feed may stop early to keep its output small.
        let mut rest = &data[..];
        while !rest.is_empty() {
            let taken = match filter.feed(rest, &mut out) {
                Ok(taken) => taken,
                Err(violation) => {
                    tracing::info!(%peer, %violation, "browser stream refused");
                    return End::Policy(violation);
                }
            };
            for denial in out.denials() {
                tracing::debug!(%peer, command = denial.command(), "command denied");
                metrics.denied(denial.known_command());
            }
            // Counted before the write, during which replies may come back.
            between.backpressure.sent(out.commands());
            between.reply_timer.sent();
            if let Err(error) = out.write_to(rest, to_redis).await {
                tracing::debug!(%error, "redis write failed");
                return End::RedisClosed;
            }
            out.clear();
            rest = &rest[taken..];
        }
    }
}

/// Sends each read from Redis to the browser as one binary message, and a
/// ping every half idle timeout; a send stuck for the idle timeout ends it.
async fn redis_to_browser(
    from_redis: &mut (impl AsyncRead + Unpin),
    to_browser: &mut SplitSink<WebSocket, Message>,
    idle: Option<Duration>,
    metrics: &Metrics,
    between: &Between,
) -> End {
    let mut replies = ReplyCounter::default();
    let mut pings = idle.map(|idle| {
        let period = idle / 2;
        let mut pings = interval_at(Instant::now() + period, period);
        pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
        pings
    });
    let mut buf = BytesMut::with_capacity(READ_BUFFER);
    loop {
        buf.reserve(READ_BUFFER);
        let message = tokio::select! {
            read = from_redis.read_buf(&mut buf) => match read {
                Ok(0) => return End::RedisClosed,
                Ok(n) => {
                    metrics.bytes_to_browser.inc_by(n as u64);
                    metrics.messages_to_browser.inc();
                    between.reply_timer.replied(&metrics.reply_latency);
                    let done = replies.feed(&buf[buf.len() - n..]);
                    let size = if replies.lost() { 0 } else { replies.reply_size() };
                    between.backpressure.received(done, size);
                    Message::Binary(buf.split().freeze())
                }
                Err(error) => {
                    tracing::debug!(%error, "redis read failed");
                    return End::RedisClosed;
                }
            },
            () = tick(&mut pings) => Message::Ping(Bytes::new()),
        };
        between.backpressure.sending(true);
        let sent = match idle {
            Some(idle) => timeout(idle, to_browser.send(message)).await,
            None => Ok(to_browser.send(message).await),
        };
        between.backpressure.sending(false);
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::debug!(%error, "websocket send failed");
                return End::Browser;
            }
            Err(_) => return End::NotReading,
        }
    }
}

/// Waits for the next tick, or forever without an interval.
async fn tick(interval: &mut Option<Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Tells a too-big message apart from a browser that went away.
fn read_error(error: axum::Error) -> End {
    match error.into_inner().downcast::<tungstenite::Error>() {
        Ok(error) if matches!(*error, tungstenite::Error::Capacity(_)) => End::TooBig,
        Ok(error) => {
            tracing::debug!(%error, "websocket read failed");
            End::Browser
        }
        Err(error) => {
            tracing::debug!(%error, "websocket read failed");
            End::Browser
        }
    }
}

/// Sends `frame` and waits, briefly, for the browser's close frame so the
/// close handshake completes before the TCP connection drops.
async fn close(
    to_browser: &mut SplitSink<WebSocket, Message>,
    from_browser: &mut SplitStream<WebSocket>,
    frame: CloseFrame,
) {
    let handshake = async {
        if to_browser.send(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        while let Some(Ok(message)) = from_browser.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    };
    // A browser that stopped reading cannot take the close frame either.
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, handshake).await;
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}
