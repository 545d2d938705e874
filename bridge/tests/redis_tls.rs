//! Towards Redis over TLS: `rediss://` against a real `redis-server
//! --tls-port` whose certificates are made here (a test CA signing the
//! server's and the bridge's client certificate), the bridge's own ACL user
//! and database from the URL, the connect and command timeouts against a
//! stalled Redis, and a CA that did not sign Redis's refused at start.

mod common;

use std::time::{Duration, Instant};

use common::*;
use resp::Frame;

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn rediss_with_the_test_ca_logs_in_as_the_url_user_on_its_database() {
    let pki = Pki::new();
    let (redis, tls_port) = pki.redis();
    let args = pki.bridge_args(tls_port, "ca.pem");
    let bridge = Bridge::start(&strs(&args));

    let mut ws = connect(&bridge.url("/")).await;
    round_trip(&mut ws, PING, PONG).await;
    round_trip(&mut ws, &command(&["SET", "over-tls", "yes"]), b"+OK\r\n").await;
    // The SET landed in database 1, from a connection of the URL's user.
    let mut admin = redis.connect().await;
    assert_eq!(
        admin.call(&["SELECT", "1"]).await,
        Frame::Simple("OK".into())
    );
    assert_eq!(
        admin.call(&["GET", "over-tls"]).await,
        Frame::Bulk("yes".into())
    );
    let Frame::Bulk(clients) = admin.call(&["CLIENT", "LIST"]).await else {
        panic!("CLIENT LIST is a bulk string");
    };
    let clients = String::from_utf8_lossy(&clients);
    let relayed = clients
        .lines()
        .filter(|line| line.contains(" db=1 ") && line.contains(" user=bridge "));
    assert!(
        relayed.count() >= 1,
        "no bridge connection on db 1:\n{clients}"
    );
    // /readyz logs in the same way.
    assert_eq!(http_get(bridge.addr, "/readyz").await, (200, "ok".into()));
}

#[tokio::test]
async fn a_stalled_redis_meets_the_connect_and_command_timeouts() {
    let pki = Pki::new();
    let (redis, tls_port) = pki.redis();
    let timeouts = [
        "--redis-connect-timeout",
        "300ms",
        "--redis-command-timeout",
        "300ms",
    ];
    let mut args = pki.bridge_args(tls_port, "ca.pem");
    args.extend(timeouts.map(String::from));
    let over_tls = Bridge::start(&strs(&args));
    let plain_url = format!("redis://bridge:bridge-pw@{}", redis.addr);
    let plain = Bridge::start(&[&["--redis", plain_url.as_str()], &timeouts[..]].concat());

    // Stopped, Redis still gets connections accepted (by the kernel) but
    // never answers: the TLS handshake, then AUTH, wait for nothing.
    redis.signal("STOP");
    let started = Instant::now();
    let mut ws = connect(&over_tls.url("/")).await;
    assert_eq!(
        closed_with(&mut ws).await.0,
        1011,
        "the TLS handshake timed out"
    );
    assert_eq!(
        http_get(plain.addr, "/readyz").await.0,
        503,
        "AUTH timed out"
    );
    let took = started.elapsed();
    redis.signal("CONT");
    // Each wait ended at its 300 ms, not at the 5 s default.
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn a_ca_that_did_not_sign_redis_is_refused_at_start() {
    let pki = Pki::new();
    let (_redis, tls_port) = pki.redis();
    let args = pki.bridge_args(tls_port, "other-ca.pem");
    let stderr = refused_at_start(&strs(&args));
    assert!(
        stderr.contains("TLS to redis at rediss://bridge@localhost"),
        "{stderr}"
    );
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    assert!(
        !stderr.contains("bridge-pw"),
        "the password stays out of logs: {stderr}"
    );
}

#[test]
fn tls_settings_that_do_not_fit_are_refused_at_start() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    for (args, expected) in [
        (
            vec!["--redis", "rediss://localhost:1"],
            "rediss:// needs --redis-ca",
        ),
        (
            vec!["--redis", "redis://localhost:1", "--redis-ca", &ca],
            "need a rediss://",
        ),
        (
            vec![
                "--redis",
                "rediss://localhost:1",
                "--redis-ca",
                "/nonexistent.pem",
            ],
            "--redis-ca /nonexistent.pem",
        ),
        (
            vec!["--redis", "redis://u:p@localhost:1", "--redis-user", "v"],
            "give one of them",
        ),
        (
            vec!["--redis", "http://localhost:1"],
            "unknown scheme http://",
        ),
    ] {
        let stderr = refused_at_start(&args);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("secret"),
            "a password in an error: {stderr}"
        );
    }
}
