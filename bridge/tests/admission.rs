//! Who may connect: a missing Origin, the own-origin scheme, connections not
//! upgraded yet, trusted proxies and their forwarding headers, tokens over
//! plain text, and the refusal to serve others without tokens.
//!
//! Every socket is on loopback: the bridge listens on 127.0.0.1 (or ::1),
//! clients bind 127.0.0.x to be different addresses, and addresses off
//! loopback only ever appear in forwarding headers.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use common::*;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite;

const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
const PONG: &[u8] = b"+PONG\r\n";
const TOKEN: &str = "web-token-0123456789abcdef";

fn from(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// Opens a WebSocket from `127.0.0.<last>` with extra `headers` (an
/// `Origin` among them replaces the bridge's own); the HTTP status of a
/// refusal otherwise.
async fn open(url: &str, last: u8, headers: &[(&str, &str)]) -> Result<Ws, u16> {
    let origin = headers.iter().find(|(name, _)| *name == "Origin");
    let others: Vec<_> = headers
        .iter()
        .filter(|(name, _)| *name != "Origin")
        .copied()
        .collect();
    let handshake = Handshake {
        from: Some(from(last)),
        origin: origin.map(|(_, value)| *value),
        headers: &others,
        ..Handshake::default()
    };
    match handshake.connect(url).await {
        Ok((ws, _)) => Ok(ws),
        Err(error) => Err(refused_status(error).as_u16()),
    }
}

fn xff(value: &str) -> [(&str, &str); 1] {
    [("X-Forwarded-For", value)]
}

fn fwd(value: &str) -> [(&str, &str); 1] {
    [("Forwarded", value)]
}

/// A Redis server with an ACL user `web` and a tokens file mapping [`TOKEN`] to it.
async fn redis_and_tokens() -> (RedisServer, TempDir, String) {
    let redis = RedisServer::start_protected(&[]);
    let reply = redis
        .call(&[
            "ACL", "SETUSER", "web", "on", ">web-pw", "~*", "&*", "+@all",
        ])
        .await;
    assert_eq!(reply, simple("OK"));
    let dir = TempDir::new(&[]);
    let file = dir.write("tokens.toml", &token_entry(TOKEN, "web", "web-pw"));
    (redis, dir, file)
}

#[tokio::test]
async fn a_missing_origin_is_let_in_only_with_a_valid_token() {
    let without_origin = |protocols| Handshake {
        without_origin: true,
        protocols,
        ..Handshake::default()
    };

    // Without tokens nothing tells a client without Origin from any other.
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let error = without_origin(None)
        .connect(&bridge.url("/"))
        .await
        .expect_err("no origin, no token");
    assert_eq!(refused_status(error), 403);
    let mut page = connect(&bridge.url("/")).await;
    round_trip(&mut page, PING, PONG).await;
    drop(redis);

    // With tokens, the token decides.
    let (redis, _dir, file) = redis_and_tokens().await;
    let bridge = Bridge::with_redis(&redis, &["--tokens", &file]);
    let valid = token_protocols(TOKEN);
    let wrong = token_protocols("not-the-token");
    for protocols in [None, Some("redis-wasm"), Some(wrong.as_str())] {
        let error = without_origin(protocols)
            .connect(&bridge.url("/"))
            .await
            .expect_err("no origin, no valid token");
        assert_eq!(refused_status(error), 401, "{protocols:?}");
    }
    let (mut node, _) = without_origin(Some(&valid))
        .connect(&bridge.url("/"))
        .await
        .expect("no origin, a valid token");
    round_trip(&mut node, PING, PONG).await;
    // A foreign page gets no further for holding a token.
    let foreign = Handshake {
        origin: Some("http://evil.example"),
        protocols: Some(&valid),
        ..Handshake::default()
    };
    let error = foreign
        .connect(&bridge.url("/"))
        .await
        .expect_err("foreign");
    assert_eq!(refused_status(error), 403);
}

#[tokio::test]
async fn the_own_origin_has_the_scheme_actually_served() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &["--trusted-proxy", "127.0.0.2", "--insecure-open"]);
    let url = bridge.url("/");
    let page = |scheme: &str| format!("{scheme}://{}", bridge.addr);
    let origin = |origin| ("Origin", origin);

    // Plain: http:// only.
    let (http, https) = (page("http"), page("https"));
    let (http, https) = (http.as_str(), https.as_str());
    assert!(open(&url, 1, &[origin(http)]).await.is_ok());
    assert_eq!(open(&url, 1, &[origin(https)]).await.err(), Some(403));
    // Through a trusted proxy that terminated TLS: https:// only.
    let tls = ("X-Forwarded-Proto", "https");
    let proxied = ("X-Forwarded-For", "127.0.0.9");
    assert!(open(&url, 2, &[origin(https), proxied, tls]).await.is_ok());
    let forwarded = ("Forwarded", "for=127.0.0.9;proto=https");
    assert!(open(&url, 2, &[origin(https), forwarded]).await.is_ok());
    assert_eq!(
        open(&url, 2, &[origin(http), proxied, tls]).await.err(),
        Some(403)
    );
    assert_eq!(
        open(&url, 2, &[origin(https), proxied]).await.err(),
        Some(403)
    );
    // The same headers from anyone else are not believed.
    assert_eq!(
        open(&url, 3, &[origin(https), proxied, tls]).await.err(),
        Some(403)
    );
    bridge
        .wait_for_log("header from a peer that is not a --trusted-proxy")
        .await;
}

