//! End-to-end tests: a real redis-server, the real bridge binary, and a
//! WebSocket client sending RESP in binary frames.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
const PONG: &[u8] = b"+PONG\r\n";

/// `count` INCR commands and the replies Redis sends for them, in order.
fn incr_pipeline(count: usize) -> (Vec<u8>, Vec<u8>) {
    let command = command(&["INCR", "counter"]);
    let requests = command.repeat(count);
    let replies = (1..=count).map(|n| format!(":{n}\r\n")).collect::<String>();
    (requests, replies.into_bytes())
}

#[tokio::test]
async fn set_then_get() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;

    round_trip(&mut ws, &command(&["SET", "greeting", "hello"]), b"+OK\r\n").await;
    round_trip(&mut ws, &command(&["GET", "greeting"]), b"$5\r\nhello\r\n").await;
}

#[tokio::test]
async fn ws_path_is_an_alias() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/ws")).await;

    round_trip(&mut ws, PING, PONG).await;
}

#[tokio::test]
async fn pipeline_in_one_message() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;

    let (requests, replies) = incr_pipeline(500);
    round_trip(&mut ws, &requests, &replies).await;
}

#[tokio::test]
async fn commands_split_across_messages() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;

    // One command cut in the middle of an argument.
    let set = command(&["SET", "key", "value"]);
    let (head, tail) = set.split_at(set.len() / 2);
    send(&mut ws, head).await;
    send(&mut ws, tail).await;
    let (reply, _) = receive(&mut ws, 5).await;
    assert_eq!(reply, b"+OK\r\n");

    // A pipeline cut every 7 bytes, so cuts land everywhere in the framing.
    let (requests, replies) = incr_pipeline(100);
    for chunk in requests.chunks(7) {
        send(&mut ws, chunk).await;
    }
    let (got, _) = receive(&mut ws, replies.len()).await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&replies)
    );
}

#[tokio::test]
async fn large_reply_arrives_whole() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;

    // Up to 2 MiB, a bulk reply comes in one message, however many reads it
    // took; a larger one comes read by read.
    for (len, whole) in [(1 << 20, true), (3 << 20, false)] {
        let value = "x".repeat(len);
        round_trip(&mut ws, &command(&["SET", "big", &value]), b"+OK\r\n").await;
        send(&mut ws, &command(&["GET", "big"])).await;
        let expected = format!("${}\r\n{value}\r\n", value.len());
        let (got, messages) = receive(&mut ws, expected.len()).await;
        assert!(
            got == expected.as_bytes(),
            "GET of {len} bytes returned other bytes"
        );
        match whole {
            true => assert_eq!(messages, 1, "{len} bytes in one message"),
            false => assert!(messages > 1, "{len} bytes span several 64 KiB reads"),
        }
    }
}

#[tokio::test]
async fn foreign_origin_is_refused_with_403() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &["--allow-origin", "http://127.0.0.1:8080"]);

    for origin in ["http://evil.example", "http://127.0.0.1:8080/", "null"] {
        let error = try_connect(&bridge.url("/"), Some(origin))
            .await
            .err()
            .unwrap_or_else(|| panic!("origin {origin} was let in"));
        assert_eq!(refused_status(error), 403, "origin {origin}");
    }
    // The refused handshakes never reached Redis.
    redis.wait_for_clients(1 + BRIDGE_OWN).await;
}

#[tokio::test]
async fn allowed_and_own_origins_connect() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(
        &redis,
        &[
            "--allow-origin",
            "http://127.0.0.1:8080",
            "--allow-origin",
            "http://localhost:8080",
        ],
    );
    let own = format!("http://{}", bridge.addr);

    for origin in [
        Some("http://127.0.0.1:8080"),
        Some("http://localhost:8080"),
        Some(own.as_str()),
    ] {
        let mut ws = try_connect(&bridge.url("/"), origin)
            .await
            .unwrap_or_else(|error| panic!("origin {origin:?} refused: {error}"));
        round_trip(&mut ws, PING, PONG).await;
    }
}

#[tokio::test]
async fn text_frame_closes_with_1003() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;

    within("send text", ws.send(Message::text("PING\r\n")))
        .await
        .expect("send text");
    assert_eq!(
        closed_with(&mut ws).await,
        (1003, "binary frames only".into())
    );
}

#[tokio::test]
async fn oversized_message_closes_with_1009() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &["--max-message-size", "1024"]);
    let mut ws = connect(&bridge.url("/")).await;

    round_trip(&mut ws, PING, PONG).await;
    send(&mut ws, &command(&["SET", "key", &"x".repeat(2048)])).await;
    assert_eq!(closed_with(&mut ws).await, (1009, "message too big".into()));
}

