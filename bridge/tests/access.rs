//! Who may open a WebSocket: Host, Origin and token checks, tokens mapped to
//! Redis ACL users (created here with `ACL SETUSER`, on a Redis whose
//! default user is off, as token mode wants), SIGHUP reloads, and the
//! refusal to expose Redis without tokens.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use resp::Frame;

const ALICE: &str = "alice-token-0123456789abcdef";
const BOB: &str = "bob-token-0123456789abcdef/+=";

fn tokens_file(dir: &TempDir, entries: &[(&str, &str)]) -> String {
    let contents: String = entries
        .iter()
        .map(|(token, user)| token_entry(token, user, &format!("{user}-pw")))
        .collect();
    dir.write("tokens.toml", &contents)
}

async fn whoami(ws: &mut Ws) -> Frame {
    send(ws, &command(&["ACL", "WHOAMI"])).await;
    replies(ws, 1).await.remove(0)
}

async fn metrics(addr: SocketAddr) -> String {
    let (status, body) = http_get(addr, "/metrics").await;
    assert_eq!(status, 200);
    body
}

#[tokio::test]
async fn host_not_served_is_refused_with_403() {
    let redis = RedisServer::start();
    let files = TempDir::new(&[("index.html", "hi")]);
    let dir = files.path.to_str().expect("UTF-8 path");
    let bridge = Bridge::with_redis(&redis, &["--static", dir]);
    let port = bridge.addr.port();

    for host in [
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        bridge.addr.to_string(),
    ] {
        let handshake = Handshake {
            host: Some(&host),
            ..Handshake::default()
        };
        let (mut ws, _) = handshake.connect(&bridge.url("/")).await.expect(&host);
        round_trip(&mut ws, &command(&["PING"]), b"+PONG\r\n").await;
    }
    for host in [format!("rebound.example:{port}"), "127.0.0.1:1".into()] {
        let handshake = Handshake {
            host: Some(&host),
            origin: Some("http://rebound.example"),
            ..Handshake::default()
        };
        let error = handshake.connect(&bridge.url("/")).await.expect_err(&host);
        assert_eq!(refused_status(error), 403, "{host}");
        assert_eq!(http_get_from_host(bridge.addr, "/", &host).await.0, 403);
    }
    // Probes need not know the public name.
    let (status, _) = http_get_from_host(bridge.addr, "/readyz", "10.9.8.7:1").await;
    assert_eq!(status, 200);
    redis.wait_for_clients(1 + BRIDGE_OWN).await;
}

#[tokio::test]
async fn allow_host_replaces_the_local_default() {
    let redis = RedisServer::start();
    // A host that is not this machine's needs tokens, or --insecure-open.
    let bridge = Bridge::with_redis(
        &redis,
        &["--allow-host", "Bridge.Example", "--insecure-open"],
    );

    let ok = Handshake {
        host: Some("bridge.example"),
        ..Handshake::default()
    };
    let (mut ws, _) = ok.connect(&bridge.url("/")).await.expect("listed host");
    round_trip(&mut ws, &command(&["PING"]), b"+PONG\r\n").await;

    let error = try_connect(&bridge.url("/"), None)
        .await
        .expect_err("IP host refused");
    assert_eq!(refused_status(error), 403);
}

#[tokio::test]
async fn tokens_map_to_their_acl_users() {
    let redis = RedisServer::with_users(&["alice", "bob"]).await;
    let dir = TempDir::new(&[]);
    let file = tokens_file(&dir, &[(ALICE, "alice"), (BOB, "bob")]);
    let bridge = Bridge::with_redis(
        &redis,
        &["--tokens", &file, "--allow-command", "ACL|WHOAMI"],
    );

    let protocols = token_protocols(ALICE);
    let handshake = Handshake {
        protocols: Some(&protocols),
        ..Handshake::default()
    };
    let (mut alice, response) = handshake.connect(&bridge.url("/")).await.expect("alice");
    let chosen = response.headers().get("Sec-WebSocket-Protocol");
    assert_eq!(
        chosen.map(|v| v.as_bytes()),
        Some(&b"redis-wasm"[..]),
        "never the token"
    );
    assert_eq!(whoami(&mut alice).await, bulk("alice"));

    let mut bob = connect_with_token(&bridge.url("/ws"), BOB).await;
    assert_eq!(whoami(&mut bob).await, bulk("bob"));
}

