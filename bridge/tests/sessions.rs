//! Sessions end: `--max-session`, tokens revoked by a SIGHUP reload, and
//! the health probes (`/livez`, `/readyz` and its alias `/healthz`).

mod common;

use std::time::{Duration, Instant};

use common::*;
use resp::Frame;

const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
const PONG: &[u8] = b"+PONG\r\n";

#[tokio::test]
async fn a_session_closes_with_1001_after_max_session() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &["--max-session", "1s"]);
    let opened = Instant::now();
    let mut ws = connect(&bridge.url("/")).await;
    round_trip(&mut ws, PING, PONG).await;

    assert_eq!(closed_with(&mut ws).await, (1001, "session expired".into()));
    let lived = opened.elapsed();
    assert!(
        lived >= Duration::from_millis(950) && lived < Duration::from_secs(5),
        "closed after {lived:?}"
    );
    redis.wait_for_clients(1 + BRIDGE_OWN).await;

    // A new session starts afresh.
    let mut ws = connect(&bridge.url("/")).await;
    round_trip(&mut ws, PING, PONG).await;
}

#[tokio::test]
async fn a_token_removed_on_sighup_closes_its_sessions_with_1008() {
    let redis = RedisServer::with_users(&["alice", "bob"]).await;
    let dir = TempDir::new(&[]);
    let alice = token_entry("alice-token-0123456789", "alice", "alice-pw");
    let bob = token_entry("bob-token-0123456789", "bob", "bob-pw");
    let file = dir.write("tokens.toml", &format!("{alice}{bob}"));
    let bridge = Bridge::with_redis(&redis, &["--tokens", &file]);
    let mut alices = [
        connect_with_token(&bridge.url("/"), "alice-token-0123456789").await,
        connect_with_token(&bridge.url("/ws"), "alice-token-0123456789").await,
    ];
    let mut bobs = connect_with_token(&bridge.url("/"), "bob-token-0123456789").await;
    for ws in alices.iter_mut().chain([&mut bobs]) {
        round_trip(ws, PING, PONG).await;
    }

    // Alice's token goes; Bob's entry stays as it was.
    dir.write("tokens.toml", &bob);
    bridge.signal("HUP");
    for ws in &mut alices {
        assert_eq!(closed_with(ws).await, (1008, "token revoked".into()));
    }
    round_trip(&mut bobs, PING, PONG).await;
    let protocols = token_protocols("alice-token-0123456789");
    let again = Handshake {
        protocols: Some(&protocols),
        ..Handshake::default()
    };
    let error = again.connect(&bridge.url("/")).await.expect_err("revoked");
    assert_eq!(refused_status(error), 401);

    // A new password for Bob's user is a new entry: his session ends too.
    assert_eq!(
        redis
            .call(&["ACL", "SETUSER", "bob", "resetpass", ">bob-new"])
            .await,
        simple("OK")
    );
    dir.write(
        "tokens.toml",
        &token_entry("bob-token-0123456789", "bob", "bob-new"),
    );
    bridge.signal("HUP");
    assert_eq!(closed_with(&mut bobs).await, (1008, "token revoked".into()));
    let mut bobs = connect_with_token(&bridge.url("/"), "bob-token-0123456789").await;
    round_trip(&mut bobs, PING, PONG).await;
}

#[tokio::test]
async fn livez_asks_nothing_of_redis_and_readyz_follows_it() {
    let mut redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);

    for path in ["/livez", "/readyz", "/healthz"] {
        assert_eq!(
            http_get(bridge.addr, path).await,
            (200, "ok".into()),
            "{path}"
        );
    }
    redis.kill();
    assert_eq!(http_get(bridge.addr, "/livez").await, (200, "ok".into()));
    // A readiness answer is reused for up to a second.
    let deadline = Instant::now() + TIMEOUT;
    for path in ["/readyz", "/healthz"] {
        loop {
            let (status, body) = http_get(bridge.addr, path).await;
            if status == 503 {
                assert_eq!(body, "redis unavailable");
                break;
            }
            assert!(Instant::now() < deadline, "{path} still {status}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Probes need not know the public name.
    let (status, _) = http_get_from_host(bridge.addr, "/livez", "10.9.8.7:1").await;
    assert_eq!(status, 200);
}

/// How many PINGs Redis has run.
async fn pings(redis: &RedisServer) -> u64 {
    let Frame::Bulk(info) = redis.call(&["INFO", "commandstats"]).await else {
        panic!("INFO is a bulk string");
    };
    String::from_utf8_lossy(&info)
        .lines()
        .find_map(|line| line.strip_prefix("cmdstat_ping:calls="))
        .map(|rest| rest.split(',').next().unwrap_or_default().parse().unwrap())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_pings_redis_at_most_once_a_second_whatever_the_rate() {
    const PROBERS: usize = 8;
    const FOR: Duration = Duration::from_millis(2500);

    let redis = RedisServer::start();
    // The harness's own readiness PING (and any other) came before.
    let before = pings(&redis).await;
    let bridge = Bridge::with_redis(&redis, &[]);
    let started = Instant::now();
    let probers: Vec<_> = (0..PROBERS)
        .map(|_| {
            let addr = bridge.addr;
            tokio::spawn(async move {
                let mut probes = 0;
                while started.elapsed() < FOR {
                    assert_eq!(http_get(addr, "/readyz").await, (200, "ok".into()));
                    probes += 1;
                }
                probes
            })
        })
        .collect();
    let mut probes = 0;
    for prober in probers {
        probes += prober.await.expect("a prober panicked");
    }
    let took = started.elapsed();
    let pings = pings(&redis).await - before;
    eprintln!("{probes} probes in {took:?}: Redis ran {pings} PINGs");
    assert!(probes >= 100, "only {probes} probes");
    let most = took.as_secs() + 1;
    assert!((1..=most).contains(&pings), "{pings} PINGs in {took:?}");
}
