//! How the bridge reaches Redis: one fresh TCP connection per WebSocket.
//!
//! Connections are not pooled: each browser gets its own Redis connection, so
//! per-connection state (SELECT, MULTI, SUBSCRIBE, CLIENT SETNAME) belongs to
//! that browser alone and ends when its WebSocket ends.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Bounds a connect to a Redis that drops packets instead of refusing.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Bounds the whole health check, so `/healthz` answers quickly.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Opens a TCP connection to Redis with Nagle off: RESP commands are small
/// and latency matters more than packet count.
pub async fn connect(addr: &str) -> io::Result<TcpStream> {
    let stream = timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Returns whether Redis answers `PING` with `+PONG` on a short-lived connection.
pub async fn ping(addr: &str) -> bool {
    let check = async {
        let mut stream = connect(addr).await?;
        stream.write_all(b"*1\r\n$4\r\nPING\r\n").await?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).await?;
        Ok::<_, io::Error>(&reply == b"+PONG\r\n")
    };
    match timeout(PING_TIMEOUT, check).await {
        Ok(Ok(pong)) => pong,
        Ok(Err(error)) => {
            tracing::debug!(%error, "redis ping failed");
            false
        }
        Err(_) => {
            tracing::debug!("redis ping timed out");
            false
        }
    }
}
