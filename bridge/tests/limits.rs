//! Limits: connection counts, idle and handshake timeouts, and memory that
//! stays bounded when a browser stops reading.

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use resp::Frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
const PONG: &[u8] = b"+PONG\r\n";

async fn connect_from(url: &str, from: [u8; 4]) -> Result<Ws, u16> {
    let handshake = Handshake {
        from: Some(IpAddr::from(from)),
        ..Handshake::default()
    };
    match handshake.connect(url).await {
        Ok((ws, _)) => Ok(ws),
        Err(error) => Err(refused_status(error).as_u16()),
    }
}

#[tokio::test]
async fn too_many_connections_are_refused_with_503() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &["--max-connections", "2"]);

    let mut first = connect(&bridge.url("/")).await;
    let _second = connect(&bridge.url("/")).await;
    let error = try_connect(&bridge.url("/"), None)
        .await
        .expect_err("third refused");
    assert_eq!(refused_status(error), 503);

    // A closed WebSocket gives its place back.
    round_trip(&mut first, PING, PONG).await;
    drop(first);
    let deadline = Instant::now() + TIMEOUT;
    let mut ws = loop {
        match try_connect(&bridge.url("/"), None).await {
            Ok(ws) => break ws,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(error) => panic!("the place was not given back: {error}"),
        }
    };
    round_trip(&mut ws, PING, PONG).await;
}

#[tokio::test]
async fn too_many_connections_from_one_address_are_refused_with_429() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(
        &redis,
        &["--max-connections", "3", "--max-connections-per-ip", "2"],
    );
    let url = bridge.url("/");

    let _a1 = connect_from(&url, [127, 0, 0, 1]).await.expect("first");
    let _a2 = connect_from(&url, [127, 0, 0, 1]).await.expect("second");
    assert_eq!(connect_from(&url, [127, 0, 0, 1]).await.err(), Some(429));
    let mut b1 = connect_from(&url, [127, 0, 0, 2])
        .await
        .expect("other address");
    round_trip(&mut b1, PING, PONG).await;
    assert_eq!(connect_from(&url, [127, 0, 0, 3]).await.err(), Some(503));
}

#[tokio::test]
async fn silent_websocket_closes_with_1001_and_live_one_stays() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &["--idle-timeout", "1s"]);

    // This client keeps reading, so it answers the bridge's pings.
    let mut live = connect(&bridge.url("/")).await;
    let mut silent = connect(&bridge.url("/")).await;
    let opened = Instant::now();
    let mut pings = 0;
    while opened.elapsed() < Duration::from_millis(2500) {
        match tokio::time::timeout(Duration::from_millis(100), live.next()).await {
            Err(_) => {}
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(other) => panic!("the live WebSocket got {other:?}"),
        }
    }
    assert!(pings >= 3, "a ping every half idle timeout, got {pings}");
    round_trip(&mut live, PING, PONG).await;

    // The silent one never read, so never answered a ping.
    assert_eq!(
        closed_with(&mut silent).await,
        (1001, "idle timeout".into())
    );
}

#[tokio::test]
async fn handshake_must_finish_within_the_timeout() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &["--handshake-timeout", "500ms"]);

    for sent in [&b""[..], b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"] {
        let started = Instant::now();
        let mut stream = TcpStream::connect(bridge.addr).await.expect("connect");
        stream.write_all(sent).await.expect("send");
        let mut rest = Vec::new();
        within(
            "the bridge drops the connection",
            stream.read_to_end(&mut rest),
        )
        .await
        .expect("read until closed");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(450) && took < Duration::from_secs(5),
            "dropped after {took:?}"
        );
    }

    // A handshake in time is not affected, nor is the WebSocket after it.
    let mut ws = connect(&bridge.url("/")).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    round_trip(&mut ws, PING, PONG).await;
}

/// The documented bound: a bridge with one stalled subscriber stays under
/// this resident size however much is published to it.
const RSS_BOUND: u64 = 32 << 20;

#[tokio::test]
async fn slow_reader_keeps_bridge_memory_bounded() {
    const MESSAGE: usize = 1 << 20;
    const MESSAGES: usize = 100;

    // Redis' default would disconnect the stalled subscriber at 32 MiB; let
    // it hold the whole backlog instead, so that only the bridge can give.
    let redis = RedisServer::start_with(&["--client-output-buffer-limit", "pubsub", "0", "0", "0"]);
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;
    send(&mut ws, &command(&["SUBSCRIBE", "firehose"])).await;
    replies(&mut ws, 1).await;
    let before = bridge.rss();

    // The reader stops reading while 100 MiB are published to it.
    let payload = "x".repeat(MESSAGE);
    let mut publisher = RedisConn::connect(redis.addr).await;
    let publish = command(&["PUBLISH", "firehose", &payload]);
    for _ in 0..MESSAGES {
        publisher.send(&publish).await;
        assert_eq!(publisher.reply().await, Frame::Integer(1));
    }

    // The backlog piles up in Redis, not in the bridge.
    let deadline = Instant::now() + TIMEOUT;
    let mut backlog = redis.omem("pubsub").await;
    while backlog < 50 << 20 {
        assert!(
            Instant::now() < deadline,
            "Redis holds only {backlog} bytes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        backlog = redis.omem("pubsub").await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = bridge.rss();
    eprintln!(
        "bridge RSS {} KiB before, {} KiB with {} MiB published to a stalled reader ({} MiB held by Redis)",
        before >> 10,
        after >> 10,
        (MESSAGE * MESSAGES) >> 20,
        backlog >> 20
    );
    assert!(after < RSS_BOUND, "bridge RSS {after} bytes");

    // Reading again resumes the flow.
    let mut received = 0;
    while received < 4 * MESSAGE {
        match within("resumed messages", ws.next()).await {
            Some(Ok(Message::Binary(data))) => received += data.len(),
            other => panic!("expected binary data, got {other:?}"),
        }
    }
}