#[tokio::test]
async fn missing_or_wrong_token_is_refused_with_401() {
    let redis = RedisServer::with_users(&["alice", "bob"]).await;
    let dir = TempDir::new(&[]);
    let file = tokens_file(&dir, &[(ALICE, "alice")]);
    let bridge = Bridge::with_redis(&redis, &["--tokens", &file]);

    let wrong = token_protocols("alice-token");
    let query = format!("{}?token={ALICE}", bridge.url("/"));
    for (url, protocols) in [
        (bridge.url("/"), None),
        (bridge.url("/"), Some("redis-wasm")),
        (bridge.url("/"), Some(wrong.as_str())),
        (bridge.url("/"), Some("redis-wasm, redis-wasm.token.!!!")),
        // A token in the query string is ignored.
        (query.clone(), Some("redis-wasm")),
        (query, None),
    ] {
        let handshake = Handshake {
            protocols,
            ..Handshake::default()
        };
        let error = handshake.connect(&url).await.expect_err("refused");
        assert_eq!(refused_status(error), 401, "{url} {protocols:?}");
    }
    redis.wait_for_clients(1 + BRIDGE_OWN).await;
}

#[tokio::test]
async fn browser_auth_is_refused_in_its_place() {
    let redis = RedisServer::with_users(&["alice", "bob"]).await;
    let dir = TempDir::new(&[]);
    let file = tokens_file(&dir, &[(ALICE, "alice")]);
    let bridge = Bridge::with_redis(
        &redis,
        &["--tokens", &file, "--allow-command", "ACL|WHOAMI"],
    );
    let mut ws = connect_with_token(&bridge.url("/"), ALICE).await;

    let pipeline: Vec<u8> = [
        command(&["PING"]),
        command(&["AUTH", "bob", "bob-pw"]),
        command(&["HELLO", "2", "AUTH", "bob", "bob-pw"]),
        command(&["RESET"]),
        command(&["ACL", "WHOAMI"]),
    ]
    .concat();
    send(&mut ws, &pipeline).await;
    let got = replies(&mut ws, 5).await;
    assert_eq!(got[0], simple("PONG"));
    for (reply, name) in got[1..4].iter().zip(["AUTH", "HELLO", "RESET"]) {
        let text = error_text(reply);
        let expected =
            format!("'{name}: not allowed, redis-ws-bridge authenticates this connection'");
        assert!(text.contains(&expected), "{text}");
    }
    assert_eq!(got[4], bulk("alice"));
}

#[tokio::test]
async fn failed_redis_login_closes_with_1011_before_relaying() {
    let redis = RedisServer::with_users(&["alice", "bob"]).await;
    let dir = TempDir::new(&[]);
    // Bob's token reads the command table; Alice's password is wrong.
    let entries = [
        token_entry(ALICE, "alice", "not-her-password"),
        token_entry(BOB, "bob", "bob-pw"),
    ];
    let file = dir.write("tokens.toml", &entries.concat());
    let bridge = Bridge::with_redis(&redis, &["--tokens", &file]);

    let mut ws = connect_with_token(&bridge.url("/"), ALICE).await;
    send(&mut ws, &command(&["SET", "leaked", "1"])).await;
    assert_eq!(
        closed_with(&mut ws).await,
        (1011, "redis authentication failed".into())
    );
    assert_eq!(redis.call(&["EXISTS", "leaked"]).await, Frame::Integer(0));
}

#[tokio::test]
async fn without_tokens_the_protocol_is_echoed_and_auth_relayed() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);

    let protocols = token_protocols("ignored");
    let handshake = Handshake {
        protocols: Some(&protocols),
        ..Handshake::default()
    };
    let (mut ws, response) = handshake.connect(&bridge.url("/")).await.expect("connects");
    let chosen = response.headers().get("Sec-WebSocket-Protocol");
    assert_eq!(chosen.map(|v| v.as_bytes()), Some(&b"redis-wasm"[..]));
    // Redis itself answers the browser's AUTH.
    send(&mut ws, &command(&["AUTH", "secret"])).await;
    let text = error_text(&replies(&mut ws, 1).await[0]);
    assert!(text.contains("without any password configured"), "{text}");
}