/// Whether the bridge closes `stream` (EOF or reset) within `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(within, stream.read(&mut byte)).await {
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(_)) => panic!("the bridge sent bytes to a client that sent none"),
        Err(_) => false,
    }
}

/// A raw TCP connection from `127.0.0.<last>` that sends nothing.
async fn silent(bridge: SocketAddr, last: u8) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from(last), 0)).expect("bind");
    within("connect", socket.connect(bridge))
        .await
        .expect("connect")
}

#[tokio::test]
async fn connections_not_upgraded_yet_count_in_total_and_per_address() {
    const QUICKLY: Duration = Duration::from_millis(400);
    let redis = RedisServer::start();
    let metrics_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let metrics_flag = metrics_addr.to_string();
    let bridge = Bridge::with_redis(
        &redis,
        &[
            "--max-handshakes",
            "8",
            "--max-handshakes-per-ip",
            "3",
            "--handshake-timeout",
            "1500ms",
            "--trusted-proxy",
            "127.0.0.5",
            "--insecure-open",
            "--metrics",
            &metrics_flag,
        ],
    );
    // An upgraded WebSocket gives its place back at once: four stay open
    // from one address.
    let mut upgraded = Vec::new();
    for _ in 0..4 {
        upgraded.push(open(&bridge.url("/"), 6, &[]).await.expect("upgraded"));
    }
    let started = Instant::now();

    // Three from one address are held; the fourth is closed at once, and so
    // is a WebSocket from there.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(silent(bridge.addr, 2).await);
    }
    let mut excess = silent(bridge.addr, 2).await;
    assert!(
        closed_within(&mut excess, QUICKLY).await,
        "over the per-address cap"
    );
    let handshake = Handshake {
        from: Some(from(2)),
        ..Handshake::default()
    };
    let error = handshake
        .connect(&bridge.url("/"))
        .await
        .expect_err("closed");
    assert!(
        !matches!(error, tungstenite::Error::Http(_)),
        "closed, not answered: {error}"
    );
    // A trusted proxy counts in the total only: four from it are held.
    for _ in 0..4 {
        held.push(silent(bridge.addr, 5).await);
    }
    held.push(silent(bridge.addr, 3).await);
    // Eight held: the total is reached, whoever comes.
    let mut excess = silent(bridge.addr, 4).await;
    assert!(
        closed_within(&mut excess, QUICKLY).await,
        "over the total cap"
    );
    for stream in &mut held {
        assert!(
            !closed_within(stream, Duration::from_millis(10)).await,
            "held"
        );
    }

    // The held ones time out, and their places come back.
    for stream in &mut held {
        assert!(closed_within(stream, TIMEOUT).await, "timed out");
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1400),
        "timed out after {took:?}"
    );
    let mut ws = open(&bridge.url("/"), 2, &[]).await.expect("a place again");
    round_trip(&mut ws, PING, PONG).await;
    for ws in &mut upgraded {
        round_trip(ws, PING, PONG).await;
    }

    let (_, metrics) = http_get(metrics_addr, "/metrics").await;
    for line in [
        "redis_ws_bridge_refused_total{reason=\"max_handshakes\"} 1\n",
        "redis_ws_bridge_refused_total{reason=\"max_handshakes_per_ip\"} 2\n",
        "redis_ws_bridge_refused_total{reason=\"handshake_timeout\"} 8\n",
    ] {
        assert!(metrics.contains(line), "no {line:?} in\n{metrics}");
    }
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_and_an_ipv6_client_is_its_64() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(
        &redis,
        &[
            "--trusted-proxy",
            "127.0.0.2",
            "--trusted-proxy",
            "10.0.0.0/8",
            "--max-connections-per-ip",
            "2",
            "--insecure-open",
        ],
    );
    let url = bridge.url("/");

    // Clients behind the proxy are counted apart: 192.0.2.1 has two, and a
    // client's own X-Forwarded-For does not make it someone else.
    let mut open_ones = Vec::new();
    for headers in [xff("192.0.2.1"), xff("198.51.100.7, 192.0.2.1, 10.1.2.3")] {
        open_ones.push(open(&url, 2, &headers).await.expect("under the limit"));
    }
    assert_eq!(open(&url, 2, &fwd("for=192.0.2.1")).await.err(), Some(429));
    open_ones.push(
        open(&url, 2, &xff("192.0.2.2"))
            .await
            .expect("another client"),
    );
    // IPv6 clients count by /64.
    for host in ["2001:db8::1", "2001:db8::ffff:2"] {
        let value = format!("for=\"[{host}]:4711\"");
        open_ones.push(open(&url, 2, &fwd(&value)).await.expect(host));
    }
    let same_64 = fwd("for=\"[2001:db8::3]\"");
    assert_eq!(open(&url, 2, &same_64).await.err(), Some(429));
    let next_64 = fwd("for=\"[2001:db8:0:1::1]\"");
    open_ones.push(open(&url, 2, &next_64).await.expect("another /64"));
    for ws in &mut open_ones {
        round_trip(ws, PING, PONG).await;
    }

    // What cannot be read, or two headers that disagree: 400.
    for headers in [
        &xff("unknown")[..],
        &xff("192.0.2.1, _hidden"),
        &fwd("for=\"[2001:db8::1"),
        &[
            ("Forwarded", "for=192.0.2.5"),
            ("X-Forwarded-For", "192.0.2.6"),
        ],
    ] {
        assert_eq!(open(&url, 2, headers).await.err(), Some(400), "{headers:?}");
    }
    // From an untrusted peer, forwarding headers are refused, loudly
    // without tokens.
    assert_eq!(open(&url, 3, &xff("192.0.2.9")).await.err(), Some(403));
    let line = bridge.wait_for_log("anyone who can reach the proxy").await;
    assert!(line.contains("ERROR"), "{line}");
}

