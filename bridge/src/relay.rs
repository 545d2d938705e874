//! The relay: one WebSocket, one Redis TCP connection, two copy loops.
//!
//! Bytes are copied as they are; RESP framing is the browser's business, so a
//! command may span WebSocket messages and a message may hold many commands.
//! Each loop awaits its write before reading more, which is what bounds memory:
//! a slow browser stalls the Redis reads and lets TCP push back on Redis.
//!
//! When either side ends, the relay ends and tells the browser why with a
//! close code, listed in [`End`].

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket};
use bytes::BytesMut;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::sync::watch;

use crate::redis;

/// Size of the Redis read buffer; each read becomes one binary message.
const READ_BUFFER: usize = 64 * 1024;

/// How long to wait for the browser to answer our close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a relay ended, and so which close frame (if any) the browser gets.
#[derive(Debug)]
enum End {
    /// The browser sent a close frame or went away: nothing left to tell it.
    Browser,
    /// The browser sent a text frame (1003): RESP travels in binary frames.
    TextFrame,
    /// The browser sent a message over `--max-message-size` (1009).
    TooBig,
    /// Redis could not be reached when the WebSocket opened (1011).
    RedisUnavailable,
    /// Redis closed the connection or failed (1011).
    RedisClosed,
    /// The bridge is shutting down (1001).
    Shutdown,
}

impl End {
    fn close_frame(&self) -> Option<CloseFrame> {
        let (code, reason) = match self {
            End::Browser => return None,
            End::TextFrame => (close_code::UNSUPPORTED, "binary frames only"),
            End::TooBig => (close_code::SIZE, "message too big"),
            End::RedisUnavailable => (close_code::ERROR, "redis unavailable"),
            End::RedisClosed => (close_code::ERROR, "redis connection closed"),
            End::Shutdown => (close_code::AWAY, "server shutting down"),
        };
        Some(CloseFrame {
            code,
            reason: reason.into(),
        })
    }
}

/// Relays `socket` to the Redis server at `redis_addr` until either side ends
/// or `shutdown` fires.
pub async fn run(
    socket: WebSocket,
    redis_addr: &str,
    peer: SocketAddr,
    mut shutdown: watch::Receiver<()>,
) {
    let (mut to_browser, mut from_browser) = socket.split();

    let end = match redis::connect(redis_addr).await {
        Err(error) => {
            tracing::warn!(%peer, %error, "redis unavailable");
            End::RedisUnavailable
        }
        Ok(mut stream) => {
            tracing::info!(%peer, "relay opened");
            let (mut from_redis, mut to_redis) = stream.split();
            tokio::select! {
                end = browser_to_redis(&mut from_browser, &mut to_redis) => end,
                end = redis_to_browser(&mut from_redis, &mut to_browser) => end,
                _ = shutdown.changed() => End::Shutdown,
            }
            // Dropping `stream` closes the Redis connection, which ends the
            // Redis client and everything it held (subscriptions, MULTI).
        }
    };

    if let Some(frame) = end.close_frame() {
        close(&mut to_browser, &mut from_browser, frame).await;
    }
    tracing::info!(%peer, ?end, "relay closed");
}

/// Writes each binary message from the browser to Redis.
async fn browser_to_redis(
    from_browser: &mut SplitStream<WebSocket>,
    to_redis: &mut WriteHalf<'_>,
) -> End {
    while let Some(message) = from_browser.next().await {
        let data = match message {
            Ok(Message::Binary(data)) => data,
            Ok(Message::Text(_)) => return End::TextFrame,
            // Pings are answered by the WebSocket layer itself.
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            // Keep reading: the next read sends our close reply and ends the stream.
            Ok(Message::Close(_)) => continue,
            Err(error) => return read_error(error),
        };
        if let Err(error) = to_redis.write_all(&data).await {
            tracing::debug!(%error, "redis write failed");
            return End::RedisClosed;
        }
    }
    End::Browser
}

/// Sends each read from Redis to the browser as one binary message.
async fn redis_to_browser(
    from_redis: &mut ReadHalf<'_>,
    to_browser: &mut SplitSink<WebSocket, Message>,
) -> End {
    let mut buf = BytesMut::with_capacity(READ_BUFFER);
    loop {
        buf.reserve(READ_BUFFER);
        match from_redis.read_buf(&mut buf).await {
            Ok(0) => return End::RedisClosed,
            Ok(_) => {}
            Err(error) => {
                tracing::debug!(%error, "redis read failed");
                return End::RedisClosed;
            }
        }
        let message = Message::Binary(buf.split().freeze());
        if let Err(error) = to_browser.send(message).await {
            tracing::debug!(%error, "websocket send failed");
            return End::Browser;
        }
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
    if to_browser.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    let drain = async {
        while let Some(Ok(message)) = from_browser.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, drain).await;
}