#[tokio::test]
async fn sighup_reloads_tokens_and_keeps_them_on_a_bad_file() {
    let redis = RedisServer::with_users(&["alice", "bob"]).await;
    let dir = TempDir::new(&[]);
    let file = tokens_file(&dir, &[(ALICE, "alice")]);
    let metrics_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let metrics_flag = metrics_addr.to_string();
    let bridge = Bridge::with_redis(&redis, &["--tokens", &file, "--metrics", &metrics_flag]);
    let open = connect_with_token(&bridge.url("/"), ALICE).await;

    tokens_file(&dir, &[(BOB, "bob")]);
    bridge.signal("HUP");
    let deadline = Instant::now() + TIMEOUT;
    let protocols = token_protocols(BOB);
    let bob = Handshake {
        protocols: Some(&protocols),
        ..Handshake::default()
    };
    while bob.connect(&bridge.url("/")).await.is_err() {
        assert!(Instant::now() < deadline, "the new token never worked");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let protocols = token_protocols(ALICE);
    let alice = Handshake {
        protocols: Some(&protocols),
        ..Handshake::default()
    };
    let error = alice
        .connect(&bridge.url("/"))
        .await
        .expect_err("removed token");
    assert_eq!(refused_status(error), 401);
    drop(open);

    // A broken file leaves the table as it was.
    dir.write("tokens.toml", "[[token]]\ntoken = \"half an entry\"\n");
    bridge.signal("HUP");
    let expected = "redis_ws_bridge_errors_total{kind=\"tokens_reload\"} 1";
    while !metrics(metrics_addr).await.contains(expected) {
        assert!(Instant::now() < deadline, "the bad reload was not counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bob.connect(&bridge.url("/")).await.expect("bob still in");
}

#[tokio::test]
async fn readyz_logs_in_as_the_first_tokens_user() {
    let redis = RedisServer::with_users(&["alice", "bob"]).await;
    let dir = TempDir::new(&[]);
    let file = tokens_file(&dir, &[(ALICE, "alice")]);
    let bridge = Bridge::with_redis(&redis, &["--tokens", &file]);

    assert_eq!(
        redis.call(&["ACL", "SETUSER", "default", "off"]).await,
        simple("OK")
    );
    assert_eq!(http_get(bridge.addr, "/readyz").await, (200, "ok".into()));
}

#[tokio::test]
async fn readyz_logs_in_as_the_url_user_when_it_names_one() {
    let redis = RedisServer::with_users(&["alice"]).await;
    let setuser = [
        "ACL",
        "SETUSER",
        "prober",
        "on",
        ">prober-pw",
        "-@all",
        "+ping",
    ];
    assert_eq!(
        redis
            .call(&[&setuser[..], &["+command|info"]].concat())
            .await,
        simple("OK")
    );
    let dir = TempDir::new(&[]);
    let file = tokens_file(&dir, &[(ALICE, "alice")]);
    let url = format!("redis://prober:prober-pw@{}", redis.addr);
    let bridge = Bridge::start(&["--redis", &url, "--tokens", &file]);

    // Not the token's user: with alice off, the probe still passes...
    assert_eq!(
        redis.call(&["ACL", "SETUSER", "alice", "off"]).await,
        simple("OK")
    );
    assert_eq!(http_get(bridge.addr, "/readyz").await, (200, "ok".into()));
    // ...and with the URL's user off, once the answer is stale, it fails.
    assert_eq!(
        redis.call(&["ACL", "SETUSER", "prober", "off"]).await,
        simple("OK")
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(http_get(bridge.addr, "/readyz").await.0, 503);
}

#[tokio::test]
async fn non_loopback_listen_needs_tokens_or_insecure_open() {
    let stderr = refused_at_start(&["--listen", "0.0.0.0:0"]);
    assert!(
        stderr.contains("--tokens") && stderr.contains("--insecure-open"),
        "{stderr}"
    );

    let plain = RedisServer::start();
    let open = Bridge::with_redis(&plain, &["--listen", "0.0.0.0:0", "--insecure-open"]);
    assert!(open.addr.ip().is_unspecified());

    let dir = TempDir::new(&[]);
    let file = tokens_file(&dir, &[(ALICE, "alice")]);
    let redis = RedisServer::with_users(&["alice", "bob"]).await;
    let with_tokens = Bridge::with_redis(&redis, &["--listen", "0.0.0.0:0", "--tokens", &file]);
    assert!(with_tokens.addr.ip().is_unspecified());
}