#[tokio::test]
async fn an_ipv6_peer_counts_as_its_64() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(
        &redis,
        &["--listen", "[::1]:0", "--max-connections-per-ip", "1"],
    );
    let mut first = connect(&bridge.url("/")).await;
    round_trip(&mut first, PING, PONG).await;
    let error = try_connect(&bridge.url("/"), None)
        .await
        .expect_err("same /64");
    assert_eq!(refused_status(error), 429);
}

#[tokio::test]
async fn tokens_travel_only_over_tls_or_on_loopback() {
    let (redis, _dir, file) = redis_and_tokens().await;
    let bridge = Bridge::with_redis(&redis, &["--tokens", &file, "--trusted-proxy", "127.0.0.2"]);
    let url = bridge.url("/");
    let protocols = token_protocols(TOKEN);
    let with_token = |last: u8, headers: &'static [(&'static str, &'static str)]| {
        let handshake = Handshake {
            protocols: Some(&protocols),
            without_origin: true,
            from: Some(from(last)),
            headers,
            ..Handshake::default()
        };
        let url = url.clone();
        async move {
            match handshake.connect(&url).await {
                Ok((mut ws, _)) => {
                    round_trip(&mut ws, PING, PONG).await;
                    Ok(())
                }
                Err(error) => Err(refused_status(error).as_u16()),
            }
        }
    };

    // On loopback, directly or through the proxy.
    assert_eq!(with_token(1, &[]).await, Ok(()));
    assert_eq!(
        with_token(2, &[("X-Forwarded-For", "127.0.0.1")]).await,
        Ok(())
    );
    // Off loopback: only if the client reached the proxy over TLS.
    let plain = &[
        ("X-Forwarded-For", "192.0.2.1"),
        ("X-Forwarded-Proto", "http"),
    ];
    assert_eq!(with_token(2, plain).await, Err(403));
    assert_eq!(
        with_token(2, &[("Forwarded", "for=192.0.2.1")]).await,
        Err(403)
    );
    let tls = &[
        ("X-Forwarded-For", "192.0.2.1"),
        ("X-Forwarded-Proto", "https"),
    ];
    assert_eq!(with_token(2, tls).await, Ok(()));
    let tls = &[("Forwarded", "for=192.0.2.1;proto=https")];
    assert_eq!(with_token(2, tls).await, Ok(()));
    bridge
        .wait_for_log("tokens travel only over TLS or on loopback")
        .await;
}

#[tokio::test]
async fn refuses_to_serve_others_without_tokens() {
    for flags in [
        &["--allow-host", "bridge.example"][..],
        &["--allow-host", "10.1.2.3:7379"],
        &["--allow-origin", "https://app.example"],
        &["--trusted-proxy", "127.0.0.1"],
        &["--listen", "[::]:0"],
    ] {
        let mut args = flags.to_vec();
        if !args.contains(&"--listen") {
            args.extend(["--listen", "127.0.0.1:0"]);
        }
        let stderr = refused_at_start(&args);
        assert!(
            stderr.contains(flags[0])
                && stderr.contains("--tokens")
                && stderr.contains("--insecure-open"),
            "{flags:?}: {stderr}"
        );
    }

    // This machine's own names and origins are fine; so is an explicit
    // --insecure-open, or tokens.
    let redis = RedisServer::start();
    let local = [
        "--allow-host",
        "localhost:7379",
        "--allow-host",
        "127.0.0.1:7379",
        "--allow-origin",
        "http://127.0.0.1:8080",
        "--allow-origin",
        "http://app.localhost:5173",
    ];
    drop(Bridge::with_redis(&redis, &local));
    drop(Bridge::with_redis(
        &redis,
        &["--allow-host", "bridge.example", "--insecure-open"],
    ));
    let (redis, _dir, file) = redis_and_tokens().await;
    drop(Bridge::with_redis(
        &redis,
        &["--trusted-proxy", "10.0.0.0/8", "--tokens", &file],
    ));
}
