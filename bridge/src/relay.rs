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
use crate::cluster::Cluster;
use crate::feed;
use crate::limits::Slot;
use crate::metrics::{Metrics, ReplyTimer};
use crate::policy::{CommandFilter, Output, Violation};
use crate::redirects::{Redirects, Rewrite};
use crate::redis::{self, OpenError};
use crate::replies::ReplyCounter;
use crate::server::Config;
use crate::tokens::{Credentials, Tokens};

/// Size of the Redis read buffer; each read becomes one binary message.
const READ_BUFFER: usize = 64 * 1024;

/// A bulk reply up to this size (with what came before it in the same
/// reads) goes to the browser whole, in one message, not one message per
/// read: a client can then hand the value over as a view of the message
/// it came in, where a value in pieces must be copied into fresh memory,
/// which costs a browser more than the copy itself. It bounds what a
/// connection holds of Redis's replies; from the browser, a message may
/// be far larger (`--max-message-size`).
const WHOLE_BULK: u64 = 2 << 20;

/// How long to wait for the browser to answer our close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Longest close reason the WebSocket protocol allows, in bytes.
const MAX_CLOSE_REASON: usize = 123;

/// Why a relay ended, and so which close frame (if any) the browser gets.
#[derive(Debug)]
pub(crate) enum End {
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
    /// In cluster mode, replies whose framing the bridge cannot follow, so
    /// cannot rewrite redirections in (1011).
    Unfollowable,
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
            End::Unfollowable => (close_code::ERROR, "replies the bridge cannot follow".into()),
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
            End::Unfollowable => "unfollowable",
            End::Shutdown => "shutdown",
            End::SessionExpired => "session_expired",
            End::TokenRevoked => "token_revoked",
        }
    }

    fn is_error(&self) -> bool {
        matches!(
            self,
            End::RedisUnavailable | End::RedisAuthFailed | End::RedisClosed | End::Unfollowable
        )
    }
}

/// What a WebSocket is for.
pub enum Route {
    /// `/` or `/ws`: the one `--redis`.
    Redis,
    /// `/ws/node/<id>`: a cluster node, at its address in the topology when
    /// the WebSocket opened.
    Node { id: String, target: redis::Target },
    /// `/ws/cluster`: the topology feed (see `feed`).
    Topology,
}

/// Everything one relay needs besides its socket.
pub struct Session {
    pub route: Route,
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
        route,
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

    let idle = Some(config.limits.idle_timeout).filter(|idle| !idle.is_zero());
    let _per_node = match &route {
        Route::Node { id, .. } => Some(metrics.node_connection(id)),
        _ => None,
    };
    let relay = async {
        let (target, cluster) = match &route {
            Route::Topology => {
                return match &config.cluster {
                    Some(cluster) => {
                        feed::run(cluster, &metrics, &mut from_browser, &mut to_browser, idle).await
                    }
                    // The routes refuse a feed without a cluster.
                    None => End::RedisUnavailable,
                };
            }
            Route::Node { target, .. } => (target, config.cluster.as_deref()),
            Route::Redis => (&config.redis, None),
        };
        let browser = Ends {
            from_browser: &mut from_browser,
            to_browser: &mut to_browser,
        };
        let credentials = credentials.as_ref();
        connect_and_relay(
            &config,
            &metrics,
            peer,
            target,
            cluster,
            credentials,
            browser,
        )
        .await
    };
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

/// The browser's two halves.
struct Ends<'a> {
    from_browser: &'a mut SplitStream<WebSocket>,
    to_browser: &'a mut SplitSink<WebSocket, Message>,
}