#[tokio::test]
async fn redis_going_away_closes_with_1011() {
    let mut redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;
    round_trip(&mut ws, PING, PONG).await;

    redis.kill();
    assert_eq!(
        closed_with(&mut ws).await,
        (1011, "redis connection closed".into())
    );
}

#[tokio::test]
async fn unreachable_redis_closes_with_1011() {
    let mut redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    redis.kill();

    let mut ws = connect(&bridge.url("/")).await;
    assert_eq!(
        closed_with(&mut ws).await,
        (1011, "redis unavailable".into())
    );
}

#[tokio::test]
async fn closing_the_websocket_closes_the_redis_connection() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    redis.wait_for_clients(1 + BRIDGE_OWN).await;

    // A clean close handshake.
    let mut ws = connect(&bridge.url("/")).await;
    round_trip(&mut ws, PING, PONG).await;
    redis.wait_for_clients(2 + BRIDGE_OWN).await;
    within("close", ws.close(None)).await.expect("close");
    while within("close reply", ws.next()).await.is_some() {}
    redis.wait_for_clients(1 + BRIDGE_OWN).await;

    // A client that vanishes without a close frame.
    let mut ws = connect(&bridge.url("/")).await;
    round_trip(&mut ws, PING, PONG).await;
    redis.wait_for_clients(2 + BRIDGE_OWN).await;
    drop(ws);
    redis.wait_for_clients(1 + BRIDGE_OWN).await;
}

#[tokio::test]
async fn static_files_and_websocket_share_the_root() {
    let redis = RedisServer::start();
    let files = TempDir::new(&[
        ("index.html", "<h1>bridge test</h1>"),
        ("app.js", "let x = 1;"),
    ]);
    let static_dir = files.path.to_str().expect("UTF-8 temp path");
    let bridge = Bridge::with_redis(&redis, &["--static", static_dir]);

    assert_eq!(
        http_get(bridge.addr, "/").await,
        (200, "<h1>bridge test</h1>".into())
    );
    assert_eq!(
        http_get(bridge.addr, "/app.js").await,
        (200, "let x = 1;".into())
    );
    assert_eq!(http_get(bridge.addr, "/missing.txt").await.0, 404);

    let mut ws = connect(&bridge.url("/")).await;
    round_trip(&mut ws, PING, PONG).await;
}

#[tokio::test]
async fn sigterm_closes_websockets_with_1001_and_exits() {
    let redis = RedisServer::start();
    let mut bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;
    round_trip(&mut ws, PING, PONG).await;

    let (status, close) = tokio::join!(bridge.terminate(), closed_with(&mut ws));
    assert_eq!(close, (1001, "server shutting down".into()));
    assert!(status.success(), "bridge exited with {status}");
    redis.wait_for_clients(1).await;
}

#[test]
fn help_documents_every_flag() {
    let (status, help, _) = run_to_exit(&["--help"]);
    assert!(status.success());
    for flag in [
        "--listen",
        "--redis",
        "--allow-origin",
        "--allow-host",
        "--tokens",
        "--insecure-open",
        "--profile",
        "--allow-category",
        "--deny-category",
        "--deny-command",
        "--allow-command",
        "--allow-scripting",
        "--allow-select",
        "--insecure-default-user",
        "--static",
        "--max-message-size",
        "--max-bulk-len",
        "--max-connections",
        "--max-connections-per-ip",
        "--handshake-timeout",
        "--idle-timeout",
        "--tls-cert",
        "--tls-key",
        "--metrics",
        "--max-session",
        "--trusted-proxy",
        "--max-handshakes",
        "--max-handshakes-per-ip",
    ] {
        let env = format!(
            "REDIS_WS_BRIDGE_{}",
            flag[2..].replace('-', "_").to_uppercase()
        );
        assert!(help.contains(&env), "--help lacks {env}");
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    use redis_ws_bridge::policy::rules::{TRUSTED_DENIED, WEB_DENIED_COMMANDS};
    for list in [WEB_DENIED_COMMANDS, TRUSTED_DENIED] {
        let list = list.join(", ");
        assert!(help.contains(&list), "--help lacks the profile list {list}");
    }
    assert!(help.contains("acl-setup"), "--help lacks acl-setup");
}

#[test]
fn origin_with_a_path_is_rejected_at_start() {
    refused_at_start(&[
        "--listen",
        "127.0.0.1:0",
        "--allow-origin",
        "http://127.0.0.1:8080/",
    ]);
}
