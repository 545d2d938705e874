//! What a browser may send, and what it costs the bridge: RESP3 types are
//! refused at their first byte (the attribute flood), and the bridge's
//! memory for one WebSocket stays within the documented bound — one
//! message (`--max-message-size`) plus 4 MiB — however long an argument or
//! a stream of commands is.
//!
//! The large streams go through a WebSocket client written here that masks
//! with the key 0 (allowed, and the payload goes out as it is), so that the
//! client costs next to nothing and the figures are the bridge's.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

const MIB: usize = 1 << 20;

/// The bound the docs state, for one connection with `--max-message-size`
/// `message`: the message itself, plus 4 MiB for the judged part of a
/// command (64 KiB), a feed's output (64 KiB), the WebSocket's buffers, the
/// reads towards the browser and the allocator's slack (about 1.5 MiB
/// measured).
fn bound(message: usize) -> u64 {
    (message + 4 * MIB) as u64
}

/// A WebSocket opened by hand.
struct RawWs {
    read: OwnedReadHalf,
    write: OwnedWriteHalf,
}

impl RawWs {
    async fn connect(bridge: &Bridge) -> RawWs {
        let mut stream = within("connect", TcpStream::connect(bridge.addr))
            .await
            .expect("connect to the bridge");
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {0}\r\nOrigin: http://{0}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: redis-wasm\r\n\r\n",
            bridge.addr
        );
        stream
            .write_all(request.as_bytes())
            .await
            .expect("send the upgrade");
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            within("upgrade", stream.read_exact(&mut byte))
                .await
                .expect("read the upgrade");
            head.push(byte[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&head)
        );
        let (read, write) = stream.into_split();
        RawWs { read, write }
    }

    /// Sends one binary message.
    async fn send(write: &mut OwnedWriteHalf, payload: &[u8]) -> std::io::Result<()> {
        let mut header = vec![0x82u8];
        match payload.len() {
            len @ 0..=125 => header.push(0x80 | len as u8),
            len @ 126..=0xffff => {
                header.push(0x80 | 126);
                header.extend((len as u16).to_be_bytes());
            }
            len => {
                header.push(0x80 | 127);
                header.extend((len as u64).to_be_bytes());
            }
        }
        header.extend([0, 0, 0, 0]);
        write.write_all(&header).await?;
        write.write_all(payload).await
    }

    /// Reads binary messages until `total` payload bytes came, checking
    /// they are `+OK` replies.
    async fn expect_ok(read: &mut OwnedReadHalf, total: u64) {
        let mut seen = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        while seen < total {
            let mut head = [0u8; 2];
            read.read_exact(&mut head).await.expect("a frame");
            let len = match head[1] & 0x7f {
                126 => u64::from(read.read_u16().await.expect("a length")),
                127 => read.read_u64().await.expect("a length"),
                len => u64::from(len),
            };
            assert_eq!(head[0] & 0x0f, 2, "a binary message");
            let mut left = len;
            while left > 0 {
                let take = left.min(buf.len() as u64) as usize;
                read.read_exact(&mut buf[..take]).await.expect("a payload");
                // Replies are `+OK\r\n`, 5 bytes each, in any split.
                for (i, byte) in buf[..take].iter().enumerate() {
                    let at = (seen + (len - left) + i as u64) % 5;
                    assert_eq!(*byte, b"+OK\r\n"[at as usize], "a reply that is not +OK");
                }
                left -= take as u64;
            }
            seen += len;
        }
        assert_eq!(seen, total);
    }
}

/// Samples the bridge's RSS until stopped; returns the highest.
fn sample_rss(bridge: &Bridge, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    let pid = bridge.pid();
    let peak = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            peak.fetch_max(rss_of(pid), Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        peak.load(Ordering::Relaxed)
    })
}

fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

#[tokio::test]
async fn the_attribute_flood_is_refused_at_once() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let idle = bridge.rss();
    let mut ws = connect(&bridge.url("/")).await;
    // An attribute map of 2^63 pairs, then pair after pair of nulls: a
    // decoder that keeps them grows without end.
    let mut flood = b"|9223372036854775807\r\n".to_vec();
    flood.extend(b"_\r\n".repeat(MIB / 3));
    send(&mut ws, &flood).await;
    assert_eq!(
        closed_with(&mut ws).await,
        (1008, "only RESP arrays of bulk strings are accepted".into())
    );
    for other in [
        &b"%1\r\n+a\r\n+b\r\n"[..],
        b">2\r\n",
        b"~1\r\n",
        b"_\r\n",
        b"#t\r\n",
    ] {
        let mut ws = connect(&bridge.url("/")).await;
        send(&mut ws, other).await;
        assert_eq!(closed_with(&mut ws).await.0, 1008, "{other:?}");
    }
    let after = bridge.rss();
    assert!(
        after < idle + bound(MIB),
        "RSS {idle} before, {after} after"
    );
}