/// Opens the Redis connection of `target` and relays; `cluster` when it is
/// a cluster node's (redirections are rewritten, and a node that does not
/// answer makes the topology read again).
async fn connect_and_relay(
    config: &Config,
    metrics: &Metrics,
    peer: SocketAddr,
    target: &redis::Target,
    cluster: Option<&Cluster>,
    credentials: Option<&Credentials>,
    browser: Ends<'_>,
) -> End {
    let Ends {
        from_browser,
        to_browser,
    } = browser;
    let opening = Instant::now();
    let stream = match redis::open(target, credentials).await {
        Ok(stream) => {
            metrics
                .redis_connect
                .observe(opening.elapsed().as_secs_f64());
            stream
        }
        Err(OpenError::Connect(error)) => {
            tracing::warn!(%peer, %error, redis = %target, "redis unavailable");
            // A cluster node gone is the topology's news, not the table's.
            match cluster {
                Some(cluster) => cluster.refresh_soon(),
                None => config.policy.redis_unreachable(),
            }
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
        end = redis_to_browser(&mut from_redis, to_browser, idle, metrics, cluster, &between) => end,
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

/// A ping every half idle timeout, or none without one.
pub(crate) fn pings(idle: Option<Duration>) -> Option<Interval> {
    idle.map(|idle| {
        let period = idle / 2;
        let mut pings = interval_at(Instant::now() + period, period);
        pings.set_missed_tick_behavior(MissedTickBehavior::Delay);
        pings
    })
}

/// Sends each read from Redis to the browser as one binary message (with
/// its redirections rewritten, from a cluster node), except that the reads
/// up to the end of a bulk reply of up to [`WHOLE_BULK`] go as one, and a
/// ping every half idle timeout; a send stuck for the idle timeout ends it.
async fn redis_to_browser(
    from_redis: &mut (impl AsyncRead + Unpin),
    to_browser: &mut SplitSink<WebSocket, Message>,
    idle: Option<Duration>,
    metrics: &Metrics,
    cluster: Option<&Cluster>,
    between: &Between,
) -> End {
    let mut replies = match cluster {
        Some(_) => ReplyCounter::marking_errors(),
        None => ReplyCounter::default(),
    };
    let mut redirects = Redirects::default();
    let mut rewrites = Vec::new();
    let mut pings = pings(idle);
    let mut buf = BytesMut::with_capacity(READ_BUFFER);
    // From a cluster node: rewritten reads that wait for a bulk reply's end.
    let mut held = BytesMut::new();
    'reads: loop {
        buf.reserve(READ_BUFFER);
        let message = 'read: {
            tokio::select! {
            read = from_redis.read_buf(&mut buf) => match read {
                Ok(0) => return End::RedisClosed,
                Ok(n) => {
                    metrics.bytes_to_browser.inc_by(n as u64);
                    between.reply_timer.replied(&metrics.reply_latency);
                    let done = replies.feed(&buf[buf.len() - n..]);
                    let size = if replies.lost() { 0 } else { replies.reply_size() };
                    between.backpressure.received(done, size);
                    let Some(cluster) = cluster else {
                        if replies.blob_due().is_some_and(|due| buf.len() as u64 + due <= WHOLE_BULK) {
                            continue 'reads;
                        }
                        metrics.messages_to_browser.inc();
                        break 'read Message::Binary(buf.split().freeze());
                    };
                    // Fail closed: a redirection the counter missed would
                    // show the browser an internal address.
                    if replies.lost() {
                        tracing::warn!("replies the bridge cannot follow from a cluster node");
                        return End::Unfollowable;
                    }
                    let topology = cluster.topology();
                    let read = buf.split().freeze();
                    let sent = redirects.rewrite(read, replies.top_level_errors(), &topology, &mut rewrites);
                    for rewrite in rewrites.drain(..) {
                        metrics.redirect_rewritten(rewrite.label());
                        if rewrite == Rewrite::Unknown {
                            cluster.refresh_soon();
                        }
                    }
                    if sent.is_empty() {
                        continue 'reads;
                    }
                    // Rewritten read by read, so what waits for the rest of
                    // a bulk reply is held apart from the read buffer.
                    let due = replies.blob_due();
                    if due.is_some_and(|due| (held.len() + sent.len()) as u64 + due <= WHOLE_BULK) {
                        held.extend_from_slice(&sent);
                        continue 'reads;
                    }
                    let sent = match held.is_empty() {
                        true => sent,
                        false => {
                            held.extend_from_slice(&sent);
                            held.split().freeze()
                        }
                    };
                    metrics.messages_to_browser.inc();
                    Message::Binary(sent)
                }
                Err(error) => {
                    tracing::debug!(%error, "redis read failed");
                    return End::RedisClosed;
                }
            },
            () = tick(&mut pings) => Message::Ping(Bytes::new()),
            }
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
pub(crate) async fn tick(interval: &mut Option<Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// Tells a too-big message apart from a browser that went away.
pub(crate) fn read_error(error: axum::Error) -> End {
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