/// Sends `SET big <64 MiB>` in messages of at most `max_message` bytes
/// (the bridge's `--max-message-size`); returns the bridge's idle and peak RSS.
async fn set_64_mib(max_message: usize) -> (u64, u64) {
    let redis = RedisServer::start();
    let max_message_flag = max_message.to_string();
    let bridge = Bridge::with_redis(
        &redis,
        &[
            "--max-bulk-len",
            "134217728",
            "--max-message-size",
            &max_message_flag,
        ],
    );
    let mut ws = RawWs::connect(&bridge).await;
    let idle = bridge.rss();
    let stop = Arc::new(AtomicBool::new(false));
    let peak = sample_rss(&bridge, Arc::clone(&stop));

    let size = 64 * MIB;
    let mut message = format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${size}\r\n").into_bytes();
    let chunk = vec![b'x'; MIB];
    let mut sent = 0;
    while sent < size {
        let take = (max_message - 2 - message.len())
            .min(size - sent)
            .min(chunk.len());
        message.extend_from_slice(&chunk[..take]);
        sent += take;
        if sent == size {
            message.extend_from_slice(b"\r\n");
        }
        if message.len() + 2 >= max_message || sent == size {
            within("send", RawWs::send(&mut ws.write, &message))
                .await
                .expect("send");
            message.clear();
        }
    }
    within("the reply", RawWs::expect_ok(&mut ws.read, 5)).await;
    stop.store(true, Ordering::Relaxed);
    let peak = peak.await.expect("the sampler");
    assert_eq!(
        redis.call(&["STRLEN", "big"]).await,
        resp::Frame::Integer(size as i64)
    );
    eprintln!(
        "64 MiB argument in messages of {} KiB: bridge RSS {} KiB idle, {} KiB at most",
        max_message >> 10,
        idle >> 10,
        peak >> 10
    );
    (idle, peak)
}

#[tokio::test]
async fn a_64_mib_argument_streams_through() {
    // As the client sends it (in pieces), and as one message.
    for max_message in [MIB, 65 * MIB] {
        let (idle, peak) = set_64_mib(max_message).await;
        assert!(
            peak < idle + bound(max_message),
            "peak RSS {peak}, idle {idle}"
        );
    }
}

#[tokio::test]
async fn a_gib_of_small_commands_keeps_memory_flat() {
    let redis = RedisServer::start();
    let max_message = MIB;
    let bridge = Bridge::with_redis(&redis, &["--max-message-size", "1048576"]);
    let ws = RawWs::connect(&bridge).await;
    let idle = bridge.rss();
    let stop = Arc::new(AtomicBool::new(false));
    let peak = sample_rss(&bridge, Arc::clone(&stop));

    // 1 KiB SETs, as many as fit in a 1 MiB message, 1024 messages.
    let set = command(&["SET", "k", &"v".repeat(1024 - 28)]);
    assert_eq!(set.len(), 1024);
    let message = set.repeat(max_message / set.len());
    let messages = 1024u64;
    let replies = messages * (max_message / set.len()) as u64;
    let started = Instant::now();
    let RawWs {
        mut read,
        mut write,
    } = ws;
    let reader = tokio::spawn(async move { RawWs::expect_ok(&mut read, 5 * replies).await });
    for _ in 0..messages {
        within("send", RawWs::send(&mut write, &message))
            .await
            .expect("send");
    }
    tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("all replies within a minute")
        .expect("the reader");
    stop.store(true, Ordering::Relaxed);
    let peak = peak.await.expect("the sampler");
    eprintln!(
        "1 GiB of 1 KiB SETs in {:.1} s: bridge RSS {} KiB idle, {} KiB at most",
        started.elapsed().as_secs_f64(),
        idle >> 10,
        peak >> 10
    );
    assert!(
        peak < idle + bound(max_message),
        "peak RSS {peak}, idle {idle}"
    );
}
